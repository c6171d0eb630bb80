using Akka.Actor;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Telemetry;
using Durar.Actors.Transports;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Routing;

/// <summary>
/// Runs one chat request, as a completion or a stream, over its candidate chain. The run itself (leases, rotation, retries,
/// cooldown probes, the failover budget and the run's time limit, candidates whose wire cannot carry a field, telemetry,
/// outcome reports) is the <see cref="RunLoop"/> every kind of request shares; this class is only what one chat attempt does.
/// A stream is handed to the caller as the transport's own async stream (no graph materialized per request: Akka.Streams is
/// for the session fan-out), held back until its first output so that an error before it can still fail over, committed
/// after it, and continued on a break when the request asks for it (<see cref="StreamContinuation"/>).
/// </summary>
internal sealed class ChatRunner
{
    /// <summary>Chat's transports, and what a chat wire cannot carry (<see cref="IChatTransport.Unsupported"/>).</summary>
    private readonly RunWire<IChatTransport, ChatRequest> _wire;
    private readonly RunLoop _run;

    /// <summary>Chat over a shared <see cref="RunLoop"/> (the hosting wiring: chat and embeddings run the same loop).</summary>
    public ChatRunner(RunLoop run, TransportRegistry transports)
    {
        _run = run;
        // The Responses dialect's own fields reach only a Responses wire; every other one is skipped naming the field.
        _wire = new(transports.Find, static (transport, request, candidate) =>
            Transports.OpenAiResponses.ResponsesFields.NotCarried(transport, request, candidate) ?? transport.Unsupported(request, candidate));
    }

    /// <summary>Chat with a run loop of its own.</summary>
    /// <param name="runTimeoutSeconds">The whole run's limit (<c>agents.defaults.timeoutSeconds</c>); 0 = none.</param>
    public ChatRunner(IActorRef providers, TransportRegistry transports, GatewaySettings gateway, ILogger<ChatRunner> logger,
        TimeProvider? time = null, KeyLeaseBoard? board = null, int runTimeoutSeconds = 0, DurarTelemetry? telemetry = null)
        : this(new RunLoop(providers, gateway, logger, time, board, runTimeoutSeconds, telemetry), transports)
    {
    }

    public Task<RunResult<CompletionRun>> CompleteAsync(RunPlan plan, ChatRequest request, CancellationToken ct) =>
        _run.RunAsync(plan, request, _wire, _run.StartDeadline(), async (candidate, transport, key, attemptCt, run, trace) =>
        {
            var completion = await transport.CompleteAsync(Call(candidate, key, request), attemptCt).ConfigureAwait(false);
            var cost = ModelPricing.Cost(completion.Usage, candidate);
            _run.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(completion.Hints, completion.Usage) { Cost = cost });
            trace.Succeeded(completion.Usage, cost, completion.UpstreamModel);
            return new CompletionRun(completion, candidate, run.Attempts.Count + 1)
            {
                KeyId = key.KeyId,
                Dropped = transport.Dropped(request, candidate),
                Failures = run.Failures,
            };
        }, ct);

    /// <summary>
    /// A streamed run. With continuation on (<see cref="ChatRequest.ContinueStream"/>, else
    /// <c>gateway.failover.continueStreams</c>) a break after output goes on with the same plan (<see cref="StreamContinuation"/>).
    /// </summary>
    public async Task<RunResult<StreamingRun>> StreamAsync(RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var failover = _run.Failover;
        var deadline = _run.StartDeadline();
        var result = await StreamOnceAsync(plan, request, deadline, ct).ConfigureAwait(false);
        if (result.Value is not { } run || !(request.ContinueStream ?? failover.ContinueStreams) || failover.MaxContinuations == 0) return result;
        return run with
        {
            Events = StreamContinuation.Run(run, failover.MaxContinuations,
                (partial, token) => StreamOnceAsync(plan, request with { ContinueFrom = partial }, deadline, token), ct),
        };
    }

    private Task<RunResult<StreamingRun>> StreamOnceAsync(RunPlan plan, ChatRequest original, RunDeadline deadline, CancellationToken ct) =>
        _run.RunAsync(plan, original, _wire, deadline, async (candidate, transport, key, attemptCt, run, trace) =>
        {
            var request = StreamContinuation.RequestFor(candidate, original);
            // The transport's async stream is read directly, with no graph in between: it is pull-based, so the client's
            // writes pace the upstream reads (back-pressure), and cancelling its token aborts the upstream call. That token
            // follows the caller (client disconnect) for the whole stream, and the failover budget only until the first
            // output: a committed stream is never cut by the budget.
            var upstream = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var events = transport.StreamAsync(Call(candidate, key, request), upstream.Token).GetAsyncEnumerator(upstream.Token);
            ChatEvent? first = null;
            StreamMeta? meta = null;
            StreamOpened? opened = null;
            try
            {
                // Hold back until the upstream produced real output: an error before that can still fail over.
                using (attemptCt.Register(static u => ((CancellationTokenSource)u!).Cancel(), upstream))
                {
                    while (await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        // The upstream accepted the request, or said what the answer will carry: not output yet.
                        if (events.Current is StreamOpened o) { opened = o; continue; }
                        if (events.Current is StreamMeta m) { meta = m; continue; }
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
            trace.FirstOutput(run.Started, run.Plan.Requested);
            var reporter = new CommittedStream.OutcomeReporter(_run.Keys, key, candidate, opened?.Hints ?? UpstreamException.NoHints, trace);
            return new StreamingRun(CommittedStream.Continue(meta, first, events, upstream, reporter, deadline), candidate, run.Attempts.Count + 1)
            {
                KeyId = key.KeyId,
                Headers = opened?.Headers ?? UpstreamHeaders.None,
                Dropped = transport.Dropped(request, candidate),
                Failures = run.Failures,
            };
        }, ct);

    private UpstreamCall Call(ResolvedModel candidate, KeyLease key, ChatRequest request) =>
        new(candidate, key.Secret, AtCallTime(request, _run.Now), _run.IdleTimeout(candidate));

    /// <summary>
    /// The request as a call started at <paramref name="now"/> sends it: past <see cref="ChatRequest.FastUntil"/> (the
    /// <c>/fast auto</c> window) without fast mode, so the provider's default tier applies.
    /// </summary>
    internal static ChatRequest AtCallTime(ChatRequest request, DateTimeOffset now) =>
        request.FastUntil is { } until && now >= until ? request with { FastMode = null, FastUntil = null } : request;
}
