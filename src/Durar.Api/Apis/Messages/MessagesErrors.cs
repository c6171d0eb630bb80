using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// Errors in Anthropic's shape, <c>{"type":"error","error":{"type","message"}}</c>, with its status codes, for every answer of
/// the Messages dialect: <c>/v1/messages</c> (and <c>count_tokens</c>), and <c>/v1/models</c> called with an
/// <c>anthropic-version</c> header. <see cref="ApiError.WriteAsync"/> asks <see cref="Applies"/>, so every error the gateway
/// writes there (the gateway token's 401, a body too large, a refused field, a failed run) takes this shape. The Anthropic SDKs
/// pick their exception by status: 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403
/// permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error (with <c>retry-after</c>), 504
/// timeout_error, 529 overloaded_error (an upstream that was overloaded: the failure reason <c>overloaded</c>), any other
/// 5xx api_error with the gateway's own status (502 for an upstream failure; a client's fault is never a 5xx).
/// </summary>
internal static class MessagesErrors
{
    /// <summary>The header Anthropic's SDKs send with every request; on <c>/v1/models</c> it selects Anthropic's shapes.</summary>
    public const string VersionHeader = "anthropic-version";

    /// <summary>Whether the request is one of the Messages dialect, whose errors take Anthropic's shape.</summary>
    public static bool Applies(HttpContext context)
    {
        var path = context.Request.Path;
        return path.StartsWithSegments("/v1/messages") || path.StartsWithSegments("/v1/models") && context.Request.Headers.ContainsKey(VersionHeader);
    }

    /// <summary>Anthropic's status and error type for <paramref name="error"/>; <paramref name="reason"/> is the gateway's failure reason.</summary>
    public static (int Status, string Type) Map(ApiError error, string? reason) => error.Status switch
    {
        400 => (400, "invalid_request_error"),
        401 => (401, "authentication_error"),
        402 => (402, "billing_error"),
        403 => (403, "permission_error"),
        404 => (404, "not_found_error"),
        413 => (413, "request_too_large"),
        429 => (429, "rate_limit_error"),
        504 => (504, "timeout_error"),
        529 => (529, "overloaded_error"),
        >= 500 when reason == "overloaded" || error.Type == "overloaded_error" => (529, "overloaded_error"),
        >= 500 => (error.Status, "api_error"),
        _ => (error.Status, "invalid_request_error"),
    };

    /// <summary>Writes <paramref name="error"/> as the response (status, <c>retry-after</c>, body).</summary>
    public static async Task WriteAsync(ApiError error, HttpResponse response)
    {
        var (status, type) = Map(error, response.Headers[DurarHeaders.FailureReason].ToString());
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (error.RetryAfter is { } wait) response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString();
        await using var w = new Utf8JsonWriter(response.BodyWriter, ChatCompletionWriter.Options);
        Write(w, type, error.Message);
        await w.FlushAsync();
    }

    /// <summary>
    /// A stream that cannot finish: one <c>event: error</c> in Anthropic's shape, then the stream ends (no
    /// <c>message_stop</c>): the SDKs raise it, and a reader never mistakes the stream for a complete message.
    /// </summary>
    public static async Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, string? reason, CancellationToken ct)
    {
        pipe.Write("event: error\ndata: "u8);
        using (var w = new Utf8JsonWriter(pipe, ChatCompletionWriter.Options)) Write(w, Map(error, reason).Type, error.Message);
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    private static void Write(Utf8JsonWriter w, string type, string message)
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }
}
