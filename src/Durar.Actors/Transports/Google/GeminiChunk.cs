using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// One Gemini <c>GenerateContentResponse</c>: a streamed chunk (one SSE event of <c>streamGenerateContent?alt=sse</c>) or a whole
/// answer, which have the same shape. Reduced to what the canonical events need: the first candidate's parts (text, thought
/// text, function calls with their thought signatures), its <c>finishReason</c>, a prompt blocked by
/// <c>promptFeedback.blockReason</c>, <c>usageMetadata</c>, and an <c>error</c> object sent in the stream's place. Cloud Code
/// Assist's envelope (<c>{"response": ...}</c>) is unwrapped.
/// </summary>
internal sealed class GeminiChunk
{
    public string? Malformed { get; private init; }
    public UpstreamFailure? Error { get; private init; }
    public List<GeminiPart> Parts { get; } = [];
    public string? FinishReason { get; private set; }
    public string? FinishMessage { get; private set; }
    public string? BlockReason { get; private set; }
    public string? BlockMessage { get; private set; }
    public GeminiUsage? Usage { get; private set; }
    public string? ModelVersion { get; private set; }

    /// <summary>One SSE event's data (a copy is parsed; the span is the framing's buffer).</summary>
    public static GeminiChunk Parse(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            using var doc = JsonDocument.ParseValue(ref reader);
            return From(doc.RootElement);
        }
        catch (Exception e) when (UpstreamErrors.IsMalformed(e))
        {
            return new GeminiChunk { Malformed = e.Message };
        }
    }

    /// <summary>A parsed response (or an array of them, as <c>streamGenerateContent</c> without SSE answers: their parts in order).</summary>
    public static GeminiChunk From(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array)
        {
            var merged = new GeminiChunk();
            foreach (var item in root.EnumerateArray()) merged.Add(From(item));
            return merged;
        }
        if (root.ValueKind != JsonValueKind.Object) return new GeminiChunk { Malformed = $"a {root.ValueKind} where a response object belongs" };
        // Cloud Code Assist wraps each response: {"response": {...}, "traceId": ...}.
        if (root.TryGetProperty("response", out var wrapped) && wrapped.ValueKind == JsonValueKind.Object) root = wrapped;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            return new GeminiChunk { Error = GeminiErrors.Failure(error, null) };
        var chunk = new GeminiChunk { ModelVersion = Str(root, "modelVersion") };
        if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0)
        {
            var candidate = candidates[0];
            chunk.FinishReason = Str(candidate, "finishReason");
            chunk.FinishMessage = Str(candidate, "finishMessage");
            if (candidate.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
                && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
                foreach (var part in parts.EnumerateArray())
                    if (GeminiPart.From(part) is { } p) chunk.Parts.Add(p);
        }
        if (root.TryGetProperty("promptFeedback", out var feedback) && feedback.ValueKind == JsonValueKind.Object)
        {
            chunk.BlockReason = Str(feedback, "blockReason");
            chunk.BlockMessage = Str(feedback, "blockReasonMessage");
        }
        if (root.TryGetProperty("usageMetadata", out var usage) && usage.ValueKind == JsonValueKind.Object) chunk.Usage = GeminiUsage.From(usage);
        return chunk;
    }

    private void Add(GeminiChunk later)
    {
        Parts.AddRange(later.Parts);
        FinishReason = later.FinishReason ?? FinishReason;
        FinishMessage = later.FinishMessage ?? FinishMessage;
        BlockReason = later.BlockReason ?? BlockReason;
        BlockMessage = later.BlockMessage ?? BlockMessage;
        Usage = later.Usage ?? Usage;
        ModelVersion = later.ModelVersion ?? ModelVersion;
    }

    /// <summary>
    /// The failure a blocked prompt is: a refusal (400 <c>content_policy_violation</c>, not failed over: another key or model of
    /// the same policy would block it too), naming Gemini's reason.
    /// </summary>
    public UpstreamFailure? Blocked(string? providerId) => BlockReason is { } reason && Parts.Count == 0
        ? new UpstreamFailure(400, $"Gemini blocked the prompt ({reason}){(BlockMessage is { } m ? ": " + m : "")}", "content_policy_violation",
            "invalid_request_error", providerId)
        : null;

    /// <summary>
    /// Gemini's <c>finishReason</c> as OpenAI's <c>finish_reason</c>: STOP → stop (tool_calls when the answer called functions);
    /// MAX_TOKENS → length; the safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY, ...) →
    /// content_filter; anything else → stop. A malformed or unexpected function call is no answer: a failure (null here).
    /// </summary>
    public static string? MapFinish(string reason, bool calledFunctions) => reason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT"
            or "IMAGE_RECITATION" => "content_filter",
        "MALFORMED_FUNCTION_CALL" or "UNEXPECTED_TOOL_CALL" or "TOO_MANY_TOOL_CALLS" => null,
        _ => calledFunctions ? "tool_calls" : "stop",
    };

    /// <summary>The failure of a finish reason <see cref="MapFinish"/> has no answer for (a 502: another attempt may do better).</summary>
    public UpstreamFailure FinishFailure(string? providerId) =>
        new(502, $"Gemini ended the answer with {FinishReason}{(FinishMessage is { } m ? ": " + m : "")}", FinishReason, null, providerId);

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>One part of a Gemini answer: text, thought text, or a function call (its arguments as JSON text).</summary>
internal sealed record GeminiPart(GeminiPartKind Kind, string Text, string? Name = null, string? CallId = null, string? Signature = null)
{
    public static GeminiPart? From(JsonElement part)
    {
        if (part.ValueKind != JsonValueKind.Object) return null;
        var signature = part.TryGetProperty("thoughtSignature", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (part.TryGetProperty("functionCall", out var call) && call.ValueKind == JsonValueKind.Object)
            return new GeminiPart(GeminiPartKind.FunctionCall,
                call.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object ? args.GetRawText() : "{}",
                call.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : "",
                call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
                signature);
        if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String) return null;
        var thought = part.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True;
        return new GeminiPart(thought ? GeminiPartKind.Thought : GeminiPartKind.Text, text.GetString()!, Signature: signature);
    }
}

internal enum GeminiPartKind : byte { Text, Thought, FunctionCall }

/// <summary>
/// Gemini's <c>usageMetadata</c> on the normalized buckets: <c>promptTokenCount</c> includes <c>cachedContentTokenCount</c> (so
/// fresh input is their difference, plus <c>toolUsePromptTokenCount</c>), and <c>candidatesTokenCount</c> excludes
/// <c>thoughtsTokenCount</c> (so output is their sum, reasoning the thoughts), as OpenAI counts them.
/// </summary>
internal readonly record struct GeminiUsage(long Prompt, long Candidates, long Cached, long Thoughts, long ToolUsePrompt)
{
    public TokenUsage ToTokenUsage() =>
        new(Math.Max(0, Prompt + ToolUsePrompt - Cached), Candidates + Thoughts, Cached) { Reasoning = Thoughts };

    public static GeminiUsage From(JsonElement u) =>
        new(Long(u, "promptTokenCount"), Long(u, "candidatesTokenCount"), Long(u, "cachedContentTokenCount"), Long(u, "thoughtsTokenCount"),
            Long(u, "toolUsePromptTokenCount"));

    private static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;
}
