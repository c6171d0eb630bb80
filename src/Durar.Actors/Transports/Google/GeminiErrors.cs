using System.Text.Json;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Google's error shape (<c>google.rpc.Status</c> as JSON: <c>{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
/// "details":[...]}}</c>, sometimes inside a one-element array) as classification input: the HTTP code, the message, and
/// <c>error.status</c> as both code and type, which <see cref="FailureClassifier"/> reads (RESOURCE_EXHAUSTED → rate limit,
/// UNAVAILABLE → overloaded, ...). The <c>retryDelay</c> of a <c>google.rpc.RetryInfo</c> detail is read by
/// <see cref="RateLimitHeaders"/> from the same body and becomes the key's cooldown hint.
/// </summary>
internal static class GeminiErrors
{
    /// <summary>An error answer (non-2xx) of any Google wire.</summary>
    public static UpstreamFailure FromResponse(HttpResponseMessage response, string body, string providerId)
    {
        var common = UpstreamErrors.FromResponse(response, body, providerId);
        if (string.IsNullOrWhiteSpace(body)) return common;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0 ? doc.RootElement[0] : doc.RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                ? Failure(error, providerId) with { Status = (int)response.StatusCode }
                : common;
        }
        catch (Exception e) when (UpstreamErrors.IsMalformed(e))
        {
            return common;
        }
    }

    /// <summary>An <c>error</c> object (an error answer's, or one sent in a stream): its code as the status, its <c>status</c> as code and type.</summary>
    public static UpstreamFailure Failure(JsonElement error, string? providerId)
    {
        var status = error.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        int? code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : null;
        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        return new UpstreamFailure(code, message ?? status ?? $"Gemini error {code}", status, status, providerId);
    }
}
