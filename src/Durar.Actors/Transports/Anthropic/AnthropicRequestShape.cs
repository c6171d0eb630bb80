using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// The decisions one Anthropic request is written from, made from the canonical request in one place so that the refusal
/// check and the writer cannot disagree: whether extended thinking is on and with which budget, the tool that carries a JSON
/// answer (<c>response_format</c>), and the user id.
/// </summary>
/// <remarks>
/// <para>
/// Thinking: the client's own <c>reasoning_effort</c> wins (by <see cref="ReasoningBudgets"/>, <c>none</c> = off), else the
/// session's level (<see cref="ChatRequest.ThinkingBudgetTokens"/>). Anthropic's thinking runs at temperature 1, top_p of at
/// least 0.95, no top_k, and never with a forced tool. A thinking level that only came from configuration gives way to what
/// the client set explicitly (a sampling value, a forced tool choice, a JSON answer); a client that asks for
/// <c>reasoning_effort</c> and one of those together gets a 400 naming the field (<see cref="Unsupported"/>).
/// </para>
/// <para>
/// JSON answers: one tool named after the client's schema (<c>json_object</c> for JSON mode, with a permissive object
/// schema) whose input is the answer, forced with <c>tool_choice: tool</c>, or with <c>any</c> when the client's own tools
/// may be called instead. A tool rather than a prefilled <c>{</c>: one code path for both formats, a tool input is always a
/// parsed JSON object (what JSON mode promises), and prefill is refused with thinking. When the client asked for thinking
/// too, the tool cannot be forced: it is offered (<c>auto</c>) with a system instruction to answer through it.
/// </para>
/// </remarks>
internal sealed class AnthropicRequestShape
{
    private AnthropicRequestShape(int? thinkingBudget, bool thinkingAsked, JsonAnswerTool? json, string? userId)
    {
        ThinkingBudget = thinkingBudget;
        ThinkingAsked = thinkingAsked;
        Json = json;
        UserId = userId;
    }

    /// <summary>The thinking budget to send; null = no thinking.</summary>
    public int? ThinkingBudget { get; }

    /// <summary>The client's own <c>reasoning_effort</c> asked for thinking (not a session or configured level).</summary>
    public bool ThinkingAsked { get; }

    /// <summary>The tool that carries a JSON answer; null for a text answer.</summary>
    public JsonAnswerTool? Json { get; }

    /// <summary><c>metadata.user_id</c>: the client's <c>metadata.user_id</c>, else <c>safety_identifier</c>, else <c>user</c>.</summary>
    public string? UserId { get; }

    public static AnthropicRequestShape For(ChatRequest r)
    {
        int? budget;
        var asked = false;
        if (r.ReasoningEffort is { } effort)
        {
            asked = !ReasoningBudgets.IsOff(effort);
            budget = asked ? r.ReasoningBudgetTokens ?? ReasoningBudgets.AnthropicBudgetTokens(effort) : null;
        }
        else budget = r.ThinkingBudgetTokens is { } configured && !ConfiguredThinkingYields(r) ? configured : null;
        return new AnthropicRequestShape(budget, asked, JsonAnswerTool.For(r, forced: budget is null), UserIdOf(r));
    }

    /// <summary>Combinations Anthropic rejects, and a JSON answer tool whose name a client tool already has.</summary>
    public static UnsupportedField? Unsupported(ChatRequest r, ResolvedModel target)
    {
        var shape = For(r);
        if (shape.ThinkingAsked)
        {
            const string thinking = "with reasoning_effort, Anthropic's extended thinking";
            if (shape.ThinkingBudget is null)
                return AnthropicFields.Refuse(target, "reasoning_effort", $"`reasoning_effort` = \"{r.ReasoningEffort}\" is not a reasoning level");
            if (r.Temperature is { } t && t != 1)
                return AnthropicFields.Refuse(target, "temperature", $"`temperature` = {t}: {thinking} runs at temperature 1");
            if (r.TopP is { } p && p < 0.95)
                return AnthropicFields.Refuse(target, "top_p", $"`top_p` = {p}: {thinking} needs top_p of at least 0.95");
            if (TopK(r) is not null)
                return AnthropicFields.Refuse(target, "top_k", $"`top_k`: {thinking} takes no top_k");
            if (ForcesTool(r))
                return AnthropicFields.Refuse(target, "tool_choice", $"`tool_choice`: {thinking} cannot be forced to call a tool");
        }
        if (shape.Json is { } json && r.Tools is { ValueKind: JsonValueKind.Array } tools
            && tools.EnumerateArray().Any(tool => tool.TryGetProperty("function", out var fn) && fn.TryGetProperty("name", out var n) && n.ValueEquals(json.Name)))
            return AnthropicFields.Refuse(target, "response_format.json_schema.name",
                $"`response_format.json_schema.name` \"{json.Name}\" is also the name of a tool: the answer is carried by a tool of that name");
        return null;
    }

    /// <summary>The client's <c>top_k</c> (Anthropic's own field, accepted as written); null when not set.</summary>
    public static JsonElement? TopK(ChatRequest r) => AnthropicFields.Field(r, "top_k") is { ValueKind: not JsonValueKind.Null } k ? k : null;

    /// <summary>A level from configuration gives way to what the client set explicitly and thinking cannot run with.</summary>
    private static bool ConfiguredThinkingYields(ChatRequest r) =>
        r.Temperature is { } t && t != 1 || r.TopP is < 0.95 || TopK(r) is not null || ForcesTool(r)
        || r.ResponseFormat is { } f && f.TryGetProperty("type", out var type) && !type.ValueEquals("text");

    private static bool ForcesTool(ChatRequest r) =>
        r.ToolChoice is { } c && (c.ValueKind == JsonValueKind.Object || c.ValueKind == JsonValueKind.String && c.ValueEquals("required"));

    private static string? UserIdOf(ChatRequest r)
    {
        if (r.Metadata is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("user_id", out var id) && id.ValueKind == JsonValueKind.String)
            return id.GetString();
        if (AnthropicFields.Field(r, "safety_identifier") is { ValueKind: JsonValueKind.String } safety) return safety.GetString();
        return r.User;
    }
}

/// <summary>
/// The tool that carries a JSON answer on the Anthropic wire (<c>response_format</c> json_schema or json_object): its name,
/// the schema of its input, and whether <c>tool_choice</c> forces it.
/// </summary>
/// <param name="Schema">The client's JSON schema; null for JSON mode (any object).</param>
internal sealed record JsonAnswerTool(string Name, JsonElement? Schema, string? Description, bool Strict, bool Forced)
{
    public const string JsonObjectName = "json_object";

    public static JsonAnswerTool? For(ChatRequest r, bool forced)
    {
        if (r.ResponseFormat is not { ValueKind: JsonValueKind.Object } format || !format.TryGetProperty("type", out var type)) return null;
        if (type.ValueEquals("json_object"))
            return new JsonAnswerTool(JsonObjectName, null, "Answer with one JSON object: the input of this tool is the answer.", false, forced);
        if (!type.ValueEquals("json_schema") || !format.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object) return null;
        var name = js.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "json_schema";
        var schema = js.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.Object ? s : (JsonElement?)null;
        var description = js.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        return new JsonAnswerTool(name, schema, description ?? "Answer with JSON: the input of this tool is the answer.",
            js.TryGetProperty("strict", out var strict) && strict.ValueKind == JsonValueKind.True, forced);
    }

    /// <summary>The system instruction that stands in for forcing the tool when thinking is on.</summary>
    public string Instruction => $"Give your final answer only by calling the tool `{Name}`: its input is the answer.";
}
