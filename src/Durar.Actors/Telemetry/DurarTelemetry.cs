using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Durar.Actors.Providers;
using Durar.Actors.Sessions;

namespace Durar.Actors.Telemetry;

/// <summary>
/// Durar's one <see cref="ActivitySource"/> and one <see cref="Meter"/> (both named <see cref="TelemetryNames.Source"/>),
/// with every instrument the gateway records. It exists so the facts are recorded where they happen (the run in
/// <see cref="Routing.ChatRunner"/>, the key actors, the HTTP layer) against one set of names, and so an operator's
/// OpenTelemetry SDK (the gateway's, or an embedder's: <c>AddSource("Durar")</c>, <c>AddMeter("Durar")</c>) sees them all.
/// </summary>
/// <remarks>
/// The request path is benchmarked: callers check <see cref="Instrument.Enabled"/> (or <see cref="ActivitySource.HasListeners"/>)
/// before they build tags, tags go in a <see cref="TagList"/> (a struct: no allocation up to eight tags), and nothing here
/// locks. With no listener attached a request costs a few field reads. The observable gauges (key states, sessions,
/// cluster members) are read only when a collector asks, from the state the actors already publish.
/// The meter comes from the host's <see cref="IMeterFactory"/>, so two hosts in one process (tests, embedders) each own
/// their instruments and a disposed host leaves none behind.
/// </remarks>
internal sealed class DurarTelemetry
{
    private static readonly ConditionalWeakTable<ActorSystem, DurarTelemetry> BySystem = new();

    /// <summary>Spans of requests and attempts; a static source is the norm (listeners filter by name).</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryNames.Source, typeof(DurarTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Seconds: buckets from 5 ms (a cached answer) to 2 min (a long generation).</summary>
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly KeyLeaseBoard? _board;
    private volatile ActorSystem? _system;

    public DurarTelemetry(IMeterFactory meters, KeyLeaseBoard? board = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _board = board;
        Meter = meters.Create(new MeterOptions(TelemetryNames.Source) { Version = ActivitySource.Version });
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };

        Requests = Meter.CreateCounter<long>("durar.requests", "{request}",
            "HTTP requests the gateway answered, by route, method, status, requested model and outcome.");
        RequestDuration = Meter.CreateHistogram("durar.request.duration", "s",
            "Time from a request's arrival to the end of its answer (a stream's last byte), same attributes as durar.requests.", advice: seconds);
        TimeToFirstToken = Meter.CreateHistogram("gen_ai.server.time_to_first_token", "s",
            "Time from the start of a streamed run to its first output, failovers included.", advice: seconds);
        AttemptDuration = Meter.CreateHistogram("gen_ai.client.operation.duration", "s",
            "One upstream attempt, from its lease to its outcome (a stream's end); error.type = the failure reason.", advice: seconds);
        Tokens = Meter.CreateCounter<long>("durar.tokens", "{token}",
            "Tokens served, by provider, model, key and gen_ai.token.type (input, output, cache_read, cache_write).");
        Cost = Meter.CreateCounter<double>("durar.cost.usd", "{USD}", "Cost of the tokens served, in US dollars, by provider, model and key.");
        Failovers = Meter.CreateCounter<long>("durar.failovers", "{failover}",
            "Failed attempts after which the run moved on, by provider, model, reason and step (next_key, retry, next_model).");
        CooldownsStarted = Meter.CreateCounter<long>("durar.key.cooldowns", "{cooldown}",
            "Cooldowns and disables a key actor started, by provider, reason and kind (cooldown, model_cooldown, disabled).");
        DeadLetters = Meter.CreateCounter<long>("akka.dead_letters", "{message}",
            "Messages Akka could not deliver (dead letters, dropped, unhandled), by kind.");
        Meter.CreateObservableGauge("durar.keys", ObserveKeys, "{key}",
            "Keys per provider and state (ready, cooling, disabled, limited), as this node's provider actors last published them.");
        Meter.CreateObservableGauge("durar.sessions.resident", ObserveSessions, "{session}",
            "Session actors resident on this node (passivated sessions are not counted).");
        Meter.CreateObservableCounter("durar.sessions.evicted", () => SessionCount(static sweeper => sweeper.Evicted), "{session}",
            "Idle sessions passivated to make room for a new one (gateway.sessions.maxResident).");
        Meter.CreateObservableCounter("durar.sessions.refused", () => SessionCount(static sweeper => sweeper.Refused), "{session}",
            "New sessions refused (503 sessions_busy) because every session resident on the node was busy.");
        Meter.CreateObservableGauge("durar.cluster.members", ObserveMembers, "{member}", "Cluster members by status, as this node sees them.");
        Meter.CreateObservableGauge("durar.cluster.unreachable", ObserveUnreachable, "{member}",
            "Cluster members this node's failure detector marks unreachable.");
    }

    public Meter Meter { get; }

    public Counter<long> Requests { get; }
    public Histogram<double> RequestDuration { get; }
    public Histogram<double> TimeToFirstToken { get; }
    public Histogram<double> AttemptDuration { get; }
    public Counter<long> Tokens { get; }
    public Counter<double> Cost { get; }
    public Counter<long> Failovers { get; }
    public Counter<long> CooldownsStarted { get; }
    public Counter<long> DeadLetters { get; }

    /// <summary>
    /// Binds the telemetry to the actor system whose sessions and cluster the gauges read, and lets actors find it
    /// (<see cref="Of"/>). Called once by <c>WithDurarActors</c>.
    /// </summary>
    public void Attach(ActorSystem system)
    {
        _system = system;
        BySystem.AddOrUpdate(system, this);
    }

    /// <summary>The telemetry attached to <paramref name="system"/>, or null (an actor system without Durar's hosting: specs).</summary>
    public static DurarTelemetry? Of(ActorSystem system) => BySystem.TryGetValue(system, out var t) ? t : null;

    /// <summary>A key actor started a cooldown or disable (<see cref="CooldownStarts"/>).</summary>
    public void CooldownStarted(string provider, string kind, Resilience.FailoverReason reason)
    {
        if (!CooldownsStarted.Enabled) return;
        CooldownsStarted.Add(1, new TagList
        {
            { TelemetryNames.ProviderName, provider },
            { TelemetryNames.Reason, Resilience.FailoverReasons.ToWireName(reason) },
            { TelemetryNames.CooldownKind, kind },
        });
    }

    private IEnumerable<Measurement<int>> ObserveKeys()
    {
        if (_board is null) yield break;
        foreach (var (provider, state, count) in KeyStateCounts.Of(_board.PublishedKeys()))
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>(TelemetryNames.ProviderName, provider),
                new KeyValuePair<string, object?>(TelemetryNames.KeyState, state));
    }

    private IEnumerable<Measurement<long>> SessionCount(Func<SessionIdleSweeper, long> read)
    {
        if (_system is { } system && SessionIdleSweeper.Of(system) is { } sweeper) yield return new Measurement<long>(read(sweeper));
    }

    private IEnumerable<Measurement<int>> ObserveSessions()
    {
        if (_system is { } system) yield return new Measurement<int>(SessionIdleSweeper.Resident(system));
    }

    private IEnumerable<Measurement<int>> ObserveMembers()
    {
        if (_system is not { } system || !ShardedKeys.IsClustered(system)) yield break;
        foreach (var (status, count) in ClusterCounts.ByStatus(Akka.Cluster.Cluster.Get(system).State))
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>(TelemetryNames.MemberStatus, status));
    }

    private IEnumerable<Measurement<int>> ObserveUnreachable()
    {
        if (_system is { } system && ShardedKeys.IsClustered(system))
            yield return new Measurement<int>(Akka.Cluster.Cluster.Get(system).State.Unreachable.Count);
    }
}
