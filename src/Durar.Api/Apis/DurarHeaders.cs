namespace Durar.Api.Apis;

/// <summary>
/// The gateway's own HTTP headers, defined once: every endpoint that reads or writes one names it from here, so the
/// chat-completions and sessions adapters cannot drift apart on a spelling.
/// </summary>
public static class DurarHeaders
{
    /// <summary>Request: run a chat completion inside this session. Response: the session that answered.</summary>
    public const string SessionKey = "x-durar-session-key";

    /// <summary>Response: the model that answered (<c>provider/model</c>, or <c>durar</c> for a directive acknowledgement).</summary>
    public const string Model = "x-durar-model";

    /// <summary>Response: how many upstream attempts the request took (keys, retries and fallbacks together).</summary>
    public const string Attempts = "x-durar-attempts";
}
