// "The .NET floor" for bench/run.sh (issue 17): a minimal pass-through reverse proxy built of the platform's parts only
// (Kestrel, one SocketsHttpHandler) and nothing of Durar's: the best a .NET gateway can do for one proxy hop on this
// machine, so the gateway's cost splits into what Kestrel + HttpClient take and what is ours (bench/floor.sh, README).
//   floor        (default) copies the method, path+query, the headers Authorization, Content-Type and x-bench-*, the
//                body; back the status, Content-Type, Content-Length and the body, flushed after every upstream read
//                (SSE chunks go out as they come, like nginx with buffering off)
//   floor+json   (--parse) also parses the client's JSON body (JsonDocument) and writes it again (Utf8JsonWriter) before
//                sending it, and the same with a non-streaming answer: the least a gateway that reads the request does.
//                A streamed answer stays a byte copy.
// GET /healthz is answered here. Options: --upstream URL (required), --port N (0 = any; prints "listening URL"), --parse.

using System.Buffers;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

string? upstream = null;
int port = 0;
var parse = false;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--upstream" && i + 1 < args.Length) upstream = args[++i].TrimEnd('/');
    else if (args[i] == "--port" && i + 1 < args.Length) port = int.Parse(args[++i]);
    else if (args[i] == "--parse") parse = true;
    else { Console.Error.WriteLine($"bad option {args[i]}: --upstream URL [--port N] [--parse]"); return 2; }
}
if (upstream is null) { Console.Error.WriteLine("--upstream URL is required"); return 2; }

// The gateway's own I/O settings (gateway.http.inlineIo, on by default), so the two differ only in what the gateway does:
// requests handled on the I/O thread that read them, socket completions continued there.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
builder.WebHost.UseKestrel(k => { k.AddServerHeader = false; k.Listen(IPAddress.Loopback, port); });
var app = builder.Build();
var invoker = new HttpMessageInvoker(new SocketsHttpHandler // pooled keep-alive connections to the upstream
{
    UseProxy = false, UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None,
    MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    ActivityHeadersPropagator = null, // no trace headers, no diagnostics handler per call
});

app.Run(async context =>
{
    var (request, response, ct) = (context.Request, context.Response, context.RequestAborted);
    if (request.Path.Value == "/healthz") { response.ContentType = "text/plain"; await response.WriteAsync("ok", ct); return; }
    using var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), upstream + request.Path.Value + request.QueryString.Value);
    using PooledBuffer body = new(), sent = new();
    try
    {
        if (context.Features.GetRequiredFeature<IHttpRequestBodyDetectionFeature>().CanHaveBody)
        {
            // The body read into a pooled buffer: cheaper than a StreamContent over request.Body (interleaved A/B at c=64,
            // 6 x 5 s each on a busy 2-core machine: a median 48 against 54 us of this process's CPU per request).
            await body.ReadFromAsync(request.Body, ct);
            if (parse) Json.Rewrite(body.Written, sent);
            message.Content = new ReadOnlyMemoryContent((parse ? sent : body).Written);
            if (request.ContentType is { } type) message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        foreach (var (name, value) in request.Headers)
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.StartsWith("x-bench-", StringComparison.OrdinalIgnoreCase))
                message.Headers.TryAddWithoutValidation(name, value.ToString());

        using var answer = await invoker.SendAsync(message, ct); // returns once the answer's headers are read
        response.StatusCode = (int)answer.StatusCode;
        var headers = answer.Content.Headers.NonValidated;
        var answerType = headers.TryGetValues("Content-Type", out var t) ? response.ContentType = t.ToString() : null;
        await using var from = await answer.Content.ReadAsStreamAsync(ct);
        if (parse && answerType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            body.Clear(); sent.Clear(); await body.ReadFromAsync(from, ct);
            Json.Rewrite(body.Written, sent);
            response.ContentLength = sent.Written.Length;
            await response.BodyWriter.WriteAsync(sent.Written, ct);
            return;
        }
        if (headers.TryGetValues("Content-Length", out var length)) response.Headers.ContentLength = long.Parse(length.ToString());
        var pipe = response.BodyWriter; // a byte copy straight into Kestrel's pipe, flushed after every read
        for (int read; (read = await from.ReadAsync(pipe.GetMemory(8192), ct)) > 0;) { pipe.Advance(read); await pipe.FlushAsync(ct); }
    }
    catch (HttpRequestException e) when (!response.HasStarted) { response.StatusCode = 502; await response.WriteAsync(e.Message, ct); }
    catch (JsonException e) when (!response.HasStarted) { response.StatusCode = 400; await response.WriteAsync(e.Message, ct); }
});

await app.StartAsync();
Console.Out.WriteLine("listening " + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
await app.WaitForShutdownAsync();
return 0;

static class Json
{
    [ThreadStatic] private static Utf8JsonWriter? t_writer; // reused per thread: a rewrite never awaits
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static void Rewrite(ReadOnlyMemory<byte> json, PooledBuffer to)
    {
        using var document = JsonDocument.Parse(json);
        var writer = t_writer ??= new Utf8JsonWriter(to, Options);
        writer.Reset(to);
        document.WriteTo(writer);
        writer.Flush();
    }
}

// A growable byte buffer rented from ArrayPool on first use (an IBufferWriter, so Utf8JsonWriter writes into it).
sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = [];
    private int _length;
    public ReadOnlyMemory<byte> Written => _array.AsMemory(0, _length);
    public void Advance(int count) => _length += count;
    public void Clear() => _length = 0;
    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _array.AsMemory(_length); }
    public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _array.AsSpan(_length); }
    public void Dispose() { if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array); }

    public async Task ReadFromAsync(Stream stream, CancellationToken ct)
    {
        for (int read; (read = await stream.ReadAsync(GetMemory(1), ct)) > 0;) _length += read;
    }
    private void Ensure(int sizeHint)
    {
        if (_array.Length - _length >= Math.Max(sizeHint, 1)) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(4096, Math.Max(_array.Length * 2, _length + sizeHint)));
        _array.AsSpan(0, _length).CopyTo(bigger);
        Dispose();
        _array = bigger;
    }
}
