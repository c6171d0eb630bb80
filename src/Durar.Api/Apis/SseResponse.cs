using Microsoft.AspNetCore.Http.Features;

namespace Durar.Api.Apis;

/// <summary>
/// Readies a response for an SSE stream, the same way for every endpoint that streams (chat completions, session turns):
/// the event-stream content type, no caching, no buffering by a reverse proxy (<c>X-Accel-Buffering</c>) or by the
/// server, so every chunk reaches the client when it is flushed.
/// </summary>
internal static class SseResponse
{
    /// <param name="closer">How the stream ends early in its dialect (<see cref="EndsEarlyWith"/>); null for streams that are
    /// not a model's answer, or whose writer needs the prepared response first.</param>
    public static void Prepare(HttpContext context, IStreamCloser? closer)
    {
        if (closer is not null) EndsEarlyWith(context, closer);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>
    /// Registers how this request's stream ends early in its dialect (<see cref="Telemetry.RequestFacts.StreamCloser"/>). A
    /// writer that takes the body's writer must be made after <see cref="Prepare"/> (the drain watches the event stream's
    /// writer from then on), so it registers itself here once made.
    /// </summary>
    public static void EndsEarlyWith(HttpContext context, IStreamCloser closer)
    {
        if (Telemetry.RequestFacts.Of(context) is { } facts) facts.StreamCloser = closer;
    }
}
