// "The .NET floor" for bench/run.sh (issue 17): a minimal pass-through reverse proxy built only of the platform's parts
// (Kestrel, one SocketsHttpHandler) and nothing of Durar's. It is the best a .NET gateway could do for one proxy hop on
// this machine, so the gateway's cost splits into what Kestrel + HttpClient take and what is ours.
//   floor        (default) copies: method, path+query, the headers Authorization, Content-Type and x-bench-*, the body;
//                back: the status, Content-Type, Content-Length and the body, flushed after every upstream read, so SSE
//                chunks go out as they come (nginx with buffering off)
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
var port = 0;
var parse = false;
var streamBody = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--upstream" when i + 1 < args.Length: upstream = args[++i].TrimEnd('/'); break;
        case "--port" when i + 1 < args.Length: port = int.Parse(args[++i]); break;
        case "--parse": parse = true; break;
        case "--stream-body": streamBody = true; break;
        default: Console.Error.WriteLine($"bad option {args[i]}: --upstream URL [--port N] [--parse]"); return 2;
    }
}
if (upstream is null) { Console.Error.WriteLine("--upstream URL is required"); return 2; }

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => { k.AddServerHeader = false; k.Listen(IPAddress.Loopback, port); });
var app = builder.Build();
var invoker = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false, UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None,
    MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    ActivityHeadersPropagator = null, // no trace headers, no diagnostics handler per call
});

app.Run(async context =>
{
    var request = context.Request;
    var response = context.Response;
    var ct = context.RequestAborted;
    if (request.Path.Value == "/healthz") { response.ContentType = "text/plain"; await response.WriteAsync("ok", ct); return; }

    using var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), upstream + request.Path.Value + request.QueryString.Value);
    using var body = new PooledBuffer();
    PooledBuffer? rewritten = null;
    try
    {
        if (context.Features.GetRequiredFeature<IHttpRequestBodyDetectionFeature>().CanHaveBody)
        {
            if (streamBody && !parse)
                message.Content = new StreamContent(request.Body) { Headers = { ContentLength = request.ContentLength } };
            else
            {
                await body.ReadFromAsync(request.Body, ct);
                rewritten = parse ? Json.Rewrite(body.Written) : null;
                message.Content = new ReadOnlyMemoryContent((rewritten ?? body).Written);
            }
            if (request.ContentType is { } type) message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        foreach (var (name, value) in request.Headers)
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.StartsWith("x-bench-", StringComparison.OrdinalIgnoreCase))
                message.Headers.TryAddWithoutValidation(name, value.ToString());

        using var answer = await invoker.SendAsync(message, ct); // the handler returns once the headers are read
        response.StatusCode = (int)answer.StatusCode;
        var headers = answer.Content.Headers.NonValidated;
        var answerType = headers.TryGetValues("Content-Type", out var t) ? t.ToString() : null;
        if (answerType is not null) response.ContentType = answerType;
        await using var from = await answer.Content.ReadAsStreamAsync(ct);
        if (parse && answerType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var whole = new PooledBuffer();
            await whole.ReadFromAsync(from, ct);
            using var again = Json.Rewrite(whole.Written);
            response.ContentLength = again.Length;
            await response.BodyWriter.WriteAsync(again.Written, ct);
            return;
        }
        if (headers.TryGetValues("Content-Length", out var length)) response.Headers.ContentLength = long.Parse(length.ToString());
        var pipe = response.BodyWriter; // a byte copy straight into Kestrel's pipe, flushed after every read
        int read;
        while ((read = await from.ReadAsync(pipe.GetMemory(8192), ct)) > 0)
        {
            pipe.Advance(read);
            await pipe.FlushAsync(ct);
        }
    }
    catch (HttpRequestException e) when (!response.HasStarted) { response.StatusCode = 502; await response.WriteAsync(e.Message, ct); }
    catch (JsonException e) when (!response.HasStarted) { response.StatusCode = 400; await response.WriteAsync(e.Message, ct); }
    finally { rewritten?.Dispose(); }
});

await app.StartAsync();
Console.Out.WriteLine("listening " + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
Console.Out.Flush();
await app.WaitForShutdownAsync();
return 0;

// Parses JSON and writes it again into a pooled buffer (the writer is reused per thread: the rewrite never awaits).
static class Json
{
    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static PooledBuffer Rewrite(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        var output = new PooledBuffer();
        var writer = t_writer ??= new Utf8JsonWriter(output, Options);
        writer.Reset(output);
        document.WriteTo(writer);
        writer.Flush();
        return output;
    }
}

// A growable byte buffer rented from ArrayPool (an IBufferWriter, so Utf8JsonWriter writes into it); returned on Dispose.
sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(4096);
    public int Length { get; private set; }
    public ReadOnlyMemory<byte> Written => _array.AsMemory(0, Length);
    public void Advance(int count) => Length += count;
    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _array.AsMemory(Length); }
    public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _array.AsSpan(Length); }
    public void Dispose() => ArrayPool<byte>.Shared.Return(_array);

    public async Task ReadFromAsync(Stream stream, CancellationToken ct)
    {
        int read;
        while ((read = await stream.ReadAsync(GetMemory(1), ct)) > 0) Length += read;
    }

    private void Ensure(int sizeHint)
    {
        if (_array.Length - Length >= Math.Max(sizeHint, 1)) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Length + sizeHint));
        _array.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}
