// Load clients for bench/run.sh (wrk drives the non-streaming scenarios):
//
//   Durar.Bench stream   --url URL --model M [--concurrency 64] [--requests 20000] [--duration 10] [--warmup 200]
//                        [--key sk-..] [--label name]
//       N workers, each one keep-alive connection, POST stream:true; measures requests/s (whole stream read to its end),
//       time to first token (first SSE frame whose delta carries non-empty content) and whole-stream latency.
//                        [--sessions N --session-prefix P]: each request is a session turn (x-durar-session-key P-<k>, the
//                        keys taken in turn from N), the same body: the session-turn figures of issue 17.
//   Durar.Bench sessions --url BASE --count 100000 [--concurrency 32] [--duration 120] [--prefix s] [--model echo/echo]
//       Creates sessions: one POST /v1/sessions/{prefix-i}/messages turn each.
//   Durar.Bench turns --url BASE --prefix P [--from 1] --count 1000 [--repeat 2] [--concurrency 1] [--duration 120]
//                     [--model echo/echo] [--sample N]
//       For each session P-i (i in from..from+count-1, or --sample N of them spread evenly over that range): --repeat turns
//       (POST /v1/sessions/{P-i}/messages) one after the other; the latency of each session's first turn (a passivated
//       session recovers from its snapshot and journal) and of its later turns (resident) are reported apart.
//   Durar.Bench freeport [N]
//       Prints N free loopback TCP ports.
//
// Every loop is bounded by a request count and a deadline. Each result is one line "RESULT key=value ..." for the script.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Durar.Bench stream|sessions|turns|freeport [options] (see Program.cs)");
    return 2;
}
return args[0] switch
{
    "stream" => await StreamBench.RunAsync(Options.Parse(args.AsSpan(1))),
    "sessions" => await SessionsBench.RunAsync(Options.Parse(args.AsSpan(1))),
    "turns" => await TurnsBench.RunAsync(Options.Parse(args.AsSpan(1))),
    "freeport" => FreePorts(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1),
    _ => Usage(args[0]),
};

static int Usage(string command)
{
    Console.Error.WriteLine($"unknown command {command}: stream|sessions|turns|freeport");
    return 2;
}

static int FreePorts(int count)
{
    var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
    foreach (var l in listeners) l.Start();
    Console.WriteLine(string.Join(' ', listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)));
    foreach (var l in listeners) l.Stop();
    return 0;
}

sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument {args[i]}");
            if (i + 1 >= args.Length) throw new ArgumentException($"{args[i]} needs a value");
            o._values[args[i][2..]] = args[++i];
        }
        return o;
    }

    public string Get(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        _values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

static class Http
{
    public static HttpClient Client(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = TimeSpan.FromSeconds(120),
        DefaultRequestVersion = HttpVersion.Version11,
    };

    public static readonly MediaTypeHeaderValue Json = new("application/json");

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : Ms(sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)]);
}

/// <summary>
/// Finds SSE content tokens and the terminal [DONE] in a byte stream as it arrives, across read boundaries, without
/// decoding: a token is <c>"content":"</c> followed by anything but the closing quote (the role frame's empty content
/// does not count).
/// </summary>
struct SseScanner
{
    private static ReadOnlySpan<byte> Content => "\"content\":\""u8;
    private static ReadOnlySpan<byte> Done => "data: [DONE]"u8;
    private int _content, _done;
    private bool _afterContent;

    public int Tokens { get; private set; }
    public bool SawDone { get; private set; }

    /// <summary>Scans one read; returns true when it held the first token of the stream.</summary>
    public bool Feed(ReadOnlySpan<byte> data)
    {
        var first = false;
        foreach (var b in data)
        {
            if (_afterContent)
            {
                _afterContent = false;
                if (b != (byte)'"')
                {
                    if (Tokens == 0) first = true;
                    Tokens++;
                }
            }
            _content = Step(Content, _content, b);
            if (_content == Content.Length)
            {
                _afterContent = true;
                _content = 0;
            }
            _done = Step(Done, _done, b);
            if (_done == Done.Length)
            {
                SawDone = true;
                _done = 0;
            }
        }
        return first;
    }

    private static int Step(ReadOnlySpan<byte> pattern, int matched, byte b) =>
        pattern[matched] == b ? matched + 1 : pattern[0] == b ? 1 : 0;
}

