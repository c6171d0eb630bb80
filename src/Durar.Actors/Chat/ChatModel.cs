using System.Collections.Immutable;
using System.Text.Json;

namespace Durar.Actors.Chat;

/// <summary>
/// A provider-neutral chat request. The gateway's OpenAI-shaped input and every transport's upstream wire format map to and
/// from this one shape, so routing, failover and sessions never care which API a provider speaks.
/// </summary>
public sealed record ChatRequest : IDurarWireMessage
{
    public required ImmutableArray<ChatMessage> Messages { get; init; }
    /// <summary>OpenAI-shaped <c>tools</c> array (function tools), kept as JSON and re-shaped per transport.</summary>
    public JsonElement? Tools { get; init; }
    /// <summary><c>auto</c>, <c>none</c>, <c>required</c> or <c>{type:"function",function:{name}}</c>.</summary>
    public JsonElement? ToolChoice { get; init; }
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public long? Seed { get; init; }
    public ImmutableArray<string> Stop { get; init; } = [];
    public string? User { get; init; }
    public bool Stream { get; init; }
    /// <summary>The client asked for a usage chunk (<c>stream_options.include_usage</c>). Upstream usage is always requested.</summary>
    public bool IncludeUsage { get; init; }
    /// <summary>OpenAI <c>reasoning_effort</c> (minimal, low, medium, high, ...), when the client or a session asks for it.</summary>
    public string? ReasoningEffort { get; init; }
    /// <summary>Anthropic extended thinking budget in tokens (from the session's thinking level); null = thinking off.</summary>
    public int? ThinkingBudgetTokens { get; init; }
    /// <summary>Fast mode: OpenAI <c>service_tier=priority</c>, Anthropic <c>service_tier=auto</c>; null = provider default.</summary>
    public bool? FastMode { get; init; }
}

/// <summary>One conversation message. <see cref="Text"/> holds plain string content; <see cref="Parts"/> multi-part content.</summary>
public sealed record ChatMessage(string Role, string? Text) : IDurarWireMessage
{
    public ImmutableArray<ContentPart> Parts { get; init; } = [];
    public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];
    public string? ToolCallId { get; init; }
    public string? Name { get; init; }

    /// <summary>All text of the message, parts joined.</summary>
    public string AllText => Parts.IsDefaultOrEmpty ? Text ?? "" : string.Concat(Parts.Where(p => p.Type == "text").Select(p => p.Text));
}

/// <summary>A content part: <c>text</c> or <c>image_url</c> (a URL or a <c>data:</c> URI).</summary>
public sealed record ContentPart(string Type, string? Text = null, string? ImageUrl = null, string? Detail = null);

/// <summary>A complete tool call: id, function name and its JSON arguments as a string.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>Token usage in the normalized buckets the reference uses.</summary>
public sealed record TokenUsage(long Input, long Output, long CacheRead = 0, long CacheWrite = 0)
{
    public long Total => Input + Output;
    public static readonly TokenUsage Zero = new(0, 0);
    public TokenUsage Add(TokenUsage o) => new(Input + o.Input, Output + o.Output, CacheRead + o.CacheRead, CacheWrite + o.CacheWrite);
}

/// <summary>A whole, non-streamed answer.</summary>
public sealed record ChatCompletion(string? Text, ImmutableArray<ToolCall> ToolCalls, string FinishReason, TokenUsage? Usage, string? UpstreamModel)
{
    /// <summary>The upstream's rate-limit headers on this answer (for pre-emptive cooldowns).</summary>
    public Resilience.RateLimitHints Hints { get; init; } = Resilience.RateLimitHints.None;
}

/// <summary>
/// The provider-neutral event model every streaming transport produces: text deltas, tool-call deltas, usage and the finish
/// reason. Upstream failures are not events: the stream fails with an <see cref="Transports.UpstreamException"/>. Every event is an
/// <see cref="IDurarWireMessage"/>: a session streams them to the HTTP node through a SourceRef.
/// </summary>
public abstract record ChatEvent : IDurarWireMessage;

/// <summary>First event of every stream: the upstream accepted the request (headers received).</summary>
public sealed record StreamOpened(Resilience.RateLimitHints Hints) : ChatEvent;

public sealed record TextDelta(string Text) : ChatEvent;

/// <summary>A fragment of tool call <see cref="Index"/>; <see cref="Id"/> and <see cref="Name"/> arrive on its first fragment.</summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments) : ChatEvent;

public sealed record UsageReport(TokenUsage Usage) : ChatEvent;

/// <summary>The model finished: <c>stop</c>, <c>length</c>, <c>tool_calls</c> or <c>content_filter</c>.</summary>
public sealed record Finished(string Reason) : ChatEvent;
