using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Durar.Testing;

/// <summary>
/// One provider's wire format. The base class owns the response flow every provider shares
/// (latency, headers, raw bodies, errors, streaming faults); subclasses only render frames.
/// </summary>
internal abstract class WireFormat
{
    /// <summary>"openai" or "anthropic", as recorded in <see cref="RecordedRequest.Wire"/>.</summary>
    public abstract string Name { get; }

    /// <summary>The media type of a streamed answer: SSE unless the wire streams otherwise (Ollama's NDJSON).</summary>
    protected virtual string StreamMediaType => "text/event-stream";

    /// <summary>The whole SSE frame sent instead of the content chunk chosen by <see cref="FakeResponse.MalformedAtChunk"/>.</summary>
    protected abstract string MalformedFrame { get; }

    public virtual int StatusFor(FakeResponse response) => response.Status;

    /// <summary>Text of the last user message, which the default reply echoes.</summary>
    public abstract string LastUserText(JsonElement body);

    /// <summary>Whitespace-separated words across all messages (and system prompt), the default prompt token count.</summary>
    public abstract int CountPromptWords(JsonElement body);

    protected abstract byte[] ErrorBody(FakeResponse response, int status);

    protected abstract byte[] CompletionBody(Exchange exchange);

    /// <summary>Frames before the first content chunk.</summary>
    protected abstract Task WriteStreamStartAsync(Exchange exchange);

    /// <summary>The content chunk carrying <see cref="Reply.Pieces"/>[<paramref name="index"/>].</summary>
    protected abstract Task WriteStreamPieceAsync(Exchange exchange, int index);

    /// <summary>Frames after the last content chunk, including the terminator.</summary>
    protected abstract Task WriteStreamEndAsync(Exchange exchange);

    /// <summary>The provider's mid-stream error frame.</summary>
    protected abstract Task WriteStreamErrorAsync(Exchange exchange);

    public async Task RespondAsync(Exchange exchange)
    {
        var scripted = exchange.Response;
        var response = exchange.Http.Response;
        if (scripted.Latency > TimeSpan.Zero)
        {
            await Task.Delay(scripted.Latency, exchange.Token); // the scripted upstream latency (behaviour under test)
        }

        if (scripted.HeldUntil is { } held)
        {
            await held.WaitAsync(exchange.Token);
        }

        var status = StatusFor(scripted);
        var streaming = exchange.Request.Stream && status < 400;
        response.StatusCode = status;
        response.ContentType = streaming ? StreamMediaType : "application/json";
        if (scripted.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        foreach (var (name, value) in scripted.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        if (scripted.RawBody is { } raw)
        {
            var bytes = Encoding.UTF8.GetBytes(raw);
            if (streaming)
            {
                await response.Body.WriteAsync(bytes, exchange.Token);
                await response.Body.FlushAsync(exchange.Token);
            }
            else
            {
                await exchange.WriteBodyAsync(bytes);
            }
        }
        else if (status >= 400)
        {
            await exchange.WriteBodyAsync(ErrorBody(scripted, status));
        }
        else if (!streaming)
        {
            await exchange.WriteBodyAsync(CompletionBody(exchange));
        }
        else
        {
            await StreamAsync(exchange);
        }
    }

    private async Task StreamAsync(Exchange exchange)
    {
        exchange.Http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        exchange.Http.Response.Headers.CacheControl = "no-cache";
        var scripted = exchange.Response;
        var count = exchange.Reply.Pieces.Count;

        await WriteStreamStartAsync(exchange);
        for (var sent = 0; sent <= count; sent++)
        {
            var atEnd = sent == count;
            if (Reached(scripted.CutAfterChunks, sent, atEnd))
            {
                await exchange.AbortConnectionAsync();
                return;
            }

            if (Reached(scripted.StallAfterChunks, sent, atEnd))
            {
                await exchange.StallAsync();
                return;
            }

            if (Reached(scripted.ErrorEventAfterChunks, sent, atEnd))
            {
                await WriteStreamErrorAsync(exchange);
                return;
            }

            if (sent > 0 && scripted.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(scripted.ChunkDelay, exchange.Token); // the scripted pace of a slow stream (behaviour under test)
            }

            if (atEnd)
            {
                break;
            }

            if (scripted.MalformedAtChunk == sent + 1)
            {
                await exchange.Http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(MalformedFrame), exchange.Token);
                await exchange.Http.Response.Body.FlushAsync(exchange.Token);
            }
            else
            {
                await WriteStreamPieceAsync(exchange, sent);
            }
        }

        await WriteStreamEndAsync(exchange);
    }

    /// <summary>A fault fires after exactly its count of chunks, or after the last one when the count is beyond the end.</summary>
    private static bool Reached(int? threshold, int sent, bool atEnd) =>
        threshold is { } n && (n == sent || (atEnd && n > sent));

    /// <summary>Text of a message content: a string, or the concatenated <c>{type:"text",text}</c> parts of an array.</summary>
    protected static string ContentText(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString() ?? "";
            case JsonValueKind.Array:
                var text = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object
                        && part.TryGetProperty("type", out var type) && type.ValueEquals("text")
                        && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        text.Append(value.GetString());
                    }
                }

                return text.ToString();
            default:
                return "";
        }
    }

    protected static IEnumerable<JsonElement> Messages(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object
        && body.TryGetProperty("messages", out var messages)
        && messages.ValueKind == JsonValueKind.Array
            ? messages.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object)
            : [];

    protected static string LastUserMessageText(JsonElement body)
    {
        var last = Messages(body).LastOrDefault(m => m.TryGetProperty("role", out var role) && role.ValueEquals("user"));
        return last.ValueKind == JsonValueKind.Object && last.TryGetProperty("content", out var content) ? ContentText(content) : "";
    }

    protected static int CountMessageWords(JsonElement body) =>
        Messages(body).Sum(m => m.TryGetProperty("content", out var content) ? Reply.CountWords(ContentText(content)) : 0);

    /// <summary>Reads a string property of the request body, or null.</summary>
    protected static string? StringProperty(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