static class StreamBench
{
    public static async Task<int> RunAsync(Options o)
    {
        var url = o.Get("url");
        var model = o.Get("model");
        var concurrency = o.Int("concurrency", 64);
        var requests = o.Int("requests", 20_000);
        var duration = TimeSpan.FromSeconds(o.Double("duration", 10));
        var warmup = o.Int("warmup", 200);
        var key = o.Get("key", "");
        var label = o.Get("label", "stream");
        var sessions = o.Int("sessions", 0);
        var sessionPrefix = o.Get("session-prefix", "bt");
        var body = Encoding.UTF8.GetBytes(
            $"{{\"model\":\"{model}\",\"stream\":true,\"messages\":[{{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}}]}}");

        using var client = Http.Client(concurrency);
        var sessionKeys = sessions > 0 ? new SessionKeys(sessionPrefix, sessions) : null;
        if (warmup > 0) await RunPhaseAsync(client, url, body, key, sessionKeys, concurrency, warmup, TimeSpan.FromSeconds(30));
        var result = await RunPhaseAsync(client, url, body, key, sessionKeys, concurrency, requests, duration);

        var ttft = result.Ttft.ToArray();
        var total = result.Total.ToArray();
        Array.Sort(ttft);
        Array.Sort(total);
        var seconds = Http.Ms(result.ElapsedTicks) / 1000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT label={label} concurrency={concurrency} ok={total.Length} errors={result.Errors} incomplete={result.Incomplete} " +
            $"elapsed_s={seconds:0.000} rps={total.Length / seconds:0.0} " +
            $"ttft_p50_ms={Http.Percentile(ttft, 50):0.000} ttft_p99_ms={Http.Percentile(ttft, 99):0.000} " +
            $"total_p50_ms={Http.Percentile(total, 50):0.000} total_p99_ms={Http.Percentile(total, 99):0.000} " +
            $"tokens_per_stream={(total.Length == 0 ? 0 : (double)result.Tokens / total.Length):0.0}"));
        if (result.FirstError is { } error) Console.Error.WriteLine($"{label}: first error: {error}");
        return total.Length > 0 ? 0 : 1;
    }

    private sealed class Phase
    {
        public readonly List<long> Ttft = [], Total = [];
        public long Errors, Incomplete, Tokens, ElapsedTicks;
        public string? FirstError;
    }

    /// <summary>Session keys handed out in turn, so that concurrent requests rarely meet in one session.</summary>
    private sealed class SessionKeys(string prefix, int count)
    {
        private readonly string[] _keys = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToArray();
        private int _next = -1;

        public string Next() => _keys[(int)((uint)Interlocked.Increment(ref _next) % (uint)_keys.Length)];
    }

    private static async Task<Phase> RunPhaseAsync(HttpClient client, string url, byte[] body, string key, SessionKeys? sessionKeys,
        int concurrency, int requests, TimeSpan duration)
    {
        var phase = new Phase();
        var issued = 0;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[16 * 1024];
            var ttfts = new List<long>();
            var totals = new List<long>();
            while (Interlocked.Increment(ref issued) <= requests && Stopwatch.GetTimestamp() < deadline)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = Http.Json;
                    if (key.Length > 0) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                    if (sessionKeys is not null) request.Headers.TryAddWithoutValidation("x-durar-session-key", sessionKeys.Next());
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        var text = await response.Content.ReadAsStringAsync();
                        Interlocked.Increment(ref phase.Errors);
                        Interlocked.CompareExchange(ref phase.FirstError, $"{(int)response.StatusCode} {text}", null);
                        continue;
                    }
                    await using var stream = await response.Content.ReadAsStreamAsync();
                    var scanner = new SseScanner();
                    long ttft = -1;
                    int n;
                    while ((n = await stream.ReadAsync(buffer)) > 0)
                        if (scanner.Feed(buffer.AsSpan(0, n)) && ttft < 0)
                            ttft = Stopwatch.GetTimestamp() - t0;
                    var total = Stopwatch.GetTimestamp() - t0;
                    Interlocked.Add(ref phase.Tokens, scanner.Tokens);
                    if (!scanner.SawDone || ttft < 0)
                    {
                        Interlocked.Increment(ref phase.Incomplete);
                        Interlocked.CompareExchange(ref phase.FirstError, $"stream without {(ttft < 0 ? "content" : "[DONE]")}", null);
                        continue;
                    }
                    ttfts.Add(ttft);
                    totals.Add(total);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    Interlocked.Increment(ref phase.Errors);
                    Interlocked.CompareExchange(ref phase.FirstError, e.GetType().Name + ": " + e.Message, null);
                }
            }
            lock (phase)
            {
                phase.Ttft.AddRange(ttfts);
                phase.Total.AddRange(totals);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        phase.ElapsedTicks = Stopwatch.GetTimestamp() - start;
        return phase;
    }
}

