// A fast fake OpenAI chat-completions upstream for the benchmarks (bench/run.sh). Every response is precomputed bytes:
// nothing is serialized per request, so the upstream is never the bottleneck.
//
//   POST /v1/chat/completions   JSON, or SSE when the body has "stream":true
//                               per request: ?chunks=N&delay_ms=D or headers x-bench-chunks / x-bench-delay-ms
//                               Authorization: Bearer <a --fail-key> gets --fail-status (429) with Retry-After
//                               with --faults RATE, every (1/RATE)-th request (any key) gets a scripted fault, the kinds
//                               in turn: 429 with Retry-After, 500, 503, a cut response (the connection aborted after
//                               half the body or half the chunks), a malformed one (200 with a body that is not JSON, or
//                               a stream with a frame that is not JSON in the middle)
//   GET  /stats                 requests=N completions=N streams=N failed=N, faults by kind (fault_429=N ...), and failover_gap / lead / turnaround
//                               counts, p50, p99 in us (since start or the last reset; see Stats)
//   POST /stats/reset
//   GET  /healthz
//
// Options: --port N (0 = any free port; the bound URL is printed as "listening http://127.0.0.1:PORT"),
//          --chunks 20, --delay-ms 0, --fail-key KEY (repeatable or comma-separated), --fail-status 429, --retry-after 0,
//          --faults 0 (a fraction, e.g. 0.05: bench/soak.sh).

using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var options = UpstreamOptions.Parse(args);
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, options.Port);
});
var app = builder.Build();
var stats = new Stats();
var bodies = new Bodies();

app.Run(async context =>
{
    var request = context.Request;
    var path = request.Path.Value;
    if (HttpMethods.IsPost(request.Method) && path == "/v1/chat/completions")
    {
        await HandleChatAsync(context, options, stats, bodies);
        return;
    }
    if (path == "/healthz")
    {
        await Bodies.WriteAsync(context.Response, 200, "text/plain", "ok"u8.ToArray());
        return;
    }
    if (path == "/stats" && HttpMethods.IsGet(request.Method))
    {
        await Bodies.WriteAsync(context.Response, 200, "text/plain", Encoding.ASCII.GetBytes(stats.ToString() + "\n"));
        return;
    }
    if (path == "/stats/reset" && HttpMethods.IsPost(request.Method))
    {
        stats.Reset();
        await Bodies.WriteAsync(context.Response, 200, "text/plain", "reset\n"u8.ToArray());
        return;
    }
    await Bodies.WriteAsync(context.Response, 404, "application/json", Bodies.NotFound);
});

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.Out.WriteLine("listening " + address);
Console.Out.Flush();
await app.WaitForShutdownAsync();
return 0;

static async Task HandleChatAsync(HttpContext context, UpstreamOptions options, Stats stats, Bodies bodies)
{
    var arrived = Stopwatch.GetTimestamp();
    Interlocked.Increment(ref stats.Requests);
    var stream = await ReadStreamFlagAsync(context.Request.BodyReader, context.RequestAborted);
    var response = context.Response;

    if (options.FailKeys.Count > 0 && context.Request.Headers.Authorization.ToString() is { Length: > 7 } auth
        && auth.StartsWith("Bearer ", StringComparison.Ordinal) && options.FailKeys.Contains(auth[7..]))
    {
        Interlocked.Increment(ref stats.Failed);
        stats.FailureArrived(arrived);
        response.Headers["Retry-After"] = options.RetryAfter;
        await Bodies.WriteAsync(response, options.FailStatus, "application/json", Bodies.RateLimited);
        await response.CompleteAsync();
        stats.FailureSent(Stopwatch.GetTimestamp());
        return;
    }
    if (options.FaultPeriod > 0 && Interlocked.Increment(ref stats.Seen) % options.FaultPeriod == 0)
    {
        var kind = (FaultKind)((Interlocked.Increment(ref stats.FaultTurn) - 1) % Stats.FaultKinds);
        Interlocked.Increment(ref stats.Faults[(int)kind]);
        await FaultAsync(context, options, bodies, stream, kind);
        return;
    }
    stats.GoodArrived(arrived);

    if (!stream)
    {
        Interlocked.Increment(ref stats.Completions);
        await Bodies.WriteAsync(response, 200, "application/json", Bodies.Completion);
        if (options.FailKeys.Count > 0)
        {
            await response.CompleteAsync();
            stats.GoodSent(Stopwatch.GetTimestamp());
        }
        return;
    }

    Interlocked.Increment(ref stats.Streams);
    var chunks = IntOverride(context, "chunks", "x-bench-chunks", options.Chunks);
    var delay = IntOverride(context, "delay_ms", "x-bench-delay-ms", options.DelayMs);
    var frames = bodies.Stream(chunks);
    response.StatusCode = 200;
    response.ContentType = "text/event-stream";
    response.Headers.CacheControl = "no-cache";
    var pipe = response.BodyWriter;
    var ct = context.RequestAborted;
    // Role frame, then one flush per content chunk (as a real model streams tokens), then finish + usage + [DONE] together.
    pipe.Write(Bodies.RoleFrame);
    for (var i = 0; i < frames.Content.Length; i++)
    {
        pipe.Write(frames.Content[i]);
        await pipe.FlushAsync(ct);
        if (delay > 0) await Task.Delay(delay, ct);
    }
    pipe.Write(Bodies.TailFrames);
    await pipe.FlushAsync(ct);
}

