using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Resilience;

namespace Durar.Actors.Chat;

/// <summary>A whole, non-streamed answer (its first choice, typed), and the upstream's own body when it has the OpenAI shape.</summary>
public sealed record ChatCompletion(string? Text, ImmutableArray<ToolCall> ToolCalls, string FinishReason, TokenUsage? Usage, string? UpstreamModel)
{
    /// <summary>The upstream's rate-limit headers on this answer (for pre-emptive cooldowns).</summary>
    internal RateLimitHints Hints { get; init; } = RateLimitHints.None;

    /// <summary>The first choice's reasoning (Anthropic thinking, <c>reasoning_content</c> of OpenAI-compatible servers).</summary>
    public string? Reasoning { get; init; }
    public string? ReasoningSignature { get; init; }
    /// <summary>Redacted reasoning blocks (Anthropic <c>redacted_thinking</c> data), opaque, in the order they came.</summary>
    public ImmutableArray<string> RedactedReasoning { get; init; } = [];
    public string? Refusal { get; init; }
    /// <summary>The client's stop sequence that ended the answer, when the upstream names it (Anthropic <c>stop_sequence</c>).</summary>
    public string? StopSequence { get; init; }

    /// <summary>
    /// The upstream's <c>chat.completion</c> object as it answered (every choice, logprobs, annotations, usage details,
    /// unknown fields): a client of the same dialect gets it back with only the model renamed. Null from other wires.
    /// </summary>
    /// <remarks>
    /// From a transport's <c>CompleteAsync</c> it is the parsed answer itself, not a copy (<see cref="RawDocument"/>): valid
    /// until <see cref="ReleaseRaw"/>.
    /// </remarks>
    public JsonElement? Raw { get; init; }

    /// <summary>
    /// The parsed upstream answer <see cref="Raw"/> lives in, when this completion owns it (its buffers are pooled): whoever
    /// is done with the completion gives them back with <see cref="ReleaseRaw"/>; one that is never released is only
    /// garbage collected. Copies made with <c>with</c> share it.
    /// </summary>
    internal JsonDocument? RawDocument { get; init; }

    /// <summary>Gives the parsed answer's buffers back (<see cref="RawDocument"/>); <see cref="Raw"/> is unusable afterwards.</summary>
    internal void ReleaseRaw() => RawDocument?.Dispose();

    /// <summary>This completion with a copy of <see cref="Raw"/> that stays valid after <see cref="ReleaseRaw"/>.</summary>
    internal ChatCompletion Detached() => RawDocument is null ? this : this with { Raw = Raw?.Clone(), RawDocument = null };

    /// <summary>Upstream response headers a client reads (request id, processing time, rate-limit state).</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
}

/// <summary>
/// The upstream response headers passed on to the client: the request id the SDKs expose, the processing time, the
/// <c>x-ratelimit-*</c> family and the like. Names as the upstream sent them (lower case).
/// </summary>
public sealed record UpstreamHeaders(ImmutableArray<KeyValuePair<string, string>> Values) : IDurarWireMessage
{
    public static readonly UpstreamHeaders None = new(ImmutableArray<KeyValuePair<string, string>>.Empty);
}
