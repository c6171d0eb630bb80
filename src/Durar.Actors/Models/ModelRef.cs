using System.Diagnostics.CodeAnalysis;
using Durar.Actors.Catalog;

namespace Durar.Actors.Models;

/// <summary>
/// A <c>provider/model</c> reference. It is split on the <b>first</b> <c>/</c>, because model ids may contain <c>/</c>
/// (<c>openrouter/moonshotai/kimi-k2</c>). The provider id is lower-cased and de-aliased (<c>z.ai</c>, <c>z-ai</c> → <c>zai</c>);
/// the model id keeps the case it was written in (upstreams are case-sensitive) and is compared case-insensitively.
/// </summary>
internal readonly record struct ModelRef(string Provider, string Model)
{
    public static bool TryParse(string? text, out ModelRef value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1) return false;
        var provider = NormalizeProvider(text[..slash]);
        var model = text[(slash + 1)..];
        if (provider.Length == 0 || model.Length == 0 || provider.Any(char.IsWhiteSpace) || model.Any(char.IsWhiteSpace)) return false;
        value = new ModelRef(provider, model);
        return true;
    }

    public static ModelRef Parse(string text) =>
        TryParse(text, out var r) ? r : throw new FormatException($"malformed model ref \"{text}\" (expected provider/model)");

    /// <summary>A bare name (alias or model id without provider): non-empty, no whitespace, no <c>/</c>.</summary>
    public static bool IsValidBareName([NotNullWhen(true)] string? text) =>
        !string.IsNullOrWhiteSpace(text) && !text.Contains('/') && !text.Any(char.IsWhiteSpace);

    public static string NormalizeProvider(string provider)
    {
        var p = provider.Trim().ToLowerInvariant();
        return BuiltInCatalog.ProviderAliases.TryGetValue(p, out var canonical) ? canonical : p;
    }

    public override string ToString() => $"{Provider}/{Model}";
}
