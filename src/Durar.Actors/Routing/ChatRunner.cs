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
using Durar.Actors.Telemetry;

namespace Durar.Actors.Routing;

/// <summary>
/// Runs one chat request over its candidate chain (reference sections E, H, I). It is the edge between HTTP and the actors:
/// it leases keys from the provider actors' published view (<see cref="KeyLeaseBoard"/>: no message for a plain key; an Ask
/// only for what the actors must decide — probes, OAuth and rpm keys, "no key" answers), calls the transport itself so tokens never pass
/// through an actor mailbox, hands a stream to the caller as the transport's own async stream (no graph materialized per
/// request: Akka.Streams is for the session fan-out), and reports every attempt's outcome to the key actor.
/// <list type="bullet">
/// <item>rate limit → the provider's next key at once (no sleep);</item>
/// <item>overloaded / server error / timeout → same-model retry with jittered backoff (1 s doubling to 30 s), bounded;</item>
/// <item>other failover reasons → the next candidate; context overflow and refusals stop the chain;</item>
/// <item>a candidate whose wire cannot carry a field of the request is skipped before any key is leased (next candidate; 400
/// naming the field when none can carry it);</item>
/// <item>candidates whose keys are all cooling go after runnable ones and are then probed (throttled);</item>
/// <item>everything before the first token fits the failover budget (default 90 s), never retries × timeout.</item>
/// </list>
/// </summary>
/// <param name="runTimeoutSeconds">The whole run's limit (<c>agents.defaults.timeoutSeconds</c>); 0 = none.</param>
internal sealed partial class ChatRunner(
    IActorRef providers,
    TransportRegistry transports,
    GatewaySettings gateway,
    ILogger<ChatRunner> logger,
    TimeProvider? time = null,
    KeyLeaseBoard? board = null,
    int runTimeoutSeconds = 0,
    DurarTelemetry? telemetry = null)
{
    private readonly FailoverSettings _failover = gateway.Failover;
    private readonly KeyLeaseClient _keys = new(providers, gateway.AskTimeout, board);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public Task<RunResult<CompletionRun>> CompleteAsync(RunPlan plan, ChatRequest request, CancellationToken ct) =>
        RunAsync<CompletionRun>(plan, request, RunDeadline.Start(_time, runTimeoutSeconds), ct, async (candidate, transport, key, attemptCt, run, trace) =>
        {
            var completion = await transport.CompleteAsync(Call(candidate, key, request), attemptCt).ConfigureAwait(false);
            var cost = ModelPricing.Cost(completion.Usage, candidate);
            _keys.Report(key, candidate, new AttemptOutcome.Succeeded(completion.Hints, completion.Usage) { Cost = cost });
            trace.Succeeded(completion.Usage, cost, completion.UpstreamModel);
            return new CompletionRun(completion, candidate, run.Attempts.Count + 1)
            {
                KeyId = key.KeyId,
                Dropped = transport.Dropped(request, candidate),
                Failures = run.Failures,
            };
        });

    /// <summary>
    /// A streamed run. With continuation on (<see cref="ChatRequest.ContinueStream"/>, else
    /// <c>gateway.failover.continueStreams</c>) a break after output goes on with the same plan (<see cref="StreamContinuation"/>).
    /// </summary>
    public async Task<RunResult<StreamingRun>> StreamAsync(RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var deadline = RunDeadline.Start(_time, runTimeoutSeconds);
        var result = await StreamOnceAsync(plan, request, deadline, ct).ConfigureAwait(false);
        if (result.Value is not { } run || !(request.ContinueStream ?? _failover.ContinueStreams) || _failover.MaxContinuations == 0) return result;
        return run with
        {
            Events = StreamContinuation.Run(run, _failover.MaxContinuations,
                (partial, token) => StreamOnceAsync(plan, request with { ContinueFrom = partial }, deadline, token), ct),
        };
    }

    private Task<RunResult<StreamingRun>> StreamOnceAsync(RunPlan plan, ChatRequest original, RunDeadline deadline, CancellationToken ct) =>
        RunAsync<StreamingRun>(plan, original, deadline, ct, async (candidate, transport, key, attemptCt, run, trace) =>
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
            var reporter = new CommittedStream.OutcomeReporter(_keys, key, candidate, opened?.Hints ?? UpstreamException.NoHints, trace);
            return new StreamingRun(CommittedStream.Continue(meta, first, events, upstream, reporter, deadline), candidate, run.Attempts.Count + 1)
            {
                KeyId = key.KeyId,
                Headers = opened?.Headers ?? UpstreamHeaders.None,
                Dropped = transport.Dropped(request, candidate),
                Failures = run.Failures,
            };
        });

    /// <summary>One attempt; <paramref name="run"/> holds the attempts that failed before it (its answer carries them).</summary>
    private delegate Task<T> Attempt<T>(ResolvedModel candidate, IChatTransport transport, KeyLease key, CancellationToken attemptCt, RunState run,
        AttemptTelemetry trace);

    private enum Step { Succeeded, NextCandidate, Cooling, Stop }

    /// <summary>
    /// A run inside a span (the HTTP request's) adds its attempts to it; a run outside any (a session turn on its actor, an
    /// embedder's <c>IChatClient</c> call) opens its own when traced, so its attempts share one trace.
    /// </summary>
    private Task<RunResult<T>> RunAsync<T>(RunPlan plan, ChatRequest request, RunDeadline deadline, CancellationToken ct, Attempt<T> attempt)
        where T : class =>
        Activity.Current is null && DurarTelemetry.ActivitySource.HasListeners()
            ? RunInSpanAsync(plan, request, deadline, ct, attempt)
            : RunChainAsync(plan, request, deadline, ct, attempt);

    private async Task<RunResult<T>> RunInSpanAsync<T>(RunPlan plan, ChatRequest request, RunDeadline deadline, CancellationToken ct, Attempt<T> attempt)
        where T : class
    {
        using var span = AttemptTelemetry.StartRun(plan);
        var result = await RunChainAsync(plan, request, deadline, ct, attempt).ConfigureAwait(false);
        AttemptTelemetry.EndRun(span, result.Failure);
        return result;
    }

    /// <summary>The chain: runnable candidates first in plan order, cooling ones probed after, then exhaustion.</summary>
    private async Task<RunResult<T>> RunChainAsync<T>(RunPlan plan, ChatRequest request, RunDeadline deadline, CancellationToken ct, Attempt<T> attempt)
        where T : class
    {
        var run = new RunState(plan, _time, request) { BudgetIsRunLimit = deadline.Left < _failover.Budget ? deadline : null };
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The budget runs on the runner's clock (virtual in specs), not CancelAfter's system timer; the run's own time limit
        // (agents.defaults.timeoutSeconds) caps it.
        var budgetSpan = deadline.Left < _failover.Budget ? deadline.Left : _failover.Budget;
        using var budgetTimer = _time.CreateTimer(CancelBudget, budget, budgetSpan, Timeout.InfiniteTimeSpan);
        // queueWhenCooling: one bounded wait window for the whole request. A key's recovery time can move a little after the
        // wait starts (the node's provisional cooldown is replaced by the key actor's own, computed a moment later), so the
        // request may wait again inside the window rather than answer 429 a few milliseconds early.
        DateTimeOffset? queueDeadline = null;
        while (true)
        {
            List<ResolvedModel>? cooling = null;
            for (var i = 0; i < plan.Candidates.Length; i++)
            {
                var (step, value) = await TryCandidateAsync(run, plan.Candidates[i], i, ProbeMode.None, attempt, budget.Token, ct).ConfigureAwait(false);
                if (step == Step.Succeeded) return value!;
                if (step == Step.Stop) return run.Exhausted();
                if (step == Step.Cooling) (cooling ??= []).Add(plan.Candidates[i]);
            }
            // Every runnable candidate failed: probe the cooling ones (at most one probe per provider per interval).
            foreach (var candidate in cooling ?? [])
            {
                var probe = candidate == plan.Requested ? ProbeMode.PrimaryMargin : ProbeMode.Throttled;
                var (step, value) = await TryCandidateAsync(run, candidate, plan.Candidates.IndexOf(candidate), probe, attempt, budget.Token, ct).ConfigureAwait(false);
                if (step == Step.Succeeded) return value!;
                if (step == Step.Stop) return run.Exhausted();
            }
            // Optionally wait for the first key to recover instead of answering 429 at once.
            if (_failover.QueueWhenCooling && run.AllCooling && run.SoonestRecovery is { } recovery)
            {
                var now = _time.GetUtcNow();
                var first = queueDeadline is null;
                queueDeadline ??= now + _failover.QueueMaxWait;
                // At least a short pause per round, so a recovery time already in the past cannot spin; bounded by the window.
                var wait = recovery - now < MinQueuePause ? MinQueuePause : recovery - now;
                if (now + wait <= queueDeadline && wait < run.BudgetLeft(_failover.Budget))
                {
                    if (first) LogQueued(logger, plan.Requested.ToString(), wait.TotalMilliseconds);
                    try
                    {
                        await Task.Delay(wait, _time, budget.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        return run.Exhausted();
                    }
                    run.ResetForRetry();
                    continue;
                }
            }
            return run.Exhausted();
        }
    }

    private async Task<(Step, T?)> TryCandidateAsync<T>(RunState run, ResolvedModel candidate, int index, ProbeMode probe, Attempt<T> attempt,
        CancellationToken budgetToken, CancellationToken ct) where T : class
    {
        var transport = transports.Find(candidate.Provider.Api);
        if (transport is null)
        {
            run.Add(new AttemptRecord(candidate.ToString(), null, FailoverReason.Format,
                $"Provider \"{candidate.Provider.Id}\" uses api \"{candidate.Provider.Api}\", which this build has no transport for.", null));
            return (Step.NextCandidate, null);
        }
        if (run.Unsupported(candidate, transport) is { } unsupported)
        {
            // Not an upstream failure: no key is leased or reported, no other key of this provider is tried.
            LogUnsupported(logger, candidate.ToString(), unsupported.Param);
            return (Step.NextCandidate, null);
        }
        var laterCandidates = index < run.Plan.Candidates.Length - 1;
        var tried = ImmutableHashSet<string>.Empty;
        var transientRetries = 0;
        KeyLease? retryKey = null;
        var retryDelay = TimeSpan.Zero;
        while (true)
        {
            if (retryDelay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(retryDelay, _time, budgetToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return BudgetSpent<T>(run, candidate, ct);
                }
                retryDelay = TimeSpan.Zero;
            }
            if (budgetToken.IsCancellationRequested) return BudgetSpent<T>(run, candidate, ct);
            KeyLease key;
            if (retryKey is not null)
            {
                key = retryKey; // a same-model transient retry reuses its key: no rotation for non-rate-limit errors
                retryKey = null;
            }
            else
            {
                var lease = await _keys.LeaseAsync(candidate, tried, probe, run.Plan.PreferredKeyId, ct).ConfigureAwait(false);
                if (lease is NoKeyAvailable none)
                {
                    if (!tried.IsEmpty) return (Step.NextCandidate, null); // every key of this provider was spent
                    if (none.Cooling)
                    {
                        run.NoteCooling(candidate, none);
                        return (probe == ProbeMode.None ? Step.Cooling : Step.NextCandidate, null);
                    }
                    run.Add(new AttemptRecord(candidate.ToString(), null, none.Reason, none.Message, null) { NoKeys = true });
                    return (Step.NextCandidate, null);
                }
                key = (KeyLease)lease;
            }

            var trace = AttemptTelemetry.Begin(telemetry, _time, candidate, key, run.Attempts.Count + 1);
            try
            {
                var result = await attempt(candidate, transport, key, budgetToken, run, trace).ConfigureAwait(false);
                if (run.Attempts.Count > 0)
                {
                    // A model fallback is news; another key or a retry of the same model is routine (the key actors log
                    // their own state changes), and at Information it would be two lines per request in a 429 storm.
                    if (candidate == run.Plan.Requested) LogAnsweredAfterRetry(logger, candidate.ToString(), run.Attempts.Count + 1);
                    else LogFallbackSucceeded(logger, run.Plan.Requested.ToString(), candidate.ToString(), run.Attempts.Count + 1);
                }
                return (Step.Succeeded, result);
            }
            catch (UpstreamException e)
            {
                tried = tried.Add(key.KeyId); // only a failed attempt's key matters to the next lease (no set on the happy path)
                var reason = FailureClassifier.Classify(e.Failure);
                _keys.Report(key, candidate, new AttemptOutcome.Failed(FailureClassifier.KeyReason(e.Failure, reason), e.Hints, e.Failure.Message ?? ""));
                run.Add(new AttemptRecord(candidate.ToString(), key.KeyId, reason, e.Failure.Message ?? reason.ToWireName(), e.Failure.Status)
                {
                    RetryAfter = e.Hints.RetryAfter,
                    UpstreamType = e.Failure.ErrorType,
                    UpstreamCode = e.Failure.Code,
                    UpstreamParam = e.Failure.Param,
                    Headers = e.Headers,
                });
                if (reason == FailoverReason.ContextOverflow || !FailoverReasons.IsFailover(reason))
                {
                    trace.Failed(reason, e.Failure.Status, TelemetryNames.Steps.Stop, e.Failure.Message);
                    LogStep(logger, candidate.ToString(), "(stop)", reason.ToWireName(), e.Failure.Message);
                    return (Step.Stop, null);
                }
                // Classified once: a rate limit always rotates; only the rarer reasons need the rotation rules' second look.
                if (reason == FailoverReason.RateLimit || (reason != FailoverReason.Overloaded && FailureClassifier.IsKeyRotationTrigger(e.Failure)))
                {
                    trace.Failed(reason, e.Failure.Status, TelemetryNames.Steps.NextKey, e.Failure.Message);
                    LogKeyRotation(logger, candidate.ToString(), key.KeyId, reason.ToWireName(), e.Failure.Message);
                    continue; // next key at once
                }
                if (FailoverReasons.IsTransient(reason))
                {
                    var allowed = laterCandidates ? _failover.TransientRetriesBeforeFallback : _failover.MaxTransientRetries;
                    var delay = BackoffDelay(transientRetries, e.Hints.RetryAfter);
                    // A Retry-After longer than the cap fails over instead of waiting.
                    var longWait = e.Hints.RetryAfter is { } ra && ra > _failover.MaxRetryAfter;
                    if (!longWait && transientRetries < allowed && delay < run.BudgetLeft(_failover.Budget))
                    {
                        transientRetries++;
                        trace.Failed(reason, e.Failure.Status, TelemetryNames.Steps.Retry, e.Failure.Message);
                        LogRetry(logger, candidate.ToString(), reason.ToWireName(), transientRetries, delay.TotalMilliseconds);
                        retryDelay = delay;
                        retryKey = key;
                        continue;
                    }
                }
                trace.Failed(reason, e.Failure.Status, laterCandidates ? TelemetryNames.Steps.NextModel : TelemetryNames.Steps.Exhausted, e.Failure.Message);
                LogStep(logger, candidate.ToString(), laterCandidates ? run.Plan.Candidates[index + 1].ToString() : "(exhausted)", reason.ToWireName(), e.Failure.Message);
                return (Step.NextCandidate, null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                _keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                trace.Cancelled();
                throw;
            }
            catch (OperationCanceledException) when (budgetToken.IsCancellationRequested)
            {
                _keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                trace.Cancelled();
                return BudgetSpent<T>(run, candidate, ct);
            }
        }
    }

    private UpstreamCall Call(ResolvedModel candidate, KeyLease key, ChatRequest request)
    {
        var idle = candidate.Provider.Local ? gateway.LocalIdleTimeout : gateway.CloudIdleTimeout;
        if (candidate.Provider.TimeoutSeconds is > 0 and var seconds && TimeSpan.FromSeconds(seconds) > idle)
            idle = TimeSpan.FromSeconds(seconds);
        return new UpstreamCall(candidate, key.Secret, request, idle);
    }

}
