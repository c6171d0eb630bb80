using System.Text.Json;

namespace Durar.Api.Apis;

/// <summary>
/// An OpenAI-style error: <c>{"error":{"message","type","code","param"}}</c> with its HTTP status. Every failure the gateway
/// returns has this shape, never a stack trace.
/// </summary>
public sealed record ApiError(int Status, string Message, string Type, string Code, string? Param = null)
{
    public TimeSpan? RetryAfter { get; init; }

    public static ApiError BadRequest(string message, string code = "invalid_request", string? param = null) =>
        new(400, message, "invalid_request_error", code, param);

    public static ApiError NotFound(string message, string code = "model_not_found", string? param = "model") =>
        new(404, message, "not_found_error", code, param);

    public static ApiError Unauthorized() =>
        new(401, "Invalid or missing gateway token. Send Authorization: Bearer <token>.", "authentication_error", "invalid_api_key");

    public static ApiError TooLarge(long limit) =>
        new(413, $"Request body is larger than {limit} bytes.", "invalid_request_error", "request_too_large");

    public async Task WriteAsync(HttpResponse response)
    {
        if (response.HasStarted) return;
        Telemetry.RequestFacts.Of(response.HttpContext)?.Failed(Code);
        if (Messages.MessagesErrors.Applies(response.HttpContext))
        {
            await Messages.MessagesErrors.WriteAsync(this, response); // the Anthropic dialect's shape and statuses
            return;
        }
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfter is { } wait) response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString();
        await using var w = new Utf8JsonWriter(response.BodyWriter, ChatCompletionWriter.Options);
        Write(w);
        await w.FlushAsync();
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", Message);
        w.WriteString("type", Type);
        w.WriteString("code", Code);
        if (Param is null) w.WriteNull("param"); else w.WriteString("param", Param);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

/// <summary>Thrown by request parsing; turned into an <see cref="ApiError"/> response by the endpoint.</summary>
public sealed class ApiErrorException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
