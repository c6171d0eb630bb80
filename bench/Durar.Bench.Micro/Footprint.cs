using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Streams;

namespace Durar.Bench.Micro;

/// <summary>
/// <c>dotnet run -c Release --project bench/Durar.Bench.Micro -- footprint [N]</c>: the managed heap one idle actor
/// costs, for the building blocks of a resident session, so the per-session figure of bench/run.sh can be split up.
/// Creates N actors of each kind (each handles one message; persistent ones persist one event to the in-memory journal
/// and set a receive timeout, as SessionActor does), forces a full GC, and divides the heap growth by N.
/// </summary>
public static class Footprint
{
    public static int Run(int n)
    {
        Console.WriteLine($"heap bytes per idle actor, {n} actors each (full GC before and after)");
        Measure<BareUntyped>(n, "UntypedActor (no receive timeout)");
        Measure<UntypedWithTimeout>(n, "UntypedActor + receive timeout");
        Measure<PlainActor>(n, "ReceiveActor + receive timeout");
        Measure<UntypedPersistent>(n, "UntypedPersistentActor + 1 event + receive timeout");
        Measure<PersistentActor>(n, "ReceivePersistentActor + 1 event + receive timeout");
        Measure<PersistentWithMaterializer>(n, "ReceivePersistentActor + 1 event + receive timeout + Context.Materializer() (as SessionActor)");
        Console.WriteLine("(the in-memory journal keeps each persisted event on the heap too: a few hundred bytes of the persistent rows)");
        return 0;
    }

    private static void Measure<T>(int n, string label) where T : ActorBase, new()
    {
        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            """);
        using var system = ActorSystem.Create("footprint", config);
        var parent = system.ActorOf(Props.Create(() => new Parent()), "parent");
        // Warm-up: one actor of the kind, so type loading and journal start-up are not counted.
        parent.Ask<Done>(new SpawnImpl(1, "warm", Props.Create<T>()), TimeSpan.FromSeconds(60)).Wait();
        var before = Heap();
        parent.Ask<Done>(new SpawnImpl(n, "a", Props.Create<T>()), TimeSpan.FromMinutes(5)).Wait();
        var after = Heap();
        Console.WriteLine($"{(after - before) / (double)n,10:0} B  {label}");
        system.Terminate().Wait(TimeSpan.FromSeconds(30));
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(true);
    }

    public sealed record Hello(string Text);

    /// <summary>Creates the children, sends each one message, and answers Done when every child replied.</summary>
    private sealed class Parent : UntypedActor
    {
        private int _waiting;
        private IActorRef? _replyTo;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case ISpawn spawn:
                    _replyTo = Sender;
                    _waiting = spawn.Count;
                    for (var i = 0; i < spawn.Count; i++) Context.ActorOf(spawn.Props, $"{spawn.Prefix}-{i}").Tell(new Hello("hello bench"));
                    break;
                case Done:
                    if (--_waiting == 0) _replyTo!.Tell(Done.Instance);
                    break;
            }
        }
    }

    private interface ISpawn
    {
        int Count { get; }
        string Prefix { get; }
        Props Props { get; }
    }

    private sealed record SpawnImpl(int Count, string Prefix, Props Props) : ISpawn;

    private sealed class BareUntyped : UntypedActor
    {
        private string? _last;

        protected override void OnReceive(object message)
        {
            if (message is not Hello h) return;
            _last = h.Text;
            Sender.Tell(Done.Instance);
        }
    }

    private sealed class UntypedWithTimeout : UntypedActor
    {
        private string? _last;

        protected override void PreStart() => Context.SetReceiveTimeout(TimeSpan.FromMinutes(10));

        protected override void OnReceive(object message)
        {
            if (message is not Hello h) return;
            _last = h.Text;
            Sender.Tell(Done.Instance);
        }
    }

    private sealed class UntypedPersistent : UntypedPersistentActor
    {
        private readonly List<string> _events = [];

        public override string PersistenceId { get; } = "fpu-" + Context.Self.Path.Name;

        protected override void PreStart()
        {
            Context.SetReceiveTimeout(TimeSpan.FromMinutes(10));
            base.PreStart();
        }

        protected override void OnRecover(object message)
        {
            if (message is string e) _events.Add(e);
        }

        protected override void OnCommand(object message)
        {
            if (message is not Hello h) return;
            var replyTo = Sender;
            Persist(h.Text, e =>
            {
                _events.Add(e);
                replyTo.Tell(Done.Instance);
            });
        }
    }

    private sealed class PlainActor : ReceiveActor
    {
        private string? _last;

        public PlainActor()
        {
            Context.SetReceiveTimeout(TimeSpan.FromMinutes(10));
            Receive<Hello>(h =>
            {
                _last = h.Text;
                Sender.Tell(Done.Instance);
            });
        }
    }

    private class PersistentActor : ReceivePersistentActor
    {
        private readonly List<string> _events = [];

        public PersistentActor()
        {
            PersistenceId = "fp-" + Self.Path.Name;
            Recover<string>(e => _events.Add(e));
            Command<Hello>(h =>
            {
                var replyTo = Sender;
                Persist(h.Text, e =>
                {
                    _events.Add(e);
                    replyTo.Tell(Done.Instance);
                });
            });
        }

        public override string PersistenceId { get; }

        protected override void PreStart()
        {
            Context.SetReceiveTimeout(TimeSpan.FromMinutes(10));
            base.PreStart();
        }
    }

    private sealed class PersistentWithMaterializer : PersistentActor
    {
        private readonly IMaterializer _materializer;

        public PersistentWithMaterializer() => _materializer = Context.Materializer();

        public override string ToString() => _materializer.ToString() ?? "";
    }
}
