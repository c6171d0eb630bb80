using System.Collections.Immutable;
using System.Text.Json;

namespace Durar.Actors.Chat;

/// <summary>
/// The canonical chat request: what every wire can express and the run needs to decide on, plus the client's own body when
/// it came in the OpenAI chat-completions dialect (<see cref="Original"/>). A wire of the same family forwards that body
/// field for field with a short list of named edits, so unknown and future fields survive; every other wire translates the
/// typed fields and refuses, by name, what it cannot carry (/work/shared/design/wire-model.md). Routing, failover and
/// sessions never care which API a provider speaks.
/// </summary>
public sealed record ChatRequest : IDurarWireMessage
{
    public required ImmutableArray<ChatMessage> Messages { get; init; }
    /// <summary>OpenAI-shaped <c>tools</c> array (function tools), kept as JSON and re-shaped per transport.</summary>
    public JsonElement? Tools { get; init; }
    /// <summary><c>auto</c>, <c>none</c>, <c>required</c> or <c>{type:"function",function:{name}}</c>.</summary>
    public JsonElement? ToolChoice { get; init; }
    /// <summary><c>parallel_tool_calls</c>: false asks for at most one tool call per answer.</summary>
    public bool? ParallelToolCalls { get; init; }
    /// <summary><c>response_format</c>: <c>{type: text|json_object|json_schema, json_schema: {name, schema, strict}}</c>.</summary>
    public JsonElement? ResponseFormat { get; init; }
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public long? Seed { get; init; }
    public ImmutableArray<string> Stop { get; init; } = [];
    public string? User { get; init; }
    /// <summary><c>metadata</c>: the client's key/value object (Anthropic takes <c>user_id</c> from it).</summary>
    public JsonElement? Metadata { get; init; }
    /// <summary><c>n</c>: how many choices; null = one.</summary>
    public int? N { get; init; }
    /// <summary><c>logprobs</c> and <c>top_logprobs</c>.</summary>
    public bool? Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
    public bool Stream { get; init; }
    /// <summary>The client asked for a usage chunk (<c>stream_options.include_usage</c>). Upstream usage is always requested.</summary>
    public bool IncludeUsage { get; init; }
    /// <summary>OpenAI <c>reasoning_effort</c> (minimal, low, medium, high, ...), the client's own or a session's.</summary>
    public string? ReasoningEffort { get; init; }
    /// <summary>Anthropic extended thinking budget in tokens (from the session's thinking level); null = thinking off.</summary>
    public int? ThinkingBudgetTokens { get; init; }
    /// <summary>
    /// The client's own thinking budget in tokens (the Anthropic dialect's <c>thinking.budget_tokens</c>), beside
    /// <see cref="ReasoningEffort"/> (the nearest level, for wires that take a level): the Anthropic wire sends exactly this
    /// budget, and <see cref="MaxTokens"/> already includes it (Anthropic's rule). Null otherwise.
    /// </summary>
    public int? ReasoningBudgetTokens { get; init; }
    /// <summary>Fast mode: OpenAI <c>service_tier=priority</c>, Anthropic <c>service_tier=auto</c>; null = provider default.</summary>
    public bool? FastMode { get; init; }
    /// <summary>
    /// <c>/fast auto</c>: <see cref="FastMode"/> holds for upstream calls started before this time (the run's start plus
    /// <c>params.fastAutoOnSeconds</c>, 60 s by default); a retry or fallback started later goes without it (the run decides
    /// per call). Null = <see cref="FastMode"/> for every call.
    /// </summary>
    public DateTimeOffset? FastUntil { get; init; }
    /// <summary><c>service_tier</c> as the client set it; it wins over <see cref="FastMode"/>.</summary>
    public string? ServiceTier { get; init; }

    /// <summary>
    /// The client's body in the OpenAI chat-completions dialect, untouched; null when the request came another way (a session
    /// turn without a template, the in-process <c>IChatClient</c>).
    /// </summary>
    public JsonElement? Original { get; init; }

    /// <summary>
    /// The messages read from <see cref="Original"/>: while <see cref="Messages"/> is this same array, the original messages
    /// go upstream as written; a session that builds its own history replaces <see cref="Messages"/>.
    /// </summary>
    public ImmutableArray<ChatMessage> OriginalMessages { get; init; }

    /// <summary>
    /// Further body fields to send as written, by name (the in-process <c>IChatClient</c>'s additional properties). A wire
    /// that cannot carry one refuses it by name.
    /// </summary>
    public ImmutableDictionary<string, JsonElement> Extra { get; init; } = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>
    /// Fields of a Responses API body (the dialect of <c>POST /v1/responses</c>) that the neutral model has no counterpart
    /// for, by their path in that body (<c>truncation</c>, <c>prompt_cache_key</c>, <c>text.verbosity</c>, ...). The
    /// <c>openai-responses</c> wire sends them as written; no other wire can carry them, so the run skips such a candidate
    /// naming the first one (a 400 when no candidate can).
    /// </summary>
    public ImmutableDictionary<string, JsonElement> ResponsesOnly { get; init; } = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>
    /// The Responses dialect's <c>reasoning.summary</c> (auto, concise, detailed): sent by the <c>openai-responses</c> wire
    /// (else <c>auto</c> when reasoning is on); other wires answer the reasoning they get back as the summary, so they ignore it.
    /// </summary>
    public string? ReasoningSummary { get; init; }

    /// <summary>
    /// Continue the stream on the next key or candidate when the upstream breaks after output (<c>x-durar-continue</c>);
    /// null = the node's <c>gateway.failover.continueStreams</c>.
    /// </summary>
    public bool? ContinueStream { get; init; }

    /// <summary>
    /// The answer text already sent to the client when this request continues a broken stream: the upstream is asked to go on
    /// from exactly there (see <see cref="Routing.StreamContinuation"/>). Null for an ordinary request.
    /// </summary>
    public string? ContinueFrom { get; init; }

    /// <summary>True while the messages are still the client's own (<see cref="OriginalMessages"/>).</summary>
    public bool MessagesAreOriginal => Original is not null && !OriginalMessages.IsDefault && Messages == OriginalMessages;
}
