using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Routing;

/// <summary>
/// One attempt of a run: one upstream call on <paramref name="candidate"/> through <paramref name="transport"/> with the
/// leased <paramref name="key"/>. It reports its own success (with usage and cost) through <see cref="RunLoop.Keys"/> and
/// throws <see cref="UpstreamException"/> on failure; the loop classifies the failure, reports it and decides what is next.
/// </summary>
/// <param name="attemptCt">Cancelled by the caller or when the failover budget is spent.</param>
/// <param name="attemptNumber">1 for the first attempt of the run, counting every key, retry and fallback.</param>
public delegate Task<T> RunAttempt<in TTransport, T>(ResolvedModel candidate, TTransport transport, KeyLease key, CancellationToken attemptCt,
    int attemptNumber);

/// <summary>
/// The run every kind of request shares (reference sections E, H, I): a request's candidate chain, keys leased from the
/// provider actors' published view (<see cref="KeyLeaseBoard"/>: no message for a plain key; an Ask only for what the actors
/// must decide: probes, OAuth and rpm keys, "no key" answers), rotation, retries, cooldown probes, the queue while cooling and
/// the failover budget, with every attempt's outcome reported to the key actor. What one attempt does is the caller's
/// (<see cref="RunAttempt{TTransport,T}"/>): a chat completion, a chat stream (<see cref="ChatRunner"/>), embeddings
/// (<see cref="EmbeddingRunner"/>). The attempt calls the transport itself, on the request's own task, so nothing passes
/// through an actor mailbox.
/// <list type="bullet">
/// <item>rate limit → the provider's next key at once (no sleep);</item>
/// <item>overloaded / server error / timeout → same-model retry with jittered backoff (1 s doubling to 30 s), bounded;</item>
/// <item>other failover reasons → the next candidate; context overflow and refusals stop the chain;</item>
/// <item>candidates whose keys are all cooling go after runnable ones and are then probed (throttled);</item>
/// <item>everything before the first output fits the failover budget (default 90 s), never retries × timeout.</item>
/// </list>
/// </summary>
public sealed partial class RunLoop(
    IActorRef providers,
    GatewaySettings gateway,
    ILogger logger,
    TimeProvider? time = null,
    KeyLeaseBoard? board = null)
{
    private readonly FailoverSettings _failover = gateway.Failover;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Leases and outcome reports: an attempt reports its success (usage, cost) here.</summary>
    public KeyLeaseClient Keys { get; } = new(providers, gateway.AskTimeout, board);

    /// <summary>The idle timeout of one upstream call to <paramref name="candidate"/>: cloud or local, extended by the provider's timeoutSeconds.</summary>
    public TimeSpan IdleTimeout(ResolvedModel candidate)
    {
        var idle = candidate.Provider.Local ? gateway.LocalIdleTimeout : gateway.CloudIdleTimeout;
        if (candidate.Provider.TimeoutSeconds is > 0 and var seconds && TimeSpan.FromSeconds(seconds) > idle)
            idle = TimeSpan.FromSeconds(seconds);
        return idle;
    }

    private enum Step { Succeeded, NextCandidate, Cooling, Stop }

    /// <summary>
    /// Runs <paramref name="attempt"/> over <paramref name="plan"/>: runnable candidates first in plan order, cooling ones probed
    /// after, then the optional queue while cooling, then exhaustion (a <see cref="RunFailure"/>, never an exception).
    /// </summary>
    /// <param name="transportFor">The transport of an API family for this kind of request; null = this build has none.</param>
    public async Task<RunResult<T>> RunAsync<TTransport, T>(RunPlan plan, Func<string, TTransport?> transportFor, RunAttempt<TTransport, T> attempt,
        CancellationToken ct)
        where TTransport : class
        where T : class
    {
        var run = new RunState(plan, _time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The budget runs on the runner's clock (virtual in specs), not CancelAfter's system timer.
        using var budgetTimer = _time.CreateTimer(CancelBudget, budget, _failover.Budget, Timeout.InfiniteTimeSpan);
        // queueWhenCooling: one bounded wait window for the whole request. A key's recovery time can move a little after the
        // wait starts (the node's provisional cooldown is replaced by the key actor's own, computed a moment later), so the
        // request may wait again inside the window rather than answer 429 a few milliseconds early.
        DateTimeOffset? queueDeadline = null;
        while (true)
        {
            List<ResolvedModel>? cooling = null;
            for (var i = 0; i < plan.Candidates.Length; i++)
            {
                var (step, value) = await TryCandidateAsync(run, plan.Candidates[i], i, ProbeMode.None, transportFor, attempt, budget.Token, ct).ConfigureAwait(false);
                if (step == Step.Succeeded) return value!;
                if (step == Step.Stop) return run.Exhausted();
                if (step == Step.Cooling) (cooling ??= []).Add(plan.Candidates[i]);
            }
            // Every runnable candidate failed: probe the cooling ones (at most one probe per provider per interval).
            foreach (var candidate in cooling ?? [])
            {
                var probe = candidate == plan.Requested ? ProbeMode.PrimaryMargin : ProbeMode.Throttled;
                var (step, value) = await TryCandidateAsync(run, candidate, plan.Candidates.IndexOf(candidate), probe, transportFor, attempt, budget.Token, ct)
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

    private static readonly TimeSpan MinQueuePause = TimeSpan.FromMilliseconds(10);

    private static void CancelBudget(object? budget)
    {
        try
        {
            ((CancellationTokenSource)budget!).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended while the timer was due.
        }
    }

    private async Task<(Step, T?)> TryCandidateAsync<TTransport, T>(RunState run, ResolvedModel candidate, int index, ProbeMode probe,
        Func<string, TTransport?> transportFor, RunAttempt<TTransport, T> attempt, CancellationToken budgetToken, CancellationToken ct)
        where TTransport : class
        where T : class
    {
        var transport = transportFor(candidate.Provider.Api);
        if (transport is null)
        {
            run.Add(new AttemptRecord(candidate.ToString(), null, FailoverReason.Format,
                $"Provider \"{candidate.Provider.Id}\" uses api \"{candidate.Provider.Api}\", which this build has no transport for.", null));
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

            try
            {
                var result = await attempt(candidate, transport, key, budgetToken, run.Attempts.Count + 1).ConfigureAwait(false);
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
                Keys.Report(key, candidate, new AttemptOutcome.Failed(reason, e.Hints, e.Failure.Message ?? ""));
                run.Add(new AttemptRecord(candidate.ToString(), key.KeyId, reason, e.Failure.Message ?? reason.ToWireName(), e.Failure.Status)
                    { RetryAfter = e.Hints.RetryAfter });
                if (reason == FailoverReason.ContextOverflow || !FailoverReasons.IsFailover(reason))
                {
                    LogStep(logger, candidate.ToString(), "(stop)", reason.ToWireName(), e.Failure.Message);
                    return (Step.Stop, null);
                }
                // Classified once: a rate limit always rotates; only the rarer reasons need the rotation rules' second look.
                if (reason == FailoverReason.RateLimit || (reason != FailoverReason.Overloaded && FailureClassifier.IsKeyRotationTrigger(e.Failure)))
                {
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
                        LogRetry(logger, candidate.ToString(), reason.ToWireName(), transientRetries, delay.TotalMilliseconds);
                        retryDelay = delay;
                        retryKey = key;
                        continue;
                    }
                }
                LogStep(logger, candidate.ToString(), laterCandidates ? run.Plan.Candidates[index + 1].ToString() : "(exhausted)", reason.ToWireName(), e.Failure.Message);
                return (Step.NextCandidate, null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                throw;
            }
            catch (OperationCanceledException) when (budgetToken.IsCancellationRequested)
            {
                Keys.Report(key, candidate, new AttemptOutcome.Cancelled());
                return BudgetSpent<T>(run, candidate, ct);
            }
        }
    }

    private (Step, T?) BudgetSpent<T>(RunState run, ResolvedModel candidate, CancellationToken ct) where T : class
    {
        ct.ThrowIfCancellationRequested();
        run.Add(new AttemptRecord(candidate.ToString(), null, FailoverReason.Timeout,
            $"LLM request timed out: the failover budget of {_failover.Budget.TotalSeconds:0} s was spent.", null));
        return (Step.Stop, null);
    }

    /// <summary>min(max, base·2^n) with jitter ×(0.5–1.5), floored by the provider's Retry-After.</summary>
    private TimeSpan BackoffDelay(int retry, TimeSpan? retryAfter)
    {
        var exp = Math.Min(_failover.RetryMaxDelay.TotalMilliseconds, _failover.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, retry));
        var jittered = TimeSpan.FromMilliseconds(exp * (0.5 + Random.Shared.NextDouble()));
        return retryAfter is { } ra && ra > jittered ? ra : jittered;
    }
}
