// Over 300 lines: the run loop is one algorithm (chain, candidate, attempt outcome); its budget and backoff are in RunLoop.Budget.cs.
using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Telemetry;
using Durar.Actors.Transports;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Routing;

/// <summary>
/// One attempt of a run: one upstream call on <paramref name="candidate"/> through <paramref name="transport"/> with the
/// leased <paramref name="key"/>. It reports its own success (with usage and cost) through <see cref="RunLoop.Keys"/> and on
/// <paramref name="trace"/>, and throws <see cref="UpstreamException"/> on failure; the loop classifies the failure, reports
/// it, ends the trace and decides what is next.
/// </summary>
/// <param name="attemptCt">Cancelled by the caller or when the failover budget is spent.</param>
/// <param name="run">The attempts that failed before this one (its answer carries them: <see cref="RunState.Failures"/>).</param>
/// <param name="trace">The attempt's span and clock; the attempt ends it on success.</param>
internal delegate Task<T> RunAttempt<in TTransport, T>(ResolvedModel candidate, TTransport transport, KeyLease key, CancellationToken attemptCt,
    RunState run, AttemptTelemetry trace);

/// <summary>
/// What a kind of request asks of the wires besides its attempt: the transport of an API family (null = this build has
/// none for this kind), and the first field of a request that transport cannot carry to a candidate (null = it carries it
/// all). Made once per runner; <see cref="Unsupported"/> is a static lambda, so a run allocates nothing for it.
/// </summary>
internal sealed record RunWire<TTransport, TRequest>(
    Func<string, TTransport?> Find,
    Func<TTransport, TRequest, ResolvedModel, UnsupportedField?> Unsupported)
    where TTransport : class;

