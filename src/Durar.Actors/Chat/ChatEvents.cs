using System.Text.Json;
using System.Text.Json.Serialization;
using Durar.Actors.Resilience;

namespace Durar.Actors.Chat;

/// <summary>
/// The canonical event model every streaming transport produces and every dialect writes: text, reasoning and refusal
/// deltas, tool-call deltas, each with its choice index; logprobs and fields no event names, verbatim; usage; finish
/// reasons. Upstream failures are not events: the stream fails with an <see cref="Transports.UpstreamException"/>. Every
/// event is an <see cref="IDurarWireMessage"/>: a session streams them to the HTTP node through a SourceRef.
/// </summary>
public abstract record ChatEvent : IDurarWireMessage;

/// <summary>
/// First event of every upstream stream: the upstream accepted the request (headers received). Internal: the run reads it
/// (rate-limit hints, headers); a reader of a reply has nothing to do with it.
/// </summary>
internal sealed record StreamOpened(RateLimitHints Hints) : ChatEvent
{
    /// <summary>Response headers to pass on to the client.</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
}

/// <summary>
/// What the upstream's chunks say about the whole answer: its id, creation time, <c>system_fingerprint</c> and
/// <c>service_tier</c>, and top-level chunk fields no event names (verbatim). Sent when first seen and when they change.
/// </summary>
public sealed record StreamMeta(string? Id, long? Created, string? SystemFingerprint, string? ServiceTier) : ChatEvent
{
    /// <summary>Unknown top-level fields of the chunk that carried this, as a JSON object; null when there are none.</summary>
    public JsonElement? Extra { get; init; }
}

/// <summary>Answer text for choice <see cref="Choice"/>.</summary>
public sealed record TextDelta(string Text) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
    /// <summary>The chunk's <c>logprobs</c> for this text, verbatim; null when not asked for.</summary>
    public JsonElement? Logprobs { get; init; }
}

/// <summary>
/// Reasoning for choice <see cref="Choice"/> (Anthropic thinking, OpenAI-compatible <c>reasoning_content</c>/<c>reasoning</c>),
/// never mixed into the answer text. <see cref="Signature"/> completes a thinking block (Anthropic <c>signature_delta</c>);
/// <see cref="Redacted"/> carries a redacted block's opaque data instead of text.
/// </summary>
public sealed record ReasoningDelta(string Text) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
    public string? Signature { get; init; }
    public string? Redacted { get; init; }
}

/// <summary>Refusal text for choice <see cref="Choice"/> (OpenAI <c>refusal</c>).</summary>
public sealed record RefusalDelta(string Text) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
    public JsonElement? Logprobs { get; init; }
}

/// <summary>A fragment of tool call <see cref="Index"/>; <see cref="Id"/> and <see cref="Name"/> arrive on its first fragment.</summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
}

/// <summary>Fields of a choice's delta that no event names (e.g. <c>annotations</c>, <c>audio</c>), verbatim as a JSON object.</summary>
public sealed record DeltaExtra(JsonElement Fields) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
    /// <summary>Logprobs that came without text (e.g. beside a tool call), verbatim.</summary>
    public JsonElement? Logprobs { get; init; }

    /// <summary>Fields of the choice itself (beside <c>delta</c>) that no event names, verbatim as a JSON object.</summary>
    public JsonElement? ChoiceFields { get; init; }
}

/// <summary>Token usage; <see cref="Raw"/> is the upstream's own OpenAI-shaped usage object (all detail fields), when it has one.</summary>
public sealed record UsageReport(TokenUsage Usage) : ChatEvent
{
    public JsonElement? Raw { get; init; }
}

/// <summary>Choice <see cref="Choice"/> finished: <c>stop</c>, <c>length</c>, <c>tool_calls</c> or <c>content_filter</c>.</summary>
public sealed record Finished(string Reason) : ChatEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] // choice 0, every token: not written between nodes
    public int Choice { get; init; }
    /// <summary>The client's stop sequence that ended the answer, when the upstream names it (Anthropic <c>stop_sequence</c>).</summary>
    public string? StopSequence { get; init; }
}

/// <summary>
/// Last event of a stream the gateway continued (<c>gateway.failover.continueStreams</c>): the upstream broke after output
/// <see cref="Continuations"/> times, and each time the answer went on from where it stopped.
/// </summary>
public sealed record StreamContinued(System.Collections.Immutable.ImmutableArray<ContinuationPoint> Continuations) : ChatEvent;

/// <summary>One break of a continued stream: the model that broke, why, and how many characters of text had been sent.</summary>
public sealed record ContinuationPoint(string Model, string Reason, int AtChars, string ContinuedWith);
