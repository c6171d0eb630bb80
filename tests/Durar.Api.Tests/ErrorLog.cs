using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests;

/// <summary>
/// The gateway's Akka error log events from the moment of <see cref="Start"/>: how a spec waits for a failure that has no other
/// observable sign (a journal write that failed inside a key actor) instead of sleeping until it has probably happened.
/// </summary>
internal sealed class ErrorLog : IDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _collector;
    private readonly ConcurrentQueue<string> _lines = new();

    private ErrorLog(ActorSystem system)
    {
        _system = system;
        _collector = system.ActorOf(Props.Create(() => new Collector(_lines)));
        system.EventStream.Subscribe(_collector, typeof(Error));
    }

    /// <summary>Subscribes to the gateway's error events (only those published from now on are seen).</summary>
    public static ErrorLog Start(GatewayHarness gw) => new(gw.Services.GetRequiredService<ActorSystem>());

    /// <summary>Waits until an error event's text (message and cause) contains every one of <paramref name="fragments"/>.</summary>
    public Task WaitForAsync(string what, params string[] fragments) =>
        Eventually.Until(() => _lines.Any(line => fragments.All(f => line.Contains(f, StringComparison.OrdinalIgnoreCase))), what,
            describe: () => _lines.IsEmpty ? "no error logged" : string.Join("\n", _lines));

    public void Dispose()
    {
        _system.EventStream.Unsubscribe(_collector);
        _system.Stop(_collector);
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<string> lines) => Receive<Error>(e => lines.Enqueue(e.ToString()));
    }
}
