using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Api.Extensions;
using Durar.Api.Tests.Durability;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Issue 5, graceful leave: SIGTERM to one of three gateway processes while an SSE stream, a stream longer than the drain
/// timeout and a slow JSON turn are in flight on it. The node refuses new requests, lets the short stream and the JSON turn
/// finish, ends the long stream at the drain deadline with an error event (no [DONE]), leaves the cluster through
/// CoordinatedShutdown (the survivors see it leave and be removed, never unreachable) and exits with code 0; its sessions
/// answer on the survivors with their history intact.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class ClusterGracefulLeaveSpecs(ITestOutputHelper output)
{
    private const int SessionCount = 12;
    /// <summary>Node 3: the youngest member; it leaves while it holds sessions.</summary>
    private const int Leaver = 2;
    private const string EchoPrefix = "Hello from fake: ";
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    /// <summary>Drain, then the leave (sharding hand-off, cluster exit; about 1-2 s), with room for a loaded box.</summary>
    private static readonly TimeSpan ExitBound = DrainTimeout + TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private const string SlowStreamText = "slow-stream one two three four five six seven eight nine ten";
    private const string LongStreamText = "long-stream this answer takes far longer than the drain timeout";
    private const string SlowJsonText = "slow-json a turn whose answer starts after a second and a half";

    [Fact]
    public async Task Should_finish_or_cleanly_end_in_flight_streams_then_leave_the_cluster_and_exit_0_on_sigterm()
    {
        var total = Stopwatch.StartNew();
        await using var cluster = await ProcessCluster.StartAsync("leave", DrainTimeout);
        try
        {
            cluster.Fake.Script = request => LastUserText(request) switch
            {
                var t when t.StartsWith("slow-stream", StringComparison.Ordinal) => new FakeResponse { ChunkDelay = TimeSpan.FromMilliseconds(200) },
                var t when t.StartsWith("long-stream", StringComparison.Ordinal) => new FakeResponse { Chunks = 100, ChunkDelay = TimeSpan.FromMilliseconds(200) },
                var t when t.StartsWith("slow-json", StringComparison.Ordinal) => new FakeResponse { Latency = TimeSpan.FromMilliseconds(1500) },
                _ => new FakeResponse { Latency = TimeSpan.FromMilliseconds(5) },
            };
            var nodes = cluster.Nodes;
            var leaver = nodes[Leaver];
            var leaverAddress = cluster.AkkaAddress(Leaver);
            var survivors = new[] { nodes[0], nodes[1] };

            // Sessions with some history, spread over the three nodes (each turn through another node).
            var sent = new Dictionary<string, List<string>>();
            for (var turn = 0; turn < 2; turn++)
                for (var s = 0; s < SessionCount; s++)
                {
                    var key = $"leave-{s}";
                    var text = $"{key} warm-up {turn}";
                    await TurnAsync(nodes[(s + turn) % 3], key, text);
                    (sent.TryGetValue(key, out var list) ? list : sent[key] = []).Add(text);
                }
            var before = await ProcessCluster.ViewAsync(nodes[0]);
            Assert.True(before.SessionsOn(leaverAddress) > 0, $"the leaving node hosts no session, nothing would move: {before}");

            // In flight on the leaving node: a session stream of about 2 s, a stateless stream of about 20 s, a slow JSON turn.
            var slowStream = StreamAsync(leaver, "v1/sessions/slow-a/messages", JsonSerializer.Serialize(new { content = SlowStreamText, stream = true }));
            var longStream = StreamAsync(leaver, "v1/chat/completions", JsonSerializer.Serialize(new
            {
                model = $"{ProcessCluster.Provider}/m",
                stream = true,
                messages = new[] { new { role = "user", content = LongStreamText } },
            }));
            var slowJson = JsonTurnAsync(leaver, "slow-c", SlowJsonText);
            sent["slow-a"] = [SlowStreamText];
            sent["slow-c"] = [SlowJsonText];
            await Task.WhenAll(slowStream.FirstByte, longStream.FirstByte).WaitAsync(RequestTimeout);
            await cluster.Fake.WaitForRequestAsync(r => LastUserText(r) == SlowJsonText, RequestTimeout);

            // SIGTERM; the survivors are watched from now on.
            var watch = WatchMembershipAsync(nodes[0], leaverAddress, ExitBound + TimeSpan.FromSeconds(10));
            var termAt = cluster.Log.Now;
            var clock = Stopwatch.StartNew();
            leaver.Terminate();

            // It stops taking requests: once it is draining, a new request is refused (503) or finds nothing listening.
            await WaitForLogAsync(cluster.Log, leaver.Name, termAt, "Shutdown: draining", TimeSpan.FromSeconds(5));
            var refused = await TryNewRequestAsync(leaver);
            Assert.True(refused is null or { Status: HttpStatusCode.ServiceUnavailable, Code: GatewayDrain.ShuttingDownCode },
                $"a request after SIGTERM was served: {refused}");

            // The short stream and the JSON turn finish normally.
            var slow = await slowStream.Completion.WaitAsync(ExitBound);
            Assert.True(slow.Frames.Count > 2 && slow.Frames[^1] == "[DONE]" && !slow.Frames.Any(IsError), $"the short stream did not finish cleanly: {slow}");
            Assert.Equal(Echo(SlowStreamText), ProcessCluster.StreamedText(slow.Frames));
            var json = await slowJson.WaitAsync(ExitBound);
            Assert.True(json.Status == HttpStatusCode.OK && json.Reply == Echo(SlowJsonText), $"the slow JSON turn: {json}");

            // The long stream is ended at the drain deadline: what it got so far, an error event, no [DONE].
            var cut = await longStream.Completion.WaitAsync(ExitBound);
            var cutAfter = cut.EndedAt - termAt;
            Assert.True(cut.Frames.Count >= 2 && IsError(cut.Frames[^1]) && !cut.Frames.Contains("[DONE]"), $"the long stream did not end with an error and no [DONE]: {cut}");
            using (var error = JsonDocument.Parse(cut.Frames[^1]))
                Assert.Equal(GatewayDrain.ShuttingDownCode, error.RootElement.GetProperty("error").GetProperty("code").GetString());
            var partial = ProcessCluster.StreamedText(cut.Frames.Take(cut.Frames.Count - 1));
            Assert.True(partial.Length > 0 && Echo(LongStreamText).StartsWith(partial, StringComparison.Ordinal) && partial != Echo(LongStreamText),
                $"the long stream's text before the cut: \"{partial}\"");
            Assert.True(cutAfter >= DrainTimeout - TimeSpan.FromMilliseconds(500) && cutAfter <= DrainTimeout + TimeSpan.FromSeconds(3),
                $"the long stream ended {cutAfter.TotalSeconds:0.00} s after SIGTERM, not at the drain deadline ({DrainTimeout.TotalSeconds} s)");

            // The process leaves and exits 0.
            var exitCode = await leaver.WaitForExitAsync(ExitBound);
            var exitedAfter = clock.Elapsed;
            Assert.True(exitCode == 0, $"exit code {exitCode?.ToString() ?? "none: still running"} after {exitedAfter.TotalSeconds:0.0} s");

            // The survivors saw it leave and be removed, never unreachable, and nobody downed it.
            var membership = await watch;
            Assert.False(membership.SawUnreachable, $"the survivors saw {leaverAddress} unreachable: {membership.UnreachableView}");
            foreach (var survivor in survivors)
            {
                Assert.Null(cluster.Log.FirstAt(survivor.Name, termAt, l => l.Contains(leaverAddress, StringComparison.Ordinal)
                    && (l.Contains("UNREACHABLE", StringComparison.Ordinal) || l.Contains("is downing", StringComparison.Ordinal))));
            }
            // A graceful leave: the survivors remove the node from Exiting (Leaving → Exiting → Removed, never Down), and only
            // after the node said its requests were drained.
            // Log lines of a running node reach its stdout in batches (at most GatewayLogging.FlushInterval late): wait for the line.
            await WaitForLogAsync(cluster.Log, "n1", termAt, "left the cluster (was Exiting)", TimeSpan.FromSeconds(5));
            var drained = cluster.Log.FirstAt(leaver.Name, termAt, l => l.Contains("Shutdown: drained", StringComparison.Ordinal));
            var removedAt = cluster.Log.FirstAt("n1", termAt, l => l.Contains("left the cluster (was Exiting)", StringComparison.Ordinal) && l.Contains(leaverAddress, StringComparison.Ordinal));
            Assert.True(drained is not null && removedAt is not null && drained <= removedAt,
                $"the node left the cluster before its requests were drained (drained at {drained}, removed at {removedAt})");
            // The request line of the stream ended at the deadline says how it ended, not "success".
            Assert.NotNull(cluster.Log.FirstAt(leaver.Name, termAt, l => l.Contains("POST /v1/chat/completions answered", StringComparison.Ordinal)
                && l.Contains($"outcome {GatewayDrain.ShuttingDownCode}", StringComparison.Ordinal)));

            // Every session answers on the survivors at once, with its history intact and the same on both.
            foreach (var (key, texts) in sent.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var text = $"{key} after the leave";
                await TurnAsync(survivors[texts.Count % 2], key, text);
                texts.Add(text);
            }
            foreach (var (key, texts) in sent)
            {
                var first = await ProcessCluster.TranscriptAsync(survivors[0], key);
                var second = await ProcessCluster.TranscriptAsync(survivors[1], key);
                Assert.True(first.Raw == second.Raw, $"{key}: the survivors disagree:\n{first.Raw}\n{second.Raw}");
                var expected = texts.SelectMany(t => new[] { new TranscriptEntry("user", t), new TranscriptEntry("assistant", Echo(t)) }).ToList();
                Assert.True(first.Entries.SequenceEqual(expected), $"{key}: history not intact: {first.Raw}");
            }
            var after = await ProcessCluster.ViewAsync(survivors[1]);
            Assert.True(after.SessionsOn(leaverAddress) == 0 && after.SessionsByNode.Values.Sum() == sent.Count,
                $"all {sent.Count} sessions live on the survivors: {after}");

            output.WriteLine($"SIGTERM → draining logged, new request {(refused is null ? "refused (nothing listening)" : $"answered {(int)refused.Status}")}; " +
                             $"short stream completed after {(slow.EndedAt - termAt).TotalSeconds:0.00}s; long stream ended with {GatewayDrain.ShuttingDownCode} " +
                             $"after {cutAfter.TotalSeconds:0.00}s (drain {DrainTimeout.TotalSeconds}s); drained at {(drained - termAt)?.TotalSeconds:0.00}s, " +
                             $"drained at {(drained - termAt)?.TotalSeconds:0.00}s, removed on n1 at {(removedAt - termAt)?.TotalSeconds:0.00}s; exit code 0 after " +
                             $"{exitedAfter.TotalSeconds:0.00}s; leaver hosted {before.SessionsOn(leaverAddress)} of {SessionCount} sessions; total {total.Elapsed.TotalSeconds:0.0}s");
            output.WriteLine(cluster.Milestones());
        }
        catch
        {
            output.WriteLine(cluster.Report());
            throw;
        }
    }

    private sealed record StreamResult(HttpStatusCode Status, IReadOnlyList<string> Frames, TimeSpan EndedAt, string? Failure)
    {
        public override string ToString() => $"{(int)Status} {Failure} [{string.Join(" | ", Frames)}]";
    }

    private sealed record PendingStream(Task FirstByte, Task<StreamResult> Completion);

    private sealed record JsonResult(HttpStatusCode Status, string? Reply, string Body);

    private sealed record Refusal(HttpStatusCode Status, string? Code, string Body);

    /// <summary>Starts an SSE request; <see cref="PendingStream.FirstByte"/> completes with the first byte, the result at the end.</summary>
    private static PendingStream StreamAsync(GatewayProcess node, string path, string json)
    {
        var firstByte = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new PendingStream(firstByte.Task, RunAsync());

        async Task<StreamResult> RunAsync()
        {
            try
            {
                using var request = ProcessCluster.Post(path, json);
                using var headers = new CancellationTokenSource(RequestTimeout);
                using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    firstByte.TrySetException(new InvalidOperationException($"{(int)response.StatusCode} {body}"));
                    return new StreamResult(response.StatusCode, [], TimeSpan.Zero, body);
                }
                await using var stream = await response.Content.ReadAsStreamAsync();
                using var idle = new CancellationTokenSource(RequestTimeout);
                var received = new MemoryStream();
                var buffer = new byte[4096];
                int n;
                while ((n = await stream.ReadAsync(buffer, idle.Token)) > 0)
                {
                    received.Write(buffer, 0, n);
                    firstByte.TrySetResult();
                    idle.CancelAfter(RequestTimeout);
                }
                var frames = ProcessCluster.DataFrames(Encoding.UTF8.GetString(received.ToArray()));
                return new StreamResult(response.StatusCode, frames, EndedAt(node), null);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                firstByte.TrySetException(e);
                return new StreamResult(0, [], EndedAt(node), $"{e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>The log clock (the test's time line) through the node's shared log.</summary>
    private static TimeSpan EndedAt(GatewayProcess node) => node.Log.Now;

    private static async Task<JsonResult> JsonTurnAsync(GatewayProcess node, string session, string text)
    {
        using var request = ProcessCluster.Post($"v1/sessions/{session}/messages", JsonSerializer.Serialize(new { content = text }));
        using var timeout = new CancellationTokenSource(RequestTimeout);
        using var response = await node.Http.SendAsync(request, timeout.Token);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) return new JsonResult(response.StatusCode, null, body);
        using var doc = JsonDocument.Parse(body);
        return new JsonResult(response.StatusCode, doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), body);
    }

    private static async Task TurnAsync(GatewayProcess node, string session, string text)
    {
        var result = await JsonTurnAsync(node, session, text);
        Assert.True(result.Status == HttpStatusCode.OK && result.Reply == Echo(text), $"{session} via {node.Name}: {(int)result.Status} {result.Body}");
    }

    /// <summary>A request on a new connection: null when nothing listens any more, else the status and error code.</summary>
    private static async Task<Refusal?> TryNewRequestAsync(GatewayProcess node)
    {
        using var client = new HttpClient { BaseAddress = node.BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync("healthz");
            var body = await response.Content.ReadAsStringAsync();
            string? code = null;
            if (body.StartsWith('{'))
            {
                using var doc = JsonDocument.Parse(body);
                code = doc.RootElement.GetProperty("error").GetProperty("code").GetString();
            }
            return new Refusal(response.StatusCode, code, body);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private sealed record Membership(bool SawUnreachable, ClusterView? UnreachableView);

    /// <summary>Polls a survivor's view until <paramref name="address"/> is gone, noting whether it was ever unreachable.</summary>
    private static async Task<Membership> WatchMembershipAsync(GatewayProcess survivor, string address, TimeSpan timeout)
    {
        ClusterView? unreachable = null;
        await Eventually.Until(async () =>
            {
                var view = await ProcessCluster.ViewAsync(survivor);
                if (unreachable is null && view.SeesUnreachable(address)) unreachable = view;
                return view;
            },
            view => !view.HasMember(address), $"{survivor.Name} no longer listing {address}", timeout, TimeSpan.FromMilliseconds(100));
        return new Membership(unreachable is not null, unreachable);
    }

    private static Task WaitForLogAsync(GatewayLog log, string source, TimeSpan since, string text, TimeSpan timeout) =>
        Eventually.Until(() => log.FirstAt(source, since, l => l.Contains(text, StringComparison.Ordinal)) is not null,
            $"{source} logging \"{text}\"", timeout, TimeSpan.FromMilliseconds(20));

    private static bool IsError(string frame) => frame.StartsWith("{\"error\"", StringComparison.Ordinal);

    private static string Echo(string text) => EchoPrefix + text;

    private static string LastUserText(RecordedRequest request) =>
        request.Json.RootElement.GetProperty("messages").EnumerateArray()
            .Last(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString() ?? "";
}
