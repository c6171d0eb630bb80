using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// Response ids and the sessions behind them, mapped both ways without any index: a stored conversation is one session,
/// <c>resp-&lt;32 hex&gt;</c>, and each of its responses is <c>resp_&lt;the same hex&gt;_&lt;seq&gt;</c>, where seq is the
/// transcript number of the user turn it answers. Any node reads the session key off the id (the shard region finds the
/// session wherever it runs, and its journal survives restarts), so no lookup table has to be journaled or replicated.
/// A stateless response (<c>store: false</c>) gets <c>resp_&lt;32 hex&gt;</c>, which names no session.
/// </summary>
internal static partial class ResponseIds
{
    /// <summary>A new conversation's session key.</summary>
    public static string NewConversation() => "resp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>A stateless response's id.</summary>
    public static string NewStateless() => "resp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The id of the response answering user turn <paramref name="seq"/> of session <paramref name="sessionKey"/>.</summary>
    public static string For(string sessionKey, long seq) => "resp_" + sessionKey[5..] + "_" + seq.ToString(CultureInfo.InvariantCulture);

    /// <summary>The session and turn a stored response id names; false for anything else (a stateless or foreign id).</summary>
    public static bool TryParse(string? id, out string sessionKey, out long seq)
    {
        sessionKey = "";
        seq = 0;
        var match = id is null ? null : Stored().Match(id);
        if (match is not { Success: true } || !long.TryParse(match.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out seq))
            return false;
        sessionKey = "resp-" + match.Groups[1].Value;
        return true;
    }

    /// <summary>An item id inside a response (<c>msg_</c>, <c>fc_</c>, <c>rs_</c>), unique within it and stable when it is read again.</summary>
    public static string Item(string prefix, string responseId, int outputIndex) =>
        prefix + "_" + responseId[5..] + "_" + outputIndex.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^resp_([0-9a-f]{32})_([0-9]{1,18})\z")]
    private static partial Regex Stored();
}