// One scripted fault (--faults): what a flaky provider does, from a clean error status to a response that breaks midway.
static async Task FaultAsync(HttpContext context, UpstreamOptions options, Bodies bodies, bool stream, FaultKind kind)
{
    var response = context.Response;
    switch (kind)
    {
        case FaultKind.RateLimited:
            response.Headers["Retry-After"] = options.RetryAfter;
            await Bodies.WriteAsync(response, 429, "application/json", Bodies.RateLimited);
            return;
        case FaultKind.ServerError:
            await Bodies.WriteAsync(response, 500, "application/json", Bodies.ServerError);
            return;
        case FaultKind.Unavailable:
            await Bodies.WriteAsync(response, 503, "application/json", Bodies.Overloaded);
            return;
    }
    if (!stream)
    {
        response.StatusCode = 200;
        response.ContentType = "application/json";
        if (kind == FaultKind.Malformed)
        {
            response.ContentLength = Bodies.Malformed.Length;
            await response.Body.WriteAsync(Bodies.Malformed);
            return;
        }
        // Cut: the declared length, half the bytes, then the connection goes.
        response.ContentLength = Bodies.Completion.Length;
        await response.Body.WriteAsync(Bodies.Completion.AsMemory(0, Bodies.Completion.Length / 2));
        await response.Body.FlushAsync();
        context.Abort();
        return;
    }
    var frames = bodies.Stream(options.Chunks);
    response.StatusCode = 200;
    response.ContentType = "text/event-stream";
    response.Headers.CacheControl = "no-cache";
    var pipe = response.BodyWriter;
    pipe.Write(Bodies.RoleFrame);
    var half = frames.Content.Length / 2;
    for (var i = 0; i < half; i++)
    {
        pipe.Write(frames.Content[i]);
        await pipe.FlushAsync(context.RequestAborted);
    }
    if (kind == FaultKind.Cut)
    {
        context.Abort();
        return;
    }
    pipe.Write(Bodies.MalformedFrame);
    for (var i = half; i < frames.Content.Length; i++) pipe.Write(frames.Content[i]);
    pipe.Write(Bodies.TailFrames);
    await pipe.FlushAsync(context.RequestAborted);
}

static int IntOverride(HttpContext context, string query, string header, int fallback)
{
    if (context.Request.QueryString.HasValue && int.TryParse(context.Request.Query[query].ToString(), out var q) && q >= 0) return q;
    if (context.Request.Headers.TryGetValue(header, out var h) && int.TryParse(h.ToString(), out var v) && v >= 0) return v;
    return fallback;
}

// Reads the (small) request body and reports whether it asks for a stream; no JSON parsing.
static async ValueTask<bool> ReadStreamFlagAsync(PipeReader reader, CancellationToken ct)
{
    while (true)
    {
        var result = await reader.ReadAsync(ct);
        var buffer = result.Buffer;
        if (result.IsCompleted || result.IsCanceled)
        {
            var found = HasStreamTrue(buffer);
            reader.AdvanceTo(buffer.End);
            return found;
        }
        reader.AdvanceTo(buffer.Start, buffer.End);
    }
}

