using System.Globalization;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>The usage line <c>/usage tokens|full</c> appends to replies (reference item 78); costs come from <see cref="Models.ModelPricing"/>.</summary>
internal static class UsageLine
{
    private const string Sep = " · ";

    /// <summary>
    /// Off → null. Tokens → <c>Usage: 1,234 in · 56 out · 1,290 total</c>. Full → the tokens line, then
    /// <c> · cache R read / W write</c> when any cache tokens, <c> · $0.0123</c> when the cost is known, and <c> · model</c>.
    /// Null when there is no usage to show.
    /// </summary>
    public static string? Format(ResponseUsageMode mode, TokenUsage? usage, decimal? cost, string model)
    {
        if (mode == ResponseUsageMode.Off || usage is null) return null;
        var line = $"Usage: {N(usage.Input)} in{Sep}{N(usage.Output)} out{Sep}{N(usage.Total)} total";
        if (mode == ResponseUsageMode.Tokens) return line;
        if (usage.CacheRead + usage.CacheWrite > 0) line += $"{Sep}cache {N(usage.CacheRead)} read / {N(usage.CacheWrite)} write";
        if (cost is { } c) line += $"{Sep}${c.ToString("N4", CultureInfo.InvariantCulture)}";
        if (!string.IsNullOrWhiteSpace(model)) line += $"{Sep}{model}";
        return line;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
