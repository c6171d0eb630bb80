namespace Durar.Actors.Telemetry;

/// <summary>
/// The names Durar's spans and metrics carry: the OpenTelemetry GenAI semantic conventions where they have a name for the
/// fact (<c>gen_ai.*</c>, <c>error.type</c>, <c>http.*</c>), and <c>durar.*</c> for what only a gateway knows (the key,
/// the failover step, the key states). One place, so dashboards and specs read the same strings the code writes.
/// </summary>
public static class TelemetryNames
{
    /// <summary>The name of Durar's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Source = "Durar";

    /// <summary>The GenAI operation of a chat run (<c>gen_ai.operation.name</c>; an embeddings run is <c>embeddings</c>).</summary>
    public const string ChatOperation = "chat";

    // GenAI semantic conventions.
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";

    // HTTP semantic conventions (the gateway's own request).
    public const string HttpRoute = "http.route";
    public const string HttpMethod = "http.request.method";
    public const string HttpStatus = "http.response.status_code";

    // Durar's own.
    public const string Outcome = "durar.outcome";
    public const string Attempts = "durar.attempts";
    public const string AttemptNumber = "durar.attempt.number";
    public const string KeyId = "durar.key.id";
    public const string Reason = "durar.failover.reason";
    public const string FailoverStep = "durar.failover.step";
    public const string CacheReadTokens = "durar.usage.cache_read_tokens";
    public const string CacheWriteTokens = "durar.usage.cache_write_tokens";
    public const string Cost = "durar.usage.cost_usd";
    public const string KeyState = "durar.key.state";
    public const string CooldownKind = "durar.cooldown.kind";
    public const string MemberStatus = "durar.cluster.member.status";
    public const string DeadLetterKind = "akka.dead_letter.kind";

    /// <summary><c>durar.failover.step</c>: what the run did after a failed attempt.</summary>
    public static class Steps
    {
        /// <summary>The same model on the provider's next key, at once (rate limits, key-specific errors).</summary>
        public const string NextKey = "next_key";
        /// <summary>The same model and key again after a backoff (overloaded, server error, timeout).</summary>
        public const string Retry = "retry";
        /// <summary>The next candidate model.</summary>
        public const string NextModel = "next_model";
        /// <summary>No candidate left: the run answers with the error.</summary>
        public const string Exhausted = "exhausted";
        /// <summary>An error no other model would fix (context overflow, a refusal, a bad request).</summary>
        public const string Stop = "stop";
    }

    /// <summary><c>durar.outcome</c> of a successful request or attempt (failures carry their error code or reason).</summary>
    public const string Success = "success";

    /// <summary><c>durar.outcome</c> of a request or attempt the client abandoned.</summary>
    public const string Cancelled = "cancelled";
}
