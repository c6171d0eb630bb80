using Durar.Actors.Chat;
using Durar.Actors.Configuration;

namespace Durar.Actors.Models;

/// <summary>What tokens cost at a model's prices (reference items 88–89): the catalog side of usage, used by the run and the sessions.</summary>
internal static class ModelPricing
{
    /// <summary>USD: Σ over input, output, cacheRead, cacheWrite of tokens × USD-per-1M / 1,000,000 (decimal math).</summary>
    public static decimal Cost(TokenUsage usage, ModelCost cost) =>
        (usage.Input * Price(cost.Input)
         + usage.Output * Price(cost.Output)
         + usage.CacheRead * Price(cost.CacheRead)
         + usage.CacheWrite * Price(cost.CacheWrite)) / 1_000_000m;

    /// <summary>The cost of <paramref name="usage"/> on <paramref name="model"/>; 0 when there is no usage.</summary>
    public static decimal Cost(TokenUsage? usage, ResolvedModel model) => usage is null ? 0m : Cost(usage, model.Model.Cost);

    private static decimal Price(double perMillion) =>
        double.IsFinite(perMillion) && perMillion > 0 ? (decimal)perMillion : 0m;
}