static bool HasStreamTrue(ReadOnlySequence<byte> buffer)
{
    ReadOnlySpan<byte> span = buffer.IsSingleSegment ? buffer.FirstSpan : buffer.ToArray();
    return span.IndexOf("\"stream\":true"u8) >= 0 || span.IndexOf("\"stream\": true"u8) >= 0;
}

sealed class UpstreamOptions
{
    public int Port { get; private set; }
    public int Chunks { get; private set; } = 20;
    public int DelayMs { get; private set; }
    public HashSet<string> FailKeys { get; } = new(StringComparer.Ordinal);
    public int FailStatus { get; private set; } = 429;
    public string RetryAfter { get; private set; } = "0";
    /// <summary>Every this many requests one is a scripted fault (0 = none); from --faults RATE as round(1 / RATE).</summary>
    public long FaultPeriod { get; private set; }

    public static UpstreamOptions Parse(string[] args)
    {
        var o = new UpstreamOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--port": o.Port = int.Parse(Next()); break;
                case "--chunks": o.Chunks = int.Parse(Next()); break;
                case "--delay-ms": o.DelayMs = int.Parse(Next()); break;
                case "--fail-key":
                    foreach (var k in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) o.FailKeys.Add(k);
                    break;
                case "--fail-status": o.FailStatus = int.Parse(Next()); break;
                case "--retry-after": o.RetryAfter = Next(); break;
                case "--faults":
                    var rate = double.Parse(Next(), CultureInfo.InvariantCulture);
                    if (rate is < 0 or > 1) throw new ArgumentException("--faults takes a fraction between 0 and 1");
                    o.FaultPeriod = rate == 0 ? 0 : (long)Math.Round(1 / rate);
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unknown option {args[i]}");
                    break;
            }
        }
        return o;
    }
}

/// <summary>
/// Counters, and three gaps for the failover scenario, each meaningful only at concurrency 1 (requests then alternate):
/// <list type="bullet">
/// <item><c>failover_gap</c>: a scripted failure (the 429) fully sent → the next good-key request arrives. This is the
/// gateway's "429 to the request on the next key" time, loopback and both HTTP client passes included;</item>
/// <item><c>lead</c>: a good answer fully sent → the next request that will fail arrives (the client's turnaround plus
/// everything the gateway does before its first upstream call);</item>
/// <item><c>turnaround</c>: a good answer fully sent → the next good request arrives, when no failure is in between
/// (the same span for plain requests).</item>
/// </list>
/// <c>lead − turnaround</c> is what a failover request waits for before its first upstream call that a plain one does not.
/// </summary>
sealed class Stats
{
    public long Requests, Completions, Streams, Failed;
    public const int FaultKinds = 5;
    public long Seen, FaultTurn;
    public readonly long[] Faults = new long[FaultKinds];
    private long _pendingFailure; // timestamp of the last failure sent, 0 = none pending
    private long _lastGoodSent;   // timestamp of the last good answer sent, 0 = none
    private readonly Samples _gaps = new(), _leads = new(), _turnarounds = new();

    public void FailureArrived(long timestamp)
    {
        var good = Interlocked.Exchange(ref _lastGoodSent, 0);
        if (good != 0 && timestamp >= good) _leads.Add(timestamp - good);
    }

    public void FailureSent(long timestamp) => Volatile.Write(ref _pendingFailure, timestamp);

    public void GoodArrived(long timestamp)
    {
        var failure = Interlocked.Exchange(ref _pendingFailure, 0);
        var good = Interlocked.Exchange(ref _lastGoodSent, 0);
        if (failure != 0)
        {
            if (timestamp >= failure) _gaps.Add(timestamp - failure);
        }
        else if (good != 0 && timestamp >= good) _turnarounds.Add(timestamp - good);
    }

    public void GoodSent(long timestamp) => Volatile.Write(ref _lastGoodSent, timestamp);

    public void Reset()
    {
        Interlocked.Exchange(ref Requests, 0);
        Interlocked.Exchange(ref Completions, 0);
        Interlocked.Exchange(ref Streams, 0);
        Interlocked.Exchange(ref Failed, 0);
        for (var i = 0; i < FaultKinds; i++) Interlocked.Exchange(ref Faults[i], 0);
        Interlocked.Exchange(ref _pendingFailure, 0);
        Interlocked.Exchange(ref _lastGoodSent, 0);
        _gaps.Clear();
        _leads.Clear();
        _turnarounds.Clear();
    }

