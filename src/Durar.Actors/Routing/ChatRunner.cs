using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Microsoft.Extensions.Logging;
using Durar.Actors.Chat;

namespace Durar.Actors.Routing;

/// <summary>
/// Runs one chat request, as a completion or a stream, over its candidate chain. The run itself (leases, rotation, retries,
/// cooldown probes, the failover budget, outcome reports) is the <see cref="RunLoop"/> every kind of request shares; this
/// class is only what one chat attempt does. A stream is handed to the caller as the transport's own async stream (no graph
/// materialized per request: Akka.Streams is for the session fan-out), held back until its first output so that an error
/// before it can still fail over, and committed after it.
/// </summary>
public sealed class ChatRunner
{
    private readonly RunLoop _run;
    private readonly Func<string, IChatTransport?> _transportFor;

    /// <summary>Chat over a shared <see cref="RunLoop"/> (the hosting wiring: chat and embeddings run the same loop).</summary>
    public ChatRunner(RunLoop run, TransportRegistry transports)
    {
        _run = run;
        _transportFor = transports.Find;
    }

    /// <summary>Chat with a run loop of its own.</summary>
    public ChatRunner(IActorRef providers, TransportRegistry transports, GatewaySettings gateway, ILogger<ChatRunner> logger,
        TimeProvider? time = null, KeyLeaseBoard? board = null)
        : this(new RunLoop(providers, gateway, logger, time, board), transports)
    {
    }

    public Task<RunResult<CompletionRun>> CompleteAsync(RunPlan plan, ChatRequest request, CancellationToken ct) =>
        _run.RunAsync<IChatTransport, CompletionRun>(plan, _transportFor, async (candidate, transport, key, attemptCt, attempts) =>
        {
            var completion = await transport.CompleteAsync(Call(candidate, key, request), attemptCt).ConfigureAwait(false);
            _run.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(completion.Hints, completion.Usage) { Cost = ModelPricing.Cost(completion.Usage, candidate) });
            return new CompletionRun(completion, candidate, attempts) { KeyId = key.KeyId };
        }, ct);

    public Task<RunResult<StreamingRun>> StreamAsync(RunPlan plan, ChatRequest request, CancellationToken ct) =>
        _run.RunAsync<IChatTransport, StreamingRun>(plan, _transportFor, async (candidate, transport, key, attemptCt, attempts) =>
        {
            // The transport's async stream is read directly, with no graph in between: it is pull-based, so the client's
            // writes pace the upstream reads (back-pressure), and cancelling its token aborts the upstream call. That token
            // follows the caller (client disconnect) for the whole stream, and the failover budget only until the first
            // output: a committed stream is never cut by the budget.
            var upstream = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var events = transport.StreamAsync(Call(candidate, key, request), upstream.Token).GetAsyncEnumerator(upstream.Token);
            ChatEvent? first = null;
            var hints = UpstreamException.NoHints;
            try
            {
                // Hold back until the upstream produced real output: an error before that can still fail over.
                using (attemptCt.Register(static u => ((CancellationTokenSource)u!).Cancel(), upstream))
                {
                    while (await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        if (events.Current is StreamOpened opened) { hints = opened.Hints; continue; }
                        first = events.Current;
                        break;
                    }
                }
                attemptCt.ThrowIfCancellationRequested();
            }
            catch
            {
                await events.DisposeAsync().ConfigureAwait(false);
                upstream.Dispose();
                throw;
            }
            return new StreamingRun(CommittedStream.Continue(first, events, upstream, new CommittedStream.OutcomeReporter(_run.Keys, key, candidate, hints)), candidate, attempts)
                { KeyId = key.KeyId };
        }, ct);

    private UpstreamCall Call(ResolvedModel candidate, KeyLease key, ChatRequest request) =>
        new(candidate, key.Secret, request, _run.IdleTimeout(candidate));

}
