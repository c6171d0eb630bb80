namespace Durar.Actors.ClientTokens;

/// <summary>
/// A client token's session namespace: its session <c>demo</c> is the entity <c>ct-&lt;id&gt;:demo</c> inside the gateway
/// (the HTTP side adds and strips the prefix), so a session knows from its own key which token to charge its runs to.
/// </summary>
internal static class ClientTokenSessions
{
    private const string Head = "ct-";

    /// <summary>The prefix of <paramref name="tokenId"/>'s session keys.</summary>
    public static string Prefix(string tokenId) => Head + tokenId + ":";

    /// <summary>The token whose namespace <paramref name="sessionKey"/> is in, or null (an operator's session).</summary>
    public static string? TokenOf(string sessionKey)
    {
        if (!sessionKey.StartsWith(Head, StringComparison.Ordinal)) return null;
        var colon = sessionKey.IndexOf(':', Head.Length);
        return colon > Head.Length ? sessionKey[Head.Length..colon] : null;
    }
}
