using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// What <c>GET /v1/sessions/{key}</c> says about a session's context (issue 18): the budget of the model its next turn
/// would use, the tokens of its last input and its compaction count. Kept beside the budget so the view and the run
/// compute the budget the same way.
/// </summary>
internal static class SessionContextView
{
    /// <summary><paramref name="view"/> with the context fields of <paramref name="state"/> filled in.</summary>
    public static SessionView Add(SessionView view, SessionState state, SessionServices services)
    {
        var target = SessionDirectives.TargetModel(new PendingTurnView(SessionOverrides.None, null), state, services);
        var budget = ContextBudget.For(target, null);
        return view with
        {
            CompactionCount = state.CompactionCount,
            ContextTokens = budget.Context,
            OutputCap = budget.OutputCap,
            InputBudget = budget.Input,
            Tokenizer = budget.Counter.Name,
            LastInputTokens = state.LastInputTokens,
        };
    }
}