static class SessionsBench
{
    public static async Task<int> RunAsync(Options o)
    {
        var url = o.Get("url").TrimEnd('/');
        var count = o.Int("count", 100_000);
        var concurrency = o.Int("concurrency", 32);
        var duration = TimeSpan.FromSeconds(o.Double("duration", 120));
        var prefix = o.Get("prefix", "s");
        var model = o.Get("model", "echo/echo");
        var body = Encoding.UTF8.GetBytes($"{{\"content\":\"hello bench\",\"model\":\"{model}\"}}");

        using var client = Http.Client(concurrency);
        var issued = 0;
        long ok = 0, errors = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref issued)) <= count && Stopwatch.GetTimestamp() < deadline)
            {
                try
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = Http.Json;
                    using var response = await client.PostAsync($"{url}/v1/sessions/{prefix}-{i}/messages", content);
                    var text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
                    else
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"{(int)response.StatusCode} {text}", null);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, e.GetType().Name + ": " + e.Message, null);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = Http.Ms(Stopwatch.GetTimestamp() - start) / 1000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT label=sessions created={ok} errors={errors} elapsed_s={seconds:0.0} rate={ok / seconds:0.0} target={count} " +
            $"capped={(ok + errors < count ? 1 : 0)}"));
        if (firstError is not null) Console.Error.WriteLine("sessions: first error: " + firstError);
        return ok > 0 ? 0 : 1;
    }
}

static class TurnsBench
{
    public static async Task<int> RunAsync(Options o)
    {
        var url = o.Get("url").TrimEnd('/');
        var prefix = o.Get("prefix");
        var from = o.Int("from", 1);
        var count = o.Int("count", 1000);
        var sample = o.Int("sample", count);
        var repeat = Math.Max(1, o.Int("repeat", 2));
        var concurrency = o.Int("concurrency", 1);
        var duration = TimeSpan.FromSeconds(o.Double("duration", 120));
        var model = o.Get("model", "echo/echo");
        var body = Encoding.UTF8.GetBytes($"{{\"content\":\"hello again\",\"model\":\"{model}\"}}");
        // The sessions visited: every one of the range, or `sample` of them spread evenly over it (each visited once).
        var keys = Enumerable.Range(0, Math.Min(sample, count)).Select(j => from + (int)((long)j * count / Math.Min(sample, count))).ToArray();

        using var client = Http.Client(concurrency);
        var first = new List<long>();
        var later = new List<long>();
        long errors = 0;
        string? firstError = null;
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var mine1 = new List<long>();
            var mineN = new List<long>();
            int k;
            while ((k = Interlocked.Increment(ref next)) < keys.Length && Stopwatch.GetTimestamp() < deadline)
            {
                for (var r = 0; r < repeat; r++)
                {
                    try
                    {
                        using var content = new ByteArrayContent(body);
                        content.Headers.ContentType = Http.Json;
                        var t0 = Stopwatch.GetTimestamp();
                        using var response = await client.PostAsync($"{url}/v1/sessions/{prefix}-{keys[k]}/messages", content);
                        var text = await response.Content.ReadAsStringAsync();
                        var elapsed = Stopwatch.GetTimestamp() - t0;
                        if (response.StatusCode == HttpStatusCode.OK) (r == 0 ? mine1 : mineN).Add(elapsed);
                        else
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, $"{(int)response.StatusCode} {text}", null);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, e.GetType().Name + ": " + e.Message, null);
                    }
                }
            }
            lock (first)
            {
                first.AddRange(mine1);
                later.AddRange(mineN);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = Http.Ms(Stopwatch.GetTimestamp() - start) / 1000;
        var f = first.Order().ToArray();
        var l = later.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT label=turns sessions={f.Length} first_p50_ms={Http.Percentile(f, 50):0.000} first_p90_ms={Http.Percentile(f, 90):0.000} " +
            $"first_p99_ms={Http.Percentile(f, 99):0.000} later={l.Length} later_p50_ms={Http.Percentile(l, 50):0.000} " +
            $"later_p90_ms={Http.Percentile(l, 90):0.000} later_p99_ms={Http.Percentile(l, 99):0.000} errors={errors} elapsed_s={seconds:0.0}"));
        if (firstError is not null) Console.Error.WriteLine("turns: first error: " + firstError);
        return f.Length > 0 ? 0 : 1;
    }
}
