using Durar.Actors.Catalog;
using Durar.Actors.Models;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// How many tokens a session turn may send to a model (issue 18): the model's context (<c>contextTokens</c>, else
/// <c>contextWindow</c>, else 200,000) minus its output cap (the request's <c>max_tokens</c>, else the provider's
/// <c>maxTokens</c>, else the model's), and the counter that measures it. It exists so a turn is bounded before it is sent,
/// not refused by the upstream after it.
/// </summary>
/// <param name="Context">The model's context, in tokens.</param>
/// <param name="OutputCap">The tokens kept free for the answer.</param>
/// <param name="Input">The most a turn's input may count: <paramref name="Context"/> minus <paramref name="OutputCap"/>, but
/// never under a quarter of the context (a model whose output cap reaches its context still takes a prompt).</param>
/// <param name="Counter">How the input is counted for this model.</param>
internal sealed record ContextBudget(long Context, long OutputCap, long Input, TokenCounter Counter)
{
    /// <summary>The budget of <paramref name="model"/> for a request asking for <paramref name="maxTokens"/> output tokens (null = the model's cap).</summary>
    public static ContextBudget For(ResolvedModel? model, int? maxTokens)
    {
        var context = model?.Model.ContextTokens ?? model?.Model.ContextWindow ?? ModelDefinition.DefaultContextWindow;
        if (context <= 0) context = ModelDefinition.DefaultContextWindow;
        long cap = maxTokens ?? model?.Provider.MaxTokens ?? model?.Model.MaxTokens ?? ModelDefinition.DefaultMaxTokens;
        var input = Math.Max(context - Math.Max(0, cap), context / 4);
        return new ContextBudget(context, cap, input, TokenCounter.For(model));
    }
}