    public override string ToString() =>
        $"requests={Interlocked.Read(ref Requests)} completions={Interlocked.Read(ref Completions)} streams={Interlocked.Read(ref Streams)} " +
        $"failed={Interlocked.Read(ref Failed)} fault_429={Interlocked.Read(ref Faults[0])} fault_500={Interlocked.Read(ref Faults[1])} " +
        $"fault_503={Interlocked.Read(ref Faults[2])} fault_cut={Interlocked.Read(ref Faults[3])} fault_malformed={Interlocked.Read(ref Faults[4])} " +
        $"{_gaps.Describe("failover_gap")} {_leads.Describe("lead")} {_turnarounds.Describe("turnaround")}";

    /// <summary>A bounded sample of durations (Stopwatch ticks), described as count, p50 and p99 in microseconds.</summary>
    private sealed class Samples
    {
        private const int Max = 1 << 20;
        private readonly long[] _values = new long[Max];
        private int _count;

        public void Add(long ticks)
        {
            var i = Interlocked.Increment(ref _count) - 1;
            if (i < Max) _values[i] = ticks;
        }

        public void Clear() => Interlocked.Exchange(ref _count, 0);

        public string Describe(string name)
        {
            var sorted = _values.AsSpan(0, Math.Min(Volatile.Read(ref _count), Max)).ToArray();
            Array.Sort(sorted);
            string P(double p) => sorted.Length == 0 ? "nan"
                : (sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)] * 1e6 / Stopwatch.Frequency)
                    .ToString("0.0", CultureInfo.InvariantCulture);
            return $"{name}s={sorted.Length} {name}_p50_us={P(50)} {name}_p99_us={P(99)}";
        }
    }
}

/// <summary>Every response body, built once (per chunk count for streams).</summary>
sealed class Bodies
{
    private const string Head = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,";

    public static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0," +
        "\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the bench upstream.\"},\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":6,\"total_tokens\":16}}");

    public static readonly byte[] RateLimited = Encoding.UTF8.GetBytes(
        "{\"error\":{\"message\":\"Rate limit reached for requests (bench upstream)\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}");

    public static readonly byte[] ServerError = Encoding.UTF8.GetBytes(
        "{\"error\":{\"message\":\"The server had an error while processing your request (bench upstream)\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");

    public static readonly byte[] Overloaded = Encoding.UTF8.GetBytes(
        "{\"error\":{\"message\":\"The engine is currently overloaded (bench upstream)\",\"type\":\"server_error\",\"param\":null,\"code\":\"overloaded\"}}");

    public static readonly byte[] Malformed = "{\"id\":\"chatcmpl-bench\",\"choices\":[{\"message\":{\"content\":\"unterminated"u8.ToArray();

    public static readonly byte[] MalformedFrame = "data: {\"id\":\"chatcmpl-bench\",\"choices\":[{\"delta\":{\"content\":\"x\n\n"u8.ToArray();

    public static readonly byte[] NotFound = Encoding.UTF8.GetBytes(
        "{\"error\":{\"message\":\"not found\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"not_found\"}}");

    public static readonly byte[] RoleFrame = Frame(Head + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");

    public static readonly byte[] TailFrames =
    [
        .. Frame(Head + "\"delta\":{},\"finish_reason\":\"stop\"}]}"),
        .. Frame("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[]," +
                 "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,\"total_tokens\":30}}"),
        .. "data: [DONE]\n\n"u8,
    ];

    private readonly ConcurrentDictionary<int, StreamFrames> _streams = new();

    public StreamFrames Stream(int chunks) => _streams.GetOrAdd(chunks, static n =>
        new StreamFrames([.. Enumerable.Range(0, n).Select(i => Frame(Head + $"\"delta\":{{\"content\":\"tok{i} \"}},\"finish_reason\":null}}]}}"))]));

    private static byte[] Frame(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");

    public static async Task WriteAsync(HttpResponse response, int status, string contentType, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body);
    }
}

sealed record StreamFrames(byte[][] Content);

/// <summary>The scripted faults of --faults, taken in this order.</summary>
enum FaultKind { RateLimited, ServerError, Unavailable, Cut, Malformed }
