using Microsoft.AspNetCore.Http.Features;

namespace Durar.Api.Apis;

/// <summary>
/// Readies a response for an SSE stream, the same way for every endpoint that streams (chat completions, session turns):
/// the event-stream content type, no caching, no buffering by a reverse proxy (<c>X-Accel-Buffering</c>) or by the
/// server, so every chunk reaches the client when it is flushed.
/// </summary>
internal static class SseResponse
{
    public static void Prepare(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
