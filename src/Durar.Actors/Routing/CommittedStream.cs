using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>
/// A streaming run after its first output: the client is answered from here on, so the stream is never failed over, and its
/// outcome (success with usage, a failure after output, or cancellation) is reported once, when it ends.
/// </summary>
internal static class CommittedStream
{
    /// <summary>
    /// The committed stream: what the upstream said about the answer before it (<paramref name="meta"/>), the first output
    /// event, then the rest of the upstream's. Reports the outcome once when it ends (success, a failure after output, or
    /// cancellation) and then releases the upstream call. A stream still running at <paramref name="deadline"/> (the run
    /// timeout, <c>agents.defaults.timeoutSeconds</c>) ends with a timeout failure: at its next event, or when the limit's
    /// timer cancels an upstream that sends nothing. The limit says nothing about the key (reported as cancelled).
    /// </summary>
    public static async IAsyncEnumerable<ChatEvent> Continue(ChatEvent? meta, ChatEvent? first, IAsyncEnumerator<ChatEvent> events,
        CancellationTokenSource upstream, OutcomeReporter outcome, RunDeadline deadline)
    {
        TokenUsage? usage = null;
        using var limit = first is null ? null : deadline.CancelAtLimit(upstream);
        try
        {
            if (first is not null)
            {
                if (meta is not null) yield return meta;
                if (first is UsageReport u0) usage = u0.Usage;
                yield return first;
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await events.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception e) when (limit?.Fired == true && e is not UpstreamException)
                    {
                        // Cancelled at the run's limit: the upstream's read ends as a cancellation (or an I/O error under it).
                        outcome.Cancelled();
                        throw deadline.Failure(outcome.ProviderId);
                    }
                    catch (UpstreamException e)
                    {
                        outcome.Failed(e);
                        throw new UpstreamException(e.Failure, e.Hints, e) { BeforeOutput = false };
                    }
                    if (!more) break;
                    if (deadline.Passed)
                    {
                        var timedOut = deadline.Failure(outcome.ProviderId);
                        outcome.Cancelled();
                        throw timedOut;
                    }
                    var current = events.Current;
                    if (current is UsageReport u) usage = u.Usage;
                    yield return current;
                }
            }
            outcome.Succeeded(usage);
        }
        finally
        {
            outcome.CancelledIfOpen();
            await events.DisposeAsync().ConfigureAwait(false);
            upstream.Dispose();
        }
    }

    /// <summary>Reports a committed stream's outcome exactly once.</summary>
    /// <remarks>The attempt's telemetry (its span and duration) ends with the same report.</remarks>
    internal sealed class OutcomeReporter(KeyLeaseClient keys, KeyLease key, ResolvedModel model, RateLimitHints hints, AttemptTelemetry trace)
    {
        private bool _done;

        public string ProviderId => model.Provider.Id;

        public void Succeeded(TokenUsage? usage)
        {
            var cost = ModelPricing.Cost(usage, model);
            if (Once(new AttemptOutcome.Succeeded(hints, usage) { Cost = cost })) trace.Succeeded(usage, cost, null);
        }

        public void Failed(UpstreamException e)
        {
            var reason = FailureClassifier.Classify(e.Failure);
            if (Once(new AttemptOutcome.Failed(FailureClassifier.KeyReason(e.Failure, reason), e.Hints, e.Failure.Message ?? ""))) trace.Failed(reason, e.Failure.Status, null, e.Failure.Message);
        }

        public void CancelledIfOpen()
        {
            if (Once(new AttemptOutcome.Cancelled())) trace.Cancelled();
        }

        /// <summary>Ended by the gateway (the run timeout): says nothing about the key.</summary>
        public void Cancelled() => CancelledIfOpen();

        private bool Once(AttemptOutcome outcome)
        {
            if (_done) return false;
            _done = true;
            keys.Report(key, model, outcome);
            return true;
        }
    }
}
