using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>State of one request/response pair while the fake answers it.</summary>
internal sealed class Exchange(
    HttpContext http,
    RecordedRequest request,
    FakeResponse response,
    Reply reply,
    long sequence,
    CancellationToken token)
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] LineEnd = "\n"u8.ToArray();
    private static readonly byte[] FrameEnd = "\n\n"u8.ToArray();

    private static readonly TimeSpan DrainGrace = TimeSpan.FromMilliseconds(100);

    private volatile bool _serverAborted;
    private volatile bool _finished;

    public HttpContext Http { get; } = http;

    public RecordedRequest Request { get; } = request;

    public FakeResponse Response { get; } = response;

    public Reply Reply { get; } = reply;

    /// <summary>Per-provider sequence number, used for ids such as chatcmpl-fake-N.</summary>
    public long Sequence { get; } = sequence;

    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string Model => Request.Model ?? "fake-model";

    public JsonElement Body => Request.Json.RootElement;

    /// <summary>Cancelled when the client goes away or the provider is disposed.</summary>
    public CancellationToken Token { get; } = token;

    /// <summary>True when the fake itself dropped the connection (so it is not a client abort).</summary>
    public bool ServerAborted => _serverAborted;

    /// <summary>True once the handler is done with the response.</summary>
    public bool Finished
    {
        get => _finished;
        set => _finished = value;
    }

    /// <summary>Writes a complete (non-streamed) body with a Content-Length.</summary>
    public Task WriteBodyAsync(byte[] body)
    {
        Http.Response.ContentLength = body.Length;
        return Http.Response.Body.WriteAsync(body, Token).AsTask();
    }

    /// <summary>Writes one SSE frame (<c>event: name</c> line optional) and flushes it to the wire.</summary>
    public async Task WriteFrameAsync(string? eventName, ReadOnlyMemory<byte> data)
    {
        var frame = new ArrayBufferWriter<byte>(data.Length + 64);
        if (eventName is not null)
        {
            frame.Write(EventPrefix);
            frame.Write(Encoding.UTF8.GetBytes(eventName));
            frame.Write(LineEnd);
        }

        frame.Write(DataPrefix);
        frame.Write(data.Span);
        frame.Write(FrameEnd);
        await Http.Response.Body.WriteAsync(frame.WrittenMemory, Token);
        await Http.Response.Body.FlushAsync(Token);
    }

    /// <summary>Drops the TCP connection mid-response, flagged as the fake's doing.</summary>
    /// <remarks>
    /// A flush only hands the bytes to Kestrel's transport pipe; aborting at once would discard what the socket
    /// has not sent yet (often even the headers). The short grace period lets the chunks already written reach
    /// the client, so it sees exactly N chunks and then a connection that ends mid-body.
    /// </remarks>
    public async Task AbortConnectionAsync()
    {
        try
        {
            await Task.Delay(DrainGrace, Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            // Client or provider already gone: abort right away.
        }

        _serverAborted = true;
        Http.Abort();
    }

    /// <summary>Sends nothing more until the client goes away or the provider is disposed.</summary>
    public async Task StallAsync()
    {
        try
        {
            await Task.Delay(Timeout.Infinite, Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            // The client left (or the provider is shutting down): the stall is over.
        }
    }
}

/// <summary>Serializes JSON the way providers do: UTF-8, non-ASCII left unescaped, quotes and control characters escaped.</summary>
internal static class JsonBytes
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
