using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Durar.Api.Access;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// Response ids and the sessions behind them, mapped both ways without any index: a stored conversation is one session, and
/// each of its responses names that session and the transcript number of the user turn it answers. A conversation the
/// gateway started is the session <c>resp-&lt;32 hex&gt;</c> and its responses are <c>resp_&lt;the same hex&gt;_&lt;seq&gt;</c>;
/// a response in a session the client named (<see cref="DurarHeaders.SessionKey"/>) is <c>resp_k&lt;the key's UTF-8 in
/// hex&gt;_&lt;seq&gt;</c>. Any node reads the session key off the id (the shard region finds the session wherever it runs,
/// and its journal survives restarts and SIGKILLs), so no lookup table has to be journaled or replicated. The id holds the
/// key as the client knows it: a client token's session namespace is added when it is read (<see cref="TryParse"/>), so
/// another token's client finds nothing under the same id. A stateless response (<c>store: false</c>) gets
/// <c>resp_&lt;32 hex&gt;</c>, which names no session.
/// </summary>
internal static partial class ResponseIds
{
    /// <summary>A new conversation's session key, in the caller's session namespace.</summary>
    public static string NewConversation(HttpContext context) =>
        Inward(context, "resp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>A stateless response's id.</summary>
    public static string NewStateless() => "resp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The id of the response answering user turn <paramref name="seq"/> of session <paramref name="sessionKey"/> (the gateway's own key).</summary>
    public static string For(HttpContext context, string sessionKey, long seq)
    {
        var key = ClientModels.OutwardKey(context, sessionKey);
        var tail = "_" + seq.ToString(CultureInfo.InvariantCulture);
        return Conversation().IsMatch(key) ? "resp_" + key[5..] + tail : "resp_k" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(key)) + tail;
    }

    /// <summary>
    /// The session (the gateway's own key, with the caller's namespace) and turn a stored response id names; false for anything
    /// else (a stateless or foreign id).
    /// </summary>
    public static bool TryParse(HttpContext context, string? id, out string sessionKey, out long seq)
    {
        sessionKey = "";
        seq = 0;
        var match = id is null ? null : Stored().Match(id);
        if (match is not { Success: true } || !long.TryParse(match.Groups[3].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out seq))
            return false;
        string key;
        if (match.Groups[1].Success) key = "resp-" + match.Groups[1].Value;
        else
        {
            try
            {
                key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromHexString(match.Groups[2].ValueSpan));
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return false;
            }
            if (!Durar.Actors.Sessions.SessionKeys.IsValid(key)) return false;
        }
        sessionKey = Inward(context, key);
        return true;
    }

    /// <summary>An item id inside a response (<c>msg_</c>, <c>fc_</c>, <c>rs_</c>), unique within it and stable when it is read again.</summary>
    public static string Item(string prefix, string responseId, int outputIndex) =>
        prefix + "_" + responseId[5..] + "_" + outputIndex.ToString(CultureInfo.InvariantCulture);

    /// <summary>An input item's id (<c>GET .../input_items</c>): distinct from the response's output items, stable when read again.</summary>
    public static string InputItem(string prefix, string responseId, int inputIndex) =>
        prefix + "_" + responseId[5..] + "_in" + inputIndex.ToString(CultureInfo.InvariantCulture);

    private static string Inward(HttpContext context, string key) => ClientPrincipal.Of(context) is { } p ? p.SessionPrefix + key : key;

    [GeneratedRegex(@"^resp_(?:([0-9a-f]{32})|k((?:[0-9a-f]{2}){1,200}))_([0-9]{1,18})\z")]
    private static partial Regex Stored();

    [GeneratedRegex(@"^resp-[0-9a-f]{32}\z")]
    private static partial Regex Conversation();
}
