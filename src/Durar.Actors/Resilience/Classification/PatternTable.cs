using System.Text.RegularExpressions;

namespace Durar.Actors.Resilience;

/// <summary>What a <see cref="PatternTable"/> is matched against.</summary>
internal enum PatternSubject
{
    /// <summary>The error message or raw error body.</summary>
    Message,

    /// <summary>The structured error code (<see cref="UpstreamFailure.Code"/>), trimmed.</summary>
    ErrorCode,

    /// <summary>The structured error type (<see cref="UpstreamFailure.ErrorType"/>), trimmed.</summary>
    ErrorType,
}

/// <summary>
/// A named list of compiled, case-insensitive regular expressions that together recognise one failure signal.
/// It exists so the classifier's knowledge is data (see <see cref="ClassificationPatterns"/>) that tests can
/// enumerate pattern by pattern, instead of being spread across if-branches.
/// </summary>
internal sealed class PatternTable
{
    /// <summary>Options every pattern is compiled with.</summary>
    public const RegexOptions Options =
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.Singleline;

    /// <summary>
    /// Per-match time budget. Provider bodies are untrusted input; a pathological one must not stall a
    /// dispatcher thread. A match that runs out of time counts as "no match".
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Creates a table from regex sources.</summary>
    /// <param name="name">The table's name (the <see cref="ClassificationPatterns"/> field name).</param>
    /// <param name="subject">What the patterns are matched against.</param>
    /// <param name="providerScope">When set, the table only applies to providers whose id contains this text.</param>
    /// <param name="patterns">Regex sources.</param>
    public PatternTable(string name, PatternSubject subject, string? providerScope, params string[] patterns)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Length == 0)
        {
            throw new ArgumentException("A pattern table needs at least one pattern.", nameof(patterns));
        }

        Name = name;
        Subject = subject;
        ProviderScope = providerScope;
        Patterns = patterns.Select(p => new Regex(p, Options, MatchTimeout)).ToArray();
    }

    /// <summary>The table's name.</summary>
    public string Name { get; }

    /// <summary>What the patterns are matched against.</summary>
    public PatternSubject Subject { get; }

    /// <summary>When set, the table only applies to providers whose id contains this text (ordinal, case-insensitive).</summary>
    public string? ProviderScope { get; }

    /// <summary>The compiled patterns.</summary>
    public IReadOnlyList<Regex> Patterns { get; }

    /// <summary>Whether the table applies to <paramref name="providerId"/> (always, for unscoped tables).</summary>
    public bool AppliesTo(string? providerId) =>
        ProviderScope is null
        || (providerId is not null && providerId.Contains(ProviderScope, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether any pattern matches <paramref name="text"/>, ignoring <see cref="ProviderScope"/>.</summary>
    public bool IsMatch(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        foreach (var pattern in Patterns)
        {
            if (SafeIsMatch(pattern, text))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the table applies to <paramref name="providerId"/> and any pattern matches <paramref name="text"/>.</summary>
    public bool IsMatch(string? text, string? providerId) => AppliesTo(providerId) && IsMatch(text);

    /// <inheritdoc />
    public override string ToString() => Name;

    private static bool SafeIsMatch(Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