/// <summary>
/// The run every kind of request shares (reference sections E, H, I): a request's candidate chain, keys leased from the
/// provider actors' published view (<see cref="KeyLeaseBoard"/>: no message for a plain key; an Ask only for what the actors
/// must decide: probes, OAuth and rpm keys, "no key" answers), rotation, retries, cooldown probes, the queue while cooling,
/// the failover budget and the run's own time limit, with every attempt's outcome reported to the key actor and traced
/// (<see cref="AttemptTelemetry"/>). What one attempt does is the caller's (<see cref="RunAttempt{TTransport,T}"/>): a chat
/// completion, a chat stream (<see cref="ChatRunner"/>), embeddings (<see cref="EmbeddingRunner"/>). The attempt calls the
/// transport itself, on the request's own task, so nothing passes through an actor mailbox.
/// <list type="bullet">
/// <item>rate limit → the provider's next key at once (no sleep);</item>
/// <item>overloaded / server error / timeout → same-model retry with jittered backoff (1 s doubling to 30 s), bounded;</item>
/// <item>other failover reasons → the next candidate; context overflow and refusals stop the chain;</item>
/// <item>a candidate whose wire cannot carry a field of the request is skipped before any key is leased (next candidate; 400
/// naming the field when none can carry it);</item>
/// <item>candidates whose keys are all cooling go after runnable ones and are then probed (throttled);</item>
/// <item>everything before the first output fits the failover budget (default 90 s), never retries × timeout.</item>
/// </list>
/// </summary>
/// <param name="runTimeoutSeconds">The whole run's limit (<c>agents.defaults.timeoutSeconds</c>); 0 = none.</param>
internal sealed partial class RunLoop(
    IActorRef providers,
    GatewaySettings gateway,
    ILogger logger,
    TimeProvider? time = null,
    KeyLeaseBoard? board = null,
    int runTimeoutSeconds = 0,
    DurarTelemetry? telemetry = null)
{
    private readonly FailoverSettings _failover = gateway.Failover;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Leases and outcome reports: an attempt reports its success (usage, cost) here.</summary>
    public KeyLeaseClient Keys { get; } = new(providers, gateway.AskTimeout, board);

    /// <summary>The failover settings the run follows (a streamed chat run reads its continuation settings here).</summary>
    public FailoverSettings Failover => _failover;

    /// <summary>The idle timeout of one upstream call to <paramref name="candidate"/>: cloud or local, extended by the provider's timeoutSeconds.</summary>
    public TimeSpan IdleTimeout(ResolvedModel candidate)
    {
        var idle = candidate.Provider.Local ? gateway.LocalIdleTimeout : gateway.CloudIdleTimeout;
        if (candidate.Provider.TimeoutSeconds is > 0 and var seconds && TimeSpan.FromSeconds(seconds) > idle)
            idle = TimeSpan.FromSeconds(seconds);
        return idle;
    }

    /// <summary>
    /// Starts the run's own time limit now, on the loop's clock. A run that goes on in several passes (a continued stream)
    /// starts it once and hands the same deadline to each.
    /// </summary>
    public RunDeadline StartDeadline() => RunDeadline.Start(_time, runTimeoutSeconds);

    /// <summary>The run's clock (the host's, or a test's virtual one).</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    private enum Step { Succeeded, NextCandidate, Cooling, Stop }

    /// <summary>
    /// Runs <paramref name="attempt"/> over <paramref name="plan"/>: runnable candidates first in plan order, cooling ones probed
    /// after, then the optional queue while cooling, then exhaustion (a <see cref="RunFailure"/>, never an exception). A run
    /// inside a span (the HTTP request's) adds its attempts to it; a run outside any (a session turn on its actor, an
    /// embedder's <c>IChatClient</c> or <c>IEmbeddingGenerator</c> call) opens its own when traced, so its attempts share one trace.
    /// </summary>
    /// <param name="wire">How this kind of request finds its transports and what they cannot carry.</param>
    /// <param name="deadline">The run's own limit (<see cref="StartDeadline"/>): it caps the failover budget.</param>
    public Task<RunResult<T>> RunAsync<TTransport, TRequest, T>(RunPlan plan, TRequest request, RunWire<TTransport, TRequest> wire,
        RunDeadline deadline, RunAttempt<TTransport, T> attempt, CancellationToken ct)
        where TTransport : class
        where T : class =>
        Activity.Current is null && DurarTelemetry.ActivitySource.HasListeners()
            ? RunInSpanAsync(plan, request, wire, deadline, attempt, ct)
            : RunChainAsync(plan, request, wire, deadline, attempt, ct);

    private async Task<RunResult<T>> RunInSpanAsync<TTransport, TRequest, T>(RunPlan plan, TRequest request, RunWire<TTransport, TRequest> wire,
        RunDeadline deadline, RunAttempt<TTransport, T> attempt, CancellationToken ct)
        where TTransport : class
        where T : class
    {
        using var span = AttemptTelemetry.StartRun(plan);
        var result = await RunChainAsync(plan, request, wire, deadline, attempt, ct).ConfigureAwait(false);
        AttemptTelemetry.EndRun(span, result.Failure);
        return result;
    }

    /// <summary>The chain: runnable candidates first in plan order, cooling ones probed after, then exhaustion.</summary>
    private async Task<RunResult<T>> RunChainAsync<TTransport, TRequest, T>(RunPlan plan, TRequest request, RunWire<TTransport, TRequest> wire,
        RunDeadline deadline, RunAttempt<TTransport, T> attempt, CancellationToken ct)
        where TTransport : class
        where T : class
    {
        var run = new RunState(plan, _time) { BudgetIsRunLimit = deadline.Left < _failover.Budget ? deadline : null };
        // The budget runs on the runner's clock (virtual in specs), not CancelAfter's system timer; the run's own time limit
        // (agents.defaults.timeoutSeconds) caps it. One pooled source and timer (RunBudget), not a linked source and a timer per run.
        var budgetSpan = deadline.Left < _failover.Budget ? deadline.Left : _failover.Budget;
        using var budget = RunBudget.Start(_time, budgetSpan, ct);
        // queueWhenCooling: one bounded wait window for the whole request. A key's recovery time can move a little after the
        // wait starts (the node's provisional cooldown is replaced by the key actor's own, computed a moment later), so the
        // request may wait again inside the window rather than answer 429 a few milliseconds early.
        DateTimeOffset? queueDeadline = null;
        while (true)
        {
            List<ResolvedModel>? cooling = null;
            for (var i = 0; i < plan.Candidates.Length; i++)
            {
                var (step, value) = await TryCandidateAsync(run, plan.Candidates[i], i, ProbeMode.None, request, wire, attempt, budget.Token, ct)
                    .ConfigureAwait(false);
                if (step == Step.Succeeded) return value!;
                if (step == Step.Stop) return run.Exhausted();
                if (step == Step.Cooling) (cooling ??= []).Add(plan.Candidates[i]);
            }
            // Every runnable candidate failed: probe the cooling ones (at most one probe per provider per interval).
            foreach (var candidate in cooling ?? [])
            {
                var probe = candidate == plan.Requested ? ProbeMode.PrimaryMargin : ProbeMode.Throttled;
                var (step, value) = await TryCandidateAsync(run, candidate, plan.Candidates.IndexOf(candidate), probe, request, wire, attempt, budget.Token, ct)
                    .ConfigureAwait(false);
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

    private async Task<(Step, T?)> TryCandidateAsync<TTransport, TRequest, T>(RunState run, ResolvedModel candidate, int index, ProbeMode probe,
        TRequest request, RunWire<TTransport, TRequest> wire, RunAttempt<TTransport, T> attempt, CancellationToken budgetToken, CancellationToken ct)
        where TTransport : class
        where T : class
    {
        var transport = wire.Find(candidate.Provider.Api);
        if (transport is null)
        {
            run.Add(new AttemptRecord(candidate.ToString(), null, FailoverReason.Format,
                $"Provider \"{candidate.Provider.Id}\" uses api \"{candidate.Provider.Api}\", which this build has no transport for.", null));
            return (Step.NextCandidate, null);
        }
        if (run.Unsupported(candidate, wire.Unsupported(transport, request, candidate)) is { } unsupported)
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
                var lease = await Keys.LeaseAsync(candidate, tried, probe, run.Plan.PreferredKeyId, ct).ConfigureAwait(false);
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

            var trace = AttemptTelemetry.Begin(telemetry, _time, run.Plan.Kind, candidate, key, run.Attempts.Count + 1);
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
                Keys.Report(key, candidate, new AttemptOutcome.Failed(FailureClassifier.KeyReason(e.Failure, reason), e.Hints, e.Failure.Message ?? ""));
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
                Keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                trace.Cancelled();
                throw;
            }
            catch (OperationCanceledException) when (budgetToken.IsCancellationRequested)
            {
                Keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                trace.Cancelled();
                return BudgetSpent<T>(run, candidate, ct);
            }
        }
    }
}
