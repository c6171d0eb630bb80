using System.Collections.Immutable;

namespace Durar.Actors.Chat;

/// <summary>One conversation message. <see cref="Text"/> holds plain string content; <see cref="Parts"/> multi-part content.</summary>
public sealed record ChatMessage(string Role, string? Text) : IDurarWireMessage
{
    public ImmutableArray<ContentPart> Parts { get; init; } = [];
    public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];
    public string? ToolCallId { get; init; }
    /// <summary>A tool message whose result is an error (Anthropic's <c>tool_result</c> <c>is_error</c>).</summary>
    public bool ToolError { get; init; }
    public string? Name { get; init; }
    /// <summary>An assistant message's refusal text (OpenAI <c>refusal</c>).</summary>
    public string? Refusal { get; init; }
    /// <summary>An assistant message's reasoning (Anthropic thinking), with the signature that lets it be sent back.</summary>
    public string? Reasoning { get; init; }
    public string? ReasoningSignature { get; init; }
    /// <summary>An assistant message's redacted reasoning (Anthropic <c>redacted_thinking</c> data), opaque, sent back as it came.</summary>
    public ImmutableArray<string> RedactedReasoning { get; init; } = [];

    /// <summary>All text of the message, parts joined.</summary>
    public string AllText => Parts.IsDefaultOrEmpty ? Text ?? "" : string.Concat(Parts.Where(p => p.Type == ContentPartTypes.Text).Select(p => p.Text));
}

/// <summary>The content part types of the OpenAI chat-completions API.</summary>
public static class ContentPartTypes
{
    public const string Text = "text";
    public const string ImageUrl = "image_url";
    public const string InputAudio = "input_audio";
    public const string File = "file";
    public const string Refusal = "refusal";
}

/// <summary>
/// A content part: <c>text</c>, <c>image_url</c> (a URL or a <c>data:</c> URI, with <see cref="Detail"/>), <c>input_audio</c>
/// (<see cref="Data"/> base64 with <see cref="Format"/> wav or mp3), <c>file</c> (<see cref="Data"/> as a <c>data:</c> URI or
/// base64, or <see cref="FileId"/>, with <see cref="FileName"/>) or <c>refusal</c> (<see cref="Text"/>).
/// </summary>
public sealed record ContentPart(string Type, string? Text = null, string? ImageUrl = null, string? Detail = null)
{
    public string? Data { get; init; }
    public string? Format { get; init; }
    public string? FileId { get; init; }
    public string? FileName { get; init; }
    /// <summary>The block's <c>cache_control</c> as the client wrote it (the Anthropic dialect); null when it set none.</summary>
    public System.Text.Json.JsonElement? CacheControl { get; init; }
}

/// <summary>A complete tool call: id, function name and its JSON arguments as a string.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);
