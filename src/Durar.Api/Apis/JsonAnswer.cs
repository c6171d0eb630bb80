using System.Text.Json;

namespace Durar.Api.Apis;

/// <summary>
/// A whole JSON answer of the gateway's own routes (admin, sessions, tokens, models, cluster): the content type, the body
/// written by the caller straight into the response and sent, and then the request's answer marked complete
/// (<see cref="Telemetry.RequestFacts.Answered"/>), so a client that leaves after it is not counted as <c>cancelled</c>.
/// </summary>
internal static class JsonAnswer
{
    public static async Task WriteAsync(HttpResponse response, Action<Utf8JsonWriter> body, JsonWriterOptions options = default)
    {
        response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(response.BodyWriter, options)) body(w);
        // Sent now, not when the handler returns: only an answer the client can have read counts as complete.
        await response.BodyWriter.FlushAsync();
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
    }

    /// <summary>An answer that is one object; <paramref name="members"/> writes its members.</summary>
    public static Task WriteObjectAsync(HttpResponse response, Action<Utf8JsonWriter> members) =>
        WriteAsync(response, w =>
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }, ChatCompletionWriter.Options);
}
