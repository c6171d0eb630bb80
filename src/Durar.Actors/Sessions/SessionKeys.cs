using System.Text.RegularExpressions;

namespace Durar.Actors.Sessions;

/// <summary>
/// What a session key may be: a domain rule, not an HTTP one. A key names the session's entity, its persistence id
/// (<c>session-&lt;key&gt;</c>) and its shard, so every adapter that accepts a key (the sessions API's path, the chat
/// completions API's header, an in-process caller) checks it here, the same way.
/// </summary>
public static partial class SessionKeys
{
    /// <summary>The longest key accepted.</summary>
    public const int MaxLength = 200;

    /// <summary>The rule in words, for error messages.</summary>
    public const string Rule = "use 1-200 letters, digits or : . _ - @, starting with a letter or digit.";

    /// <summary>1–200 characters of letters, digits and <c>: . _ - @</c>, starting with a letter or digit.</summary>
    public static bool IsValid(string? key) => key is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(key);

    // \z, not $: $ also matches before a trailing newline, and a key "demo\n" would be journaled and then break a header.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9:._@-]*\z")]
    private static partial Regex Pattern();
}
