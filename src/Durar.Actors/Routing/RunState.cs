using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>The attempts of one run so far, and the exhaustion error they add up to.</summary>
internal sealed class RunState(RunPlan plan, TimeProvider time)
{
    private readonly long _started = time.GetTimestamp();

    // Created on the first failure: a run that succeeds at once allocates neither.
    private List<AttemptRecord>? _attempts;
    private List<(ResolvedModel Candidate, NoKeyAvailable Answer)>? _cooling;

    public RunPlan Plan { get; } = plan;

    /// <summary>The run's own limit when it is shorter than the failover budget (it then caps the budget); null otherwise.</summary>
    public RunDeadline? BudgetIsRunLimit { get; init; }

    /// <summary>When the run started, as a timestamp of its <see cref="TimeProvider"/> (for time to first token).</summary>
    public long Started => _started;
    public IReadOnlyList<AttemptRecord> Attempts => _attempts ?? (IReadOnlyList<AttemptRecord>)[];

    public void Add(AttemptRecord attempt) => (_attempts ??= []).Add(attempt with { Elapsed = time.GetElapsedTime(_started) });

    /// <summary>The failed attempts so far, for a run that then succeeded (no allocation when there were none).</summary>
    public ImmutableArray<AttemptRecord> Failures => _attempts is null ? [] : [.. _attempts];

    /// <summary>
    /// The field <paramref name="candidate"/>'s wire cannot carry (<paramref name="unsupported"/>, as its transport answered for
    /// this request), recorded once as an attempt that never reached the upstream; null when it can carry the whole request.
    /// </summary>
    public UnsupportedField? Unsupported(ResolvedModel candidate, UnsupportedField? unsupported)
    {
        if (unsupported is null) return null;
        var model = candidate.ToString();
        if (!Attempts.Any(a => a.Unsupported is not null && a.Model == model))
            Add(new AttemptRecord(model, null, FailoverReason.Format, unsupported.Message, 400) { Unsupported = unsupported.Param });
        return unsupported;
    }

    public void NoteCooling(ResolvedModel candidate, NoKeyAvailable answer)
    {
        _cooling ??= [];
        if (_cooling.Any(c => c.Candidate == candidate)) return;
        _cooling.Add((candidate, answer));
    }

    /// <summary>
    /// Every candidate that could serve is unavailable because of rate-limit cooldowns (no other kind of failure; candidates
    /// that cannot carry the request never could, so they do not count).
    /// </summary>
    public bool AllCooling =>
        _cooling is { Count: > 0 } && _cooling.All(c => c.Answer.Reason == FailoverReason.RateLimit)
        && Attempts.All(a => a.Unsupported is not null || a.Reason == FailoverReason.RateLimit);

    public DateTimeOffset? SoonestRecovery => _cooling?.Select(c => c.Answer.RetryAt).Where(t => t is not null).Min();

    public TimeSpan BudgetLeft(TimeSpan budget) => budget - time.GetElapsedTime(_started);

    public void ResetForRetry()
    {
        _cooling?.Clear();
        _attempts?.RemoveAll(a => a.Reason == FailoverReason.RateLimit);
    }

    /// <summary>
    /// The error for a run that produced nothing: one attempt → its own error; several → every attempt listed; every
    /// candidate rate-limited or cooling → 429 with <c>Retry-After</c> = the soonest recovery; no candidate able to carry the
    /// request → 400 <c>unsupported_parameter</c> naming the first candidate's field. Candidates skipped for a field they
    /// cannot carry are listed but do not decide the status when another candidate was tried.
    /// </summary>
    public RunFailure Exhausted()
    {
        var records = Attempts.ToList();
        foreach (var (candidate, answer) in _cooling ?? [])
            if (!records.Any(r => r.Model == candidate.ToString()))
                records.Add(new AttemptRecord(candidate.ToString(), null, answer.Reason, answer.Message, null) { RetryAfterAt = answer.RetryAt, Elapsed = time.GetElapsedTime(_started) });

        if (records.Count == 0)
            return new RunFailure(502, "No candidate model could be tried.", "api_error", "no_candidates", null, []) { Reason = "no_candidates" };

        var tried = records.Where(r => r.Unsupported is null).ToList();
        var message = records.Count == 1
            ? records[0].Message
            : (tried.Count == 0 ? $"No model can carry this request ({records.Count}): " : $"All models failed ({records.Count}): ")
              + string.Join(" | ", records.Select(a => $"{a.Model}: {a.Message} ({a.ReasonName})"));
        if (tried.Count == 0)
            return new RunFailure(400, message, "invalid_request_error", RunFailure.UnsupportedParameter, null, [.. records])
                { Param = records[0].Unsupported, Reason = RunFailure.UnsupportedParameter };
        var last = tried[^1];

        if (last.Reason == FailoverReason.ContextOverflow)
            return WithUpstream(new RunFailure(400, Plan.Kind == ModelKind.Embedding
                    ? $"Context overflow: an input is longer than the model takes ({last.Message}). Split it, or use a model with a larger input limit."
                    : "Context overflow: prompt too large for the model. Try /reset (or /new) or use a model with a larger context window.",
                "invalid_request_error", "context_overflow", null, [.. records]), last);

        var rateLimited = tried.All(r => r.Reason == FailoverReason.RateLimit);
        if (rateLimited)
        {
            var now = time.GetUtcNow();
            var soonest = tried.Select(r => r.RetryAfterAt ?? (r.RetryAfter is { } ra ? now + ra : (DateTimeOffset?)null)).Where(t => t is not null).Min();
            var retryAfter = soonest is { } s && s > now ? s - now : TimeSpan.FromSeconds(1);
            return new RunFailure(429, message, "rate_limit_error", "rate_limit", retryAfter, [.. records]) { Reason = "rate_limit" };
        }

        var (status, type) = last.Reason switch
        {
            FailoverReason.Format when last.Status is null && last.KeyId is null => (501, "api_error"),
            FailoverReason.Format or FailoverReason.NoErrorDetails when last.Status is 400 or 422 => (400, "invalid_request_error"),
            FailoverReason.ModelNotFound when last.Status is 404 => (404, "not_found_error"),
            FailoverReason.Refusal => (400, "invalid_request_error"),
            // No answer in time (an idle upstream, the failover budget, the run's limit): the gateway timed out.
            FailoverReason.Timeout when last.Status is null => (504, "api_error"),
            _ when last.NoKeys => (503, "api_error"),
            FailoverReason.Billing or FailoverReason.AuthPermanent or FailoverReason.Auth when last.KeyId is null => (503, "api_error"),
            _ => (502, "api_error"),
        };
        var code = last.NoKeys ? "no_api_keys" : last.Reason.ToWireName();
        return WithUpstream(new RunFailure(status, message, type, code, null, [.. records]), last);
    }

    /// <summary>
    /// A client error the provider gave (a 4xx other than a rate limit) keeps the provider's own type, code and param: the
    /// client sees what the provider said, and the gateway's reason goes beside it (<see cref="RunFailure.Reason"/>).
    /// </summary>
    private static RunFailure WithUpstream(RunFailure failure, AttemptRecord last)
    {
        failure = failure with { Reason = last.Reason.ToWireName(), Headers = last.Headers };
        if (last.Status is not (>= 400 and < 500) || last.Status == 429 || failure.HttpStatus is not (>= 400 and < 500)) return failure;
        return failure with
        {
            Type = last.UpstreamType ?? failure.Type,
            Code = last.UpstreamCode ?? failure.Code,
            Param = last.UpstreamParam,
        };
    }
}
