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

    /// <summary>
    /// Response: fields the client set that the answering model's wire did not send (a compat rule stripped them), comma
    /// separated. Absent when nothing was dropped.
    /// </summary>
    public const string Dropped = "x-durar-dropped";

    /// <summary>
    /// Response on a failed run: the gateway's classification of the last attempt (<c>rate_limit</c>, <c>format</c>,
    /// <c>timeout</c>, ...). The error body keeps the provider's own <c>type</c>, <c>code</c> and <c>param</c>.
    /// </summary>
    public const string FailureReason = "x-durar-failure-reason";

    /// <summary>
    /// Request: <c>true</c> or <c>false</c>, overriding <c>gateway.failover.continueStreams</c> for this request (a stream
    /// that breaks after output goes on with the next key or candidate).
    /// </summary>
    public const string Continue = "x-durar-continue";

    /// <summary>Response of a session turn: the id of its run (<c>GET /v1/sessions/{key}/runs/{runId}</c>, <c>POST .../abort</c>).</summary>
    public const string RunId = "x-durar-run-id";

    /// <summary>
    /// Request, on a session turn: a client's key for this send. A repeat within <c>gateway.sessions.runs.idempotencyTtl</c>
    /// answers with the first turn's run and never runs it again.
    /// </summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>
    /// Response of a session turn answered by another model than the session's (<see cref="Model"/> names it), the first
    /// time it happens (the session's fallback notice, also on its event stream): the session's own model.
    /// </summary>
    public const string FallbackFrom = "x-durar-fallback-from";

    /// <summary>With <see cref="FallbackFrom"/>: why the session's model did not answer (its last attempt's failover reason).</summary>
    public const string FallbackReason = "x-durar-fallback-reason";
}
