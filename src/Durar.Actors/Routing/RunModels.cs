using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>
/// What one request may run on: the candidate models in order. A plan with one candidate is strict: only that model's
/// provider keys may be tried (an explicit model without fallbacks, or a user override).
/// </summary>
internal sealed record RunPlan(ImmutableArray<ResolvedModel> Candidates)
{
    public ResolvedModel Requested => Candidates[0];

    /// <summary>A session's pinned key (auth profile): tried first when it can serve (reference item 29).</summary>
    public string? PreferredKeyId { get; init; }

    /// <summary>What the run asks of its candidates: chat (the default) or embeddings; it words the run's errors.</summary>
    public ModelKind Kind { get; init; }
}

/// <summary>One attempt of a run, as listed in the exhaustion error and the structured log.</summary>
public sealed record AttemptRecord(string Model, string? KeyId, FailoverReason Reason, string Message, int? Status)
{
    /// <summary>The provider's own hint (Retry-After, reset headers) on this attempt.</summary>
    public TimeSpan? RetryAfter { get; init; }
    /// <summary>When the candidate's soonest key recovers, for candidates skipped because every key was cooling.</summary>
    public DateTimeOffset? RetryAfterAt { get; init; }
    /// <summary>The provider has no usable credential at all (not configured, or outside <c>auth.order</c>).</summary>
    public bool NoKeys { get; init; }
    /// <summary>The provider's own error <c>type</c>, <c>code</c> and <c>param</c>, when it answered with an error.</summary>
    public string? UpstreamType { get; init; }
    public string? UpstreamCode { get; init; }
    public string? UpstreamParam { get; init; }
    /// <summary>The error answer's headers a client reads (request id, rate-limit figures), when the provider answered.</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
    /// <summary>Time from the start of the run to the end of this attempt (the operator dashboard shows where a run's time went).</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>The field the candidate's wire cannot carry (<c>IChatTransport.Unsupported</c>): it was skipped before any upstream call, with no key.</summary>
    public string? Unsupported { get; init; }

    /// <summary>The reason as the exhaustion message names it.</summary>
    public string ReasonName => Unsupported is not null ? RunFailure.UnsupportedParameter : Reason.ToWireName();
}

/// <summary>Why a run produced no answer, already mapped to the HTTP shape the gateway returns.</summary>
/// <remarks>
/// When the answer is a client error the provider gave (a 4xx other than a rate limit), <see cref="Type"/>, <see cref="Code"/>
/// and <see cref="Param"/> are the provider's own, so a client sees what the provider said; <see cref="Reason"/> is always the
/// gateway's classification (sent as <c>x-durar-failure-reason</c>).
/// </remarks>
public sealed record RunFailure(
    int HttpStatus,
    string Message,
    string Type,
    string Code,
    TimeSpan? RetryAfter,
    ImmutableArray<AttemptRecord> Attempts)
{
    /// <summary>The <c>code</c> of a run no candidate could carry (a field refused before any upstream call).</summary>
    public const string UnsupportedParameter = UnsupportedField.Code;

    public int AttemptCount => Attempts.Length;

    /// <summary>The field the provider refused, or the first field no candidate's wire could carry, when there is one.</summary>
    public string? Param { get; init; }

    /// <summary>The gateway's failover reason for the last attempt (wire name), or the run's own code.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The last attempt's upstream headers a client reads (its request id above all), passed on with the error.</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
}

/// <summary>A successful non-streaming run.</summary>
internal sealed record CompletionRun(ChatCompletion Completion, ResolvedModel Model, int Attempts)
{
    public string? KeyId { get; init; }

    /// <summary>Fields the client set that the answering model's wire did not send (reported in <c>x-durar-dropped</c>).</summary>
    public ImmutableArray<string> Dropped { get; init; } = [];
    /// <summary>The attempts that failed before the one that answered, in order (empty when the first attempt answered).</summary>
    public ImmutableArray<AttemptRecord> Failures { get; init; } = [];
}

/// <summary>
/// A committed streaming run: the upstream produced output, so the client can be answered. <see cref="Events"/> yields the
/// whole stream (the buffered head, then the rest) and reports the outcome to the key actor when it ends.
/// </summary>
internal sealed record StreamingRun(IAsyncEnumerable<ChatEvent> Events, ResolvedModel Model, int Attempts)
{
    public string? KeyId { get; init; }

    /// <summary>Upstream response headers to pass on to the client.</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;

    /// <inheritdoc cref="CompletionRun.Dropped"/>
    public ImmutableArray<string> Dropped { get; init; } = [];
    /// <summary>The attempts that failed before the one that answered, in order (empty when the first attempt answered).</summary>
    public ImmutableArray<AttemptRecord> Failures { get; init; } = [];

    /// <summary>
    /// Releases a run whose answer will not be written (its response could not be started): the committed stream holds the
    /// open upstream response, its cancellation source and the key's outcome, which only its own enumeration releases. It
    /// is started (its first event is already buffered, so nothing is read from the network) and disposed at once, which
    /// closes the upstream call and reports the attempt as cancelled.
    /// </summary>
    public async ValueTask AbandonAsync()
    {
        var events = Events.GetAsyncEnumerator(CancellationToken.None);
        try
        {
            await events.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Being released: whatever the first step says, the dispose below still closes the call.
        }
        finally
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Either a value or a <see cref="RunFailure"/>; expected failures are values, not exceptions.</summary>
internal readonly record struct RunResult<T>(T? Value, RunFailure? Failure) where T : class
{
    public static implicit operator RunResult<T>(T value) => new(value, null);
    public static implicit operator RunResult<T>(RunFailure failure) => new(null, failure);
}
