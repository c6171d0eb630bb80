namespace Durar.Actors.Chat;

/// <summary>
/// The one table from a reasoning level to Anthropic's <c>thinking.budget_tokens</c>, shared by the session's
/// <c>/think</c> levels (<see cref="Sessions.EffectiveSettings.ToAnthropicBudgetTokens"/>) and a client's own
/// <c>reasoning_effort</c> on the <c>anthropic-messages</c> wire, so the two can never disagree. Keys are the lower-case level
/// names, which are also OpenAI's <c>reasoning_effort</c> values where the two overlap (minimal, low, medium, high, xhigh).
/// </summary>
/// <remarks>
/// These budgets are <b>our choice</b> (the reference names the levels, not token counts): minimal 1024 (Anthropic's
/// minimum), low 2048, medium and adaptive 8192, high 16384, xhigh 24576, max 32000, ultra 64000. <c>off</c> and OpenAI's
/// <c>none</c> mean no thinking.
/// </remarks>
internal static class ReasoningBudgets
{
    /// <summary>The budget for <paramref name="level"/>; null for off/none (thinking not enabled) and for a name not in the table.</summary>
    public static int? AnthropicBudgetTokens(string level) => level switch
    {
        "minimal" => 1024,
        "low" => 2048,
        "medium" or "adaptive" => 8192,
        "high" => 16384,
        "xhigh" => 24576,
        "max" => 32000,
        "ultra" => 64000,
        _ => null,
    };

    /// <summary>True for the names that turn thinking off (<c>off</c>, OpenAI's <c>none</c>).</summary>
    public static bool IsOff(string level) => level is "off" or "none";
}
