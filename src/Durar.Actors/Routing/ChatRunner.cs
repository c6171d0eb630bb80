using System.Collections.Immutable;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Routing;

/// <summary>
/// Runs one chat request over its candidate chain. It is the edge between HTTP and the actors: it leases keys from the
/// provider actors (an Ask, allowed at the edge), calls the transport itself so tokens never pass through an actor mailbox,
/// streams them through Akka.Streams, and reports every attempt's outcome back to the key actor with a Tell.
/// Rate limits rotate to the provider's next key at once; other failover reasons move to the next candidate.
/// </summary>
public sealed partial class ChatRunner(
    IActorRef providers,
    TransportRegistry transports,
    GatewaySettings gateway,
    IMaterializer materializer,
    ILogger<ChatRunner> logger)
{
    public async Task<RunResult<CompletionRun>> CompleteAsync(RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var attempts = ImmutableArray.CreateBuilder<AttemptRecord>();
        foreach (var candidate in plan.Candidates)
        {
            var transport = transports.Find(candidate.Provider.Api);
            if (transport is null)
            {
                attempts.Add(Unsupported(candidate));
                continue;
            }
            var tried = ImmutableHashSet<string>.Empty;
            while (true)
            {
                var lease = await LeaseAsync(candidate, tried, ct).ConfigureAwait(false);
                if (lease is NoKeyAvailable none)
                {
                    if (tried.IsEmpty) attempts.Add(new AttemptRecord(candidate.ToString(), null, none.Reason, none.Message, null));
                    break;
                }
                var key = (KeyLease)lease;
                tried = tried.Add(key.KeyId);
                try
                {
                    var completion = await transport.CompleteAsync(Call(candidate, key, request), ct).ConfigureAwait(false);
                    Report(key, candidate, new AttemptOutcome.Succeeded(UpstreamException.NoHints, completion.Usage));
                    return new CompletionRun(completion, candidate, attempts.Count + 1);
                }
                catch (UpstreamException e)
                {
                    var step = Fail(key, candidate, e, attempts);
                    if (step == Next.Stop) return Exhausted(attempts.ToImmutable());
                    if (step == Next.Candidate) break;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    Report(key, candidate, new AttemptOutcome.Cancelled());
                    throw;
                }
            }
        }
        return Exhausted(attempts.ToImmutable());
    }

    public async Task<RunResult<StreamingRun>> StreamAsync(RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var attempts = ImmutableArray.CreateBuilder<AttemptRecord>();
        foreach (var candidate in plan.Candidates)
        {
            var transport = transports.Find(candidate.Provider.Api);
            if (transport is null)
            {
                attempts.Add(Unsupported(candidate));
                continue;
            }
            var tried = ImmutableHashSet<string>.Empty;
            while (true)
            {
                var lease = await LeaseAsync(candidate, tried, ct).ConfigureAwait(false);
                if (lease is NoKeyAvailable none)
                {
                    if (tried.IsEmpty) attempts.Add(new AttemptRecord(candidate.ToString(), null, none.Reason, none.Message, null));
                    break;
                }
                var key = (KeyLease)lease;
                tried = tried.Add(key.KeyId);
                var call = Call(candidate, key, request);
                // Akka.Streams carries the tokens: the transport's async stream becomes a Source whose cancellation aborts the upstream call.
                var source = Source.From(() => transport.StreamAsync(call, CancellationToken.None));
                var events = source.RunAsAsyncEnumerable(materializer).GetAsyncEnumerator(ct);
                var head = new List<ChatEvent>(2);
                var hints = UpstreamException.NoHints;
                try
                {
                    // Hold back until the upstream produced real output: an error before that can still fail over.
                    while (await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        if (events.Current is StreamOpened opened) { hints = opened.Hints; continue; }
                        head.Add(events.Current);
                        break;
                    }
                    var outcome = new OutcomeReporter(this, key, candidate, hints);
                    return new StreamingRun(Continue(head, events, outcome), candidate, attempts.Count + 1);
                }
                catch (UpstreamException e)
                {
                    await events.DisposeAsync().ConfigureAwait(false);
                    var step = Fail(key, candidate, e, attempts);
                    if (step == Next.Stop) return Exhausted(attempts.ToImmutable());
                    if (step == Next.Candidate) break;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    await events.DisposeAsync().ConfigureAwait(false);
                    Report(key, candidate, new AttemptOutcome.Cancelled());
                    throw;
                }
            }
        }
        return Exhausted(attempts.ToImmutable());
    }

    private static async IAsyncEnumerable<ChatEvent> Continue(List<ChatEvent> head, IAsyncEnumerator<ChatEvent> events, OutcomeReporter outcome)
    {
        TokenUsage? usage = null;
        try
        {
            foreach (var e in head)
            {
                if (e is UsageReport u) usage = u.Usage;
                yield return e;
            }
            while (true)
            {
                bool more;
                try
                {
                    more = await events.MoveNextAsync().ConfigureAwait(false);
                }
                catch (UpstreamException e)
                {
                    outcome.Failed(e);
                    throw new UpstreamException(e.Failure, e.Hints, e) { BeforeOutput = false };
                }
                if (!more) break;
                if (events.Current is UsageReport u) usage = u.Usage;
                yield return events.Current;
            }
            outcome.Succeeded(usage);
        }
        finally
        {
            outcome.CancelledIfOpen();
            await events.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reports a committed stream's outcome exactly once.</summary>
    private sealed class OutcomeReporter(ChatRunner runner, KeyLease key, ResolvedModel model, RateLimitHints hints)
    {
        private bool _done;

        public void Succeeded(TokenUsage? usage) => Once(new AttemptOutcome.Succeeded(hints, usage));

        public void Failed(UpstreamException e)
        {
            var reason = FailureClassifier.Classify(e.Failure);
            Once(new AttemptOutcome.Failed(reason, e.Hints, e.Failure.Message ?? ""));
        }

        public void CancelledIfOpen() => Once(new AttemptOutcome.Cancelled());

        private void Once(AttemptOutcome outcome)
        {
            if (_done) return;
            _done = true;
            runner.Report(key, model, outcome);
        }
    }

    private enum Next { Key, Candidate, Stop }

    /// <summary>Classifies a failed attempt, reports it, and decides where the run goes next.</summary>
    private Next Fail(KeyLease key, ResolvedModel candidate, UpstreamException e, ImmutableArray<AttemptRecord>.Builder attempts)
    {
        var reason = FailureClassifier.Classify(e.Failure);
        Report(key, candidate, new AttemptOutcome.Failed(reason, e.Hints, e.Failure.Message ?? ""));
        attempts.Add(new AttemptRecord(candidate.ToString(), key.KeyId, reason, e.Failure.Message ?? reason.ToString(), e.Failure.Status));
        LogAttemptFailed(logger, candidate.ToString(), key.KeyId, reason.ToWireName(), e.Failure.Status);
        if (reason == FailoverReason.ContextOverflow || !FailoverReasons.IsFailover(reason)) return Next.Stop;
        return reason == FailoverReason.RateLimit || FailureClassifier.IsKeyRotationTrigger(e.Failure) ? Next.Key : Next.Candidate;
    }

    private async Task<LeaseResult> LeaseAsync(ResolvedModel candidate, ImmutableHashSet<string> tried, CancellationToken ct)
    {
        try
        {
            return await providers.Ask<LeaseResult>(new ProviderCommands.AcquireKey(candidate.Provider.Id, candidate.Model.Id, tried),
                gateway.AskTimeout, ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return new NoKeyAvailable(candidate.Provider.Id, $"Provider \"{candidate.Provider.Id}\" did not answer in time.", FailoverReason.Timeout, null);
        }
    }

    private UpstreamCall Call(ResolvedModel candidate, KeyLease key, ChatRequest request)
    {
        var idle = candidate.Provider.Local ? gateway.LocalIdleTimeout : gateway.CloudIdleTimeout;
        if (candidate.Provider.TimeoutSeconds is > 0 and var seconds && TimeSpan.FromSeconds(seconds) > idle)
            idle = TimeSpan.FromSeconds(seconds);
        return new UpstreamCall(candidate, key.Secret, request, idle);
    }

    private void Report(KeyLease key, ResolvedModel model, AttemptOutcome outcome) =>
        key.KeyActor.Tell(new KeyCommands.ReportOutcome(key.KeyId, model.Model.Id, outcome));

    private static AttemptRecord Unsupported(ResolvedModel candidate) =>
        new(candidate.ToString(), null, FailoverReason.Format,
            $"Provider \"{candidate.Provider.Id}\" uses api \"{candidate.Provider.Api}\", which this build has no transport for.", null);

    private static RunFailure Exhausted(ImmutableArray<AttemptRecord> attempts)
    {
        if (attempts.IsEmpty)
            return new RunFailure(502, "No candidate model could be tried.", "api_error", "no_candidates", null, attempts);
        var last = attempts[^1];
        var message = attempts.Length == 1
            ? last.Message
            : $"All models failed ({attempts.Length}): " + string.Join(" | ", attempts.Select(a => $"{a.Model}: {a.Message} ({a.Reason.ToWireName()})"));
        var (status, type) = last.Reason switch
        {
            FailoverReason.RateLimit => (429, "rate_limit_error"),
            FailoverReason.ContextOverflow => (400, "invalid_request_error"),
            FailoverReason.Format when last.Status is null => (501, "api_error"),
            FailoverReason.Format => (400, "invalid_request_error"),
            FailoverReason.ModelNotFound => (404, "not_found_error"),
            FailoverReason.Overloaded => (503, "api_error"),
            FailoverReason.Timeout when last.Status is null => (504, "api_error"),
            _ when last.KeyId is null && last.Reason == FailoverReason.Auth => (503, "api_error"),
            _ => (502, "api_error"),
        };
        if (last.Reason == FailoverReason.ContextOverflow)
            message = "Context overflow: prompt too large for the model. Try /reset (or /new) or use a model with a larger context window.";
        return new RunFailure(status, message, type, last.Reason.ToWireName(), null, attempts);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attempt on {Model} with key {KeyId} failed: {Reason} (status {Status})")]
    private static partial void LogAttemptFailed(ILogger logger, string model, string keyId, string reason, int? status);
}
