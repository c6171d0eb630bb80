using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>
/// A thousand requests, streamed and not, against a fake provider that fails at random (fixed seed): every request must end
/// within the failover budget in a success or a well-formed error, and every actor must still answer afterwards.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChaosSpecs(ITestOutputHelper output)
{
    private const int RequestCount = 1000;
    private const int Concurrency = 32;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);
    /// <summary>Budget + one idle timeout for a stream that stalls after its first token + scheduling on a busy 2-core box.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan WallClock = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Three keys on provider A (OpenAI wire), two on provider B (Anthropic wire), A then B for "durar". The keys get a fresh
    /// suffix per run: key ids are stable hashes of the secret, so with fixed secrets any key state that leaked outside the
    /// data directory (as the default local snapshot store once did) would carry over from an earlier run.
    /// </summary>
    private static string Config(string run) =>
        Provider("chaosa", "ca1", $"sk-chaos-a1-{run}") + Provider("chaosb", "cb1", $"sk-chaos-b1-{run}", wire: "anthropic") + $$"""
        env { CHAOSA_API_KEYS = "sk-chaos-a2-{{run}},sk-chaos-a3-{{run}}", CHAOSB_API_KEYS = "sk-chaos-b2-{{run}}" }
        agents { defaults { model { primary = "chaosa/ca1", fallbacks = ["chaosb/cb1"] } } }
        auth { cooldowns { schedule = [250ms, 500ms, 1s] } }
        gateway {
          cloudIdleTimeout = 500ms
          localIdleTimeout = 500ms
          failover { budget = 5s, retryBaseDelay = 10ms, retryMaxDelay = 50ms, probeInterval = 1s }
        }
        """;

    private static readonly string[] AllowedErrors = ["429", "502", "503", "504"];

    [Fact]
    public async Task Should_end_every_request_in_a_success_or_a_well_formed_error_within_the_budget()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(Guid.NewGuid().ToString("N")[..8]));
        // Warm up (JIT, connection pools, thread pool) with healthy traffic, so the per-request bound below measures failover, not a
        // cold process on a busy 2-core box.
        var warmUp = await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(i => gw.ChatAsync(i % 3 == 0 ? "chaosb/cb1" : "durar", stream: i % 2 == 0)));
        Assert.All(warmUp, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        gw.Fake.Reset();

        var random = new Random(1234);
        var faults = new ConcurrentDictionary<string, int>();
        gw.Fake.Script = request =>
        {
            double roll;
            int n;
            lock (random)
            {
                roll = random.NextDouble();
                n = random.Next(0, 3);
            }
            var (name, response) = Fault(roll, n, request.Stream);
            faults.AddOrUpdate(name, 1, (_, c) => c + 1);
            return response;
        };

        var outcomes = new ConcurrentDictionary<string, int>();
        var problems = new ConcurrentQueue<string>();
        var elapsedTimes = new ConcurrentDictionary<int, TimeSpan>();
        var gate = new SemaphoreSlim(Concurrency);
        var watch = Stopwatch.StartNew();

        var runs = Enumerable.Range(0, RequestCount).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var (model, fallbacks) = (i % 5) switch
                {
                    0 or 1 => ("durar", (string[]?)null),
                    2 or 3 => ("chaosa/ca1", ["chaosb/cb1"]),
                    _ => ("chaosb/cb1", null), // strict
                };
                var stream = i % 2 == 0;
                using var cts = new CancellationTokenSource(Budget + Slack + TimeSpan.FromSeconds(10));
                GatewayReply reply;
                try
                {
                    reply = await gw.ChatAsync(model, fallbacks, stream, $"chaos request number {i} says hello", cts.Token);
                }
                catch (Exception e)
                {
                    problems.Enqueue($"#{i} {model} stream={stream}: {e.GetType().Name}: {e.Message}");
                    outcomes.AddOrUpdate("client exception", 1, (_, c) => c + 1);
                    return;
                }
                elapsedTimes[i] = reply.Elapsed;
                if (reply.Elapsed > Budget + Slack)
                    problems.Enqueue($"#{i} {model} stream={stream}: took {reply.Elapsed} ({(int)reply.Status})");
                var (kind, problem) = Check(reply, stream);
                outcomes.AddOrUpdate(kind, 1, (_, c) => c + 1);
                if (problem is not null) problems.Enqueue($"#{i} {model} stream={stream}: {problem}");
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var all = Task.WhenAll(runs);
        await Task.WhenAny(all, Task.Delay(WallClock));
        var finished = all.IsCompleted;
        var elapsed = watch.Elapsed;

        var times = elapsedTimes.Values.Order().ToList();
        string Ms(double q) => times.Count == 0 ? "-" : $"{times[Math.Min(times.Count - 1, (int)(q * times.Count))].TotalMilliseconds:0}";
        output.WriteLine($"{elapsedTimes.Count}/{RequestCount} requests done, concurrency {Concurrency}, in {elapsed.TotalSeconds:0.0} s; " +
                         $"latency p50 {Ms(0.5)} ms, p99 {Ms(0.99)} ms, max {Ms(1)} ms; first wave max " +
                         $"{elapsedTimes.Where(e => e.Key < Concurrency).Select(e => e.Value.TotalMilliseconds).DefaultIfEmpty().Max():0} ms; upstream calls {gw.Fake.RequestCount}");
        output.WriteLine("Outcomes: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}")));
        output.WriteLine("Upstream faults: " + string.Join(", ", faults.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}")));
        foreach (var p in problems.Take(30)) output.WriteLine("PROBLEM " + p);

        Assert.True(finished, $"only {elapsedTimes.Count} of {RequestCount} requests finished within {WallClock}");
        Assert.True(problems.IsEmpty, $"{problems.Count} problem(s), first: {string.Join(" || ", problems.Take(5))}");
        Assert.Equal(RequestCount, outcomes.Values.Sum());
        Assert.True(outcomes.GetValueOrDefault("200 json") + outcomes.GetValueOrDefault("200 stream") > 0, "no request succeeded at all");

        // Every provider and key is still there and its actor answers.
        gw.Fake.Script = null;
        var providers = await gw.ProvidersAsync();
        var keys = providers.EnumerateArray()
            .Where(p => p.GetProperty("id").GetString() is "chaosa" or "chaosb")
            .ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("keys").EnumerateArray().ToList());
        Assert.Equal(3, keys["chaosa"].Count);
        Assert.Equal(2, keys["chaosb"].Count);
        foreach (var key in keys.Values.SelectMany(k => k))
        {
            output.WriteLine(key.GetRawText());
            var reset = await gw.ResetKeyAsync(key.GetProperty("id").GetString()!);
            Assert.True(reset.Status == HttpStatusCode.OK, $"reset {key.GetProperty("id")}: {(int)reset.Status} {reset.Body}");
        }
        var after = (await gw.ProvidersAsync()).EnumerateArray()
            .Where(p => p.GetProperty("id").GetString() is "chaosa" or "chaosb")
            .SelectMany(p => p.GetProperty("keys").EnumerateArray()).ToList();
        Assert.Equal(5, after.Count);
        Assert.All(after, k => Assert.Equal("ready", k.GetProperty("state").GetString()));

        var final = await gw.ChatAsync("durar");
        Assert.Equal(HttpStatusCode.OK, final.Status);
        Assert.Equal("chaosa/ca1", final.Model);
        Assert.Equal(1, final.Attempts);
        AssertCleanStream(await gw.ChatAsync("durar", stream: true));
    }

    /// <summary>The fault for one upstream call; <paramref name="n"/> (0-2) picks a chunk count for stream faults.</summary>
    private static (string Name, FakeResponse? Response) Fault(double roll, int n, bool stream) => roll switch
    {
        < 0.12 => ("429", FakeResponse.RateLimited("1")),
        < 0.20 => ("500", FakeResponse.Error(500)),
        < 0.28 => ("503", FakeResponse.Overloaded()),
        < 0.32 => ("latency > idle", new FakeResponse { Latency = TimeSpan.FromMilliseconds(800) }),
        < 0.36 => stream
            ? ("stall", new FakeResponse { StallAfterChunks = n })
            : ("truncated json", new FakeResponse { RawBody = """{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,""" }),
        < 0.42 => stream
            ? ("cut", new FakeResponse { CutAfterChunks = n })
            : ("502", FakeResponse.Error(502)),
        < 0.46 => stream
            ? ("malformed chunk", new FakeResponse { MalformedAtChunk = n + 1 })
            : ("not json", new FakeResponse { RawBody = "<html>upstream proxy error</html>" }),
        < 0.48 => stream
            ? ("error event", new FakeResponse { ErrorEventAfterChunks = n, ErrorMessage = "Overloaded" })
            : ("slow but ok", new FakeResponse { Latency = TimeSpan.FromMilliseconds(200) }),
        < 0.52 => ("chunk delay", new FakeResponse { ChunkDelay = TimeSpan.FromMilliseconds(100) }),
        _ => ("ok", null),
    };

    /// <summary>Classifies one answer; the problem is null when the answer is well formed.</summary>
    private static (string Kind, string? Problem) Check(GatewayReply reply, bool stream)
    {
        var status = ((int)reply.Status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            if (reply.Status == HttpStatusCode.OK)
            {
                if (reply.Model is null || reply.Attempts is null) return ("200 without run headers", "missing x-durar-* headers");
                if (!stream)
                {
                    if (reply.MediaType != "application/json") return ("200 json", $"content type {reply.MediaType}");
                    using var doc = JsonDocument.Parse(reply.Body);
                    var content = doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
                    return content is { Length: > 0 } ? ("200 json", null) : ("200 json", "empty content: " + reply.Body);
                }
                if (reply.MediaType != "text/event-stream") return ("200 stream", $"content type {reply.MediaType}");
                var frames = reply.DataFrames;
                if (frames.Count == 0) return ("200 stream", "empty stream");
                foreach (var frame in frames.Where(f => f != "[DONE]")) JsonDocument.Parse(frame).Dispose();
                if (frames[^1] == "[DONE]")
                {
                    if (frames.Any(f => f.StartsWith("{\"error\"", StringComparison.Ordinal))) return ("200 stream", "error frame before [DONE]");
                    return ("200 stream", null);
                }
                using var last = JsonDocument.Parse(frames[^1]);
                if (!last.RootElement.TryGetProperty("error", out var error)) return ("200 stream", "neither [DONE] nor an error frame at the end: " + Tail(reply.Body));
                if (frames.Contains("[DONE]")) return ("200 stream error frame", "[DONE] before the error frame: " + Tail(reply.Body));
                if (error.GetProperty("message").ValueKind != JsonValueKind.String || error.GetProperty("type").ValueKind != JsonValueKind.String)
                    return ("200 stream error frame", "malformed error frame: " + frames[^1]);
                return ("200 stream error frame", null);
            }

            if (!AllowedErrors.Contains(status)) return (status, $"status {status}: {Tail(reply.Body)}");
            var e = reply.Error; // asserts the shape
            if (reply.Status == HttpStatusCode.TooManyRequests && reply.Response.Headers.RetryAfter?.Delta is null)
                return (status, "429 without Retry-After");
            return (status + " " + e.GetProperty("code").GetString(), null);
        }
        catch (Exception e)
        {
            return (status + " malformed", $"{e.GetType().Name}: {e.Message} in {Tail(reply.Body)}");
        }
    }

    private static string Tail(string body) => body.Length <= 400 ? body : "…" + body[^400..];
}

/// <summary>The chaos spec runs alone, after the parallel specs: it saturates a 2-core box and must not skew their timings (nor they its).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos (not parallel)";
}
