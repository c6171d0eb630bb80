using System.Collections.Immutable;

namespace Durar.Actors.Models;

/// <summary>
/// The optional allowlist <c>agents.defaults.modelPolicy.allow</c>: exact refs or trailing wildcards (<c>provider/*</c>,
/// <c>provider/ns/*</c>). Empty allows every model. The configured fallbacks are not filtered (operator intent); every
/// model a client names (the request's <c>model</c>, its <c>fallbacks</c>/<c>models</c>, a session's <c>model</c>) is.
/// </summary>
internal sealed class ModelPolicy(ImmutableArray<string> allow)
{
    private readonly ImmutableArray<string> _allow = allow.Select(Normalize).ToImmutableArray();

    public bool IsRestricted => _allow.Length > 0;

    public bool IsAllowed(ModelRef model)
    {
        if (_allow.Length == 0) return true;
        var text = model.ToString();
        foreach (var pattern in _allow)
        {
            if (pattern.EndsWith("/*", StringComparison.Ordinal))
            {
                if (text.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)) return true;
            }
            else if (string.Equals(pattern, text, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>The reference's exact rejection text.</summary>
    public static string RejectionMessage(ModelRef model) =>
        $"Model override \"{model}\" is not allowed by agents.defaults.modelPolicy.allow.";

    public static bool IsValidPattern(string pattern) => ModelRef.TryParse(pattern, out _);

    private static string Normalize(string pattern) => ModelRef.TryParse(pattern, out var r) ? r.ToString() : pattern;
}
