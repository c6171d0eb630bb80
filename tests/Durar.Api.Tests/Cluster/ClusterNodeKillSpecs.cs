using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Api.Tests.Durability;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Issue 5: three gateway processes share one PostgreSQL journal; sessions are driven through all three nodes, one node is
/// SIGKILLed in the middle of that, and then: keep-majority downs it within seconds, every session (those that lived on the
/// dead node too) answers on the survivors, and every message a client got an acknowledgement for is in the transcript,
/// once, in the order it was acknowledged.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class ClusterNodeKillSpecs(ITestOutputHelper output)
{
    private const int SessionCount = 24;
    private const int TurnsPerSession = 6;
    private const int KillAfterCompletedTurns = SessionCount * TurnsPerSession * 4 / 10;
    /// <summary>Node 2: neither the seed nor the oldest member, so the shard coordinator stays where it is.</summary>
    private const int Victim = 1;
    private const string EchoPrefix = "Hello from fake: ";
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(90);
    /// <summary>
    /// A turn answers (or fails with a 503 after 3 x askTimeout = 9 s) well within this; a turn still without headers
    /// after it, or a stream silent for <see cref="StreamIdleTimeout"/>, counts as failed (see the class remarks).
    /// </summary>
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(15);
    /// <summary>
    /// Longer than the dead node's removal (about 10 s): a stream whose session lived on the killed node must end by itself,
    /// with a session_lost error frame once the node is removed, never stall.
    /// </summary>
    private static readonly TimeSpan StreamIdleTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Failure detection (about 3-5 s) + SBR stable-after (3 s) + removal; generous for a loaded 2-core box.</summary>
    private static readonly TimeSpan RemovalBound = TimeSpan.FromSeconds(25);

    private sealed class Conversation(int index)
    {
        public int Index { get; } = index;
        public string Key { get; } = $"kill-{index}";
        public List<string> Sent { get; } = [];
        /// <summary>Messages the gateway acknowledged (a 200, or the first SSE byte), in order.</summary>
        public List<string> Acknowledged { get; } = [];
        /// <summary>User text → the whole reply the client received.</summary>
        public Dictionary<string, string> Completed { get; } = [];
        /// <summary>Turns that failed after the kill (expected: the node died under them or their shard was moving).</summary>
        public List<string> ToleratedFailures { get; } = [];
        public string? Failure { get; set; }
        public Transcript? Final { get; set; }
    }

    private sealed class Load
    {
        private int _completed;
        private volatile bool _killed;
        public TaskCompletionSource KillNow { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Removed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Killed => _killed;
        public void MarkKilled() => _killed = true;

        public void TurnCompleted()
        {
            if (Interlocked.Increment(ref _completed) >= KillAfterCompletedTurns) KillNow.TrySetResult();
        }
    }

    [Fact]
    public async Task Should_move_the_sessions_of_a_killed_node_to_the_survivors_with_every_acknowledged_message()
    {
        var total = Stopwatch.StartNew();
        await using var cluster = await ProcessCluster.StartAsync("kill", drainTimeout: TimeSpan.FromSeconds(5));
        try
        {
            var startup = total.Elapsed;
            // Every turn: the echo of the user's text, streamed a word at a time, so turns are in flight when the node dies.
            cluster.Fake.Script = _ => new FakeResponse { Latency = TimeSpan.FromMilliseconds(10), ChunkDelay = TimeSpan.FromMilliseconds(15) };
            var nodes = cluster.Nodes;
            var victim = nodes[Victim];
            var victimAddress = cluster.AkkaAddress(Victim);
            var conversations = Enumerable.Range(0, SessionCount).Select(i => new Conversation(i)).ToList();
            var load = new Load();

            var drive = Task.WhenAll(conversations.Select(c => ConverseAsync(nodes, c, load, cluster.Log)));
            var killed = await Task.WhenAny(load.KillNow.Task, drive);
            Assert.True(killed == load.KillNow.Task, "the load ended before the kill point: " + Failures(conversations));
            Assert.True(Failures(conversations).Length == 0, "turns failed before the kill: " + Failures(conversations));

            var before = await ProcessCluster.ViewAsync(nodes[0]);
            Assert.True(before.SessionsOn(victimAddress) > 0, $"the victim hosts no session, nothing would move: {before}");
            load.MarkKilled();
            var killedAt = cluster.Log.Now;
            await victim.KillAsync();

            // The survivors' view: unreachable first, then downed by keep-majority (2 of 3) and removed. The API shows the
            // end state; the leader's log says when each step happened.
            var removed = await cluster.WaitForAsync(nodes[0], v => !v.HasMember(victimAddress), RemovalBound, $"rid of the killed {victimAddress}");
            load.Removed.TrySetResult();
            Assert.True(removed.Members.Count(m => m.Status == "up") == 2 && removed.Unreachable.Count == 0, $"two members up, none unreachable: {removed}");
            await cluster.WaitForAsync(nodes[2], v => !v.HasMember(victimAddress), TimeSpan.FromSeconds(5), "rid of the killed node");
            // The leader (the lowest address, either survivor) takes the SBR decision; either logs the rest.
            TimeSpan? Survivors(string text) => new[] { "n1", "n3" }
                .Select(n => cluster.Log.FirstAt(n, killedAt, l => l.Contains(text, StringComparison.Ordinal) && l.Contains(victimAddress, StringComparison.Ordinal)))
                .Where(t => t is not null).Min() - killedAt;
            var unreachableAfter = Survivors("UNREACHABLE");
            var downedAfter = Survivors("is downing");
            var removedAfter = Survivors("left the cluster (was Down)");
            cluster.Log.Add("test", $"{victimAddress}: unreachable after {unreachableAfter?.TotalSeconds:0.0}s, downed after {downedAfter?.TotalSeconds:0.0}s, removed after {removedAfter?.TotalSeconds:0.0}s");
            Assert.True(downedAfter is not null && removedAfter is not null && removedAfter <= RemovalBound,
                $"the leader's log shows no SBR downing and removal of {victimAddress} within {RemovalBound.TotalSeconds} s");

            if (await Task.WhenAny(drive, Task.Delay(LoadTimeout)) != drive)
                Assert.Fail($"the load did not end within {LoadTimeout.TotalSeconds} s: " +
                            string.Join("; ", conversations.Select(c => $"{c.Key} sent {c.Sent.Count}, acknowledged {c.Acknowledged.Count}")));
            await drive;
            Assert.True(Failures(conversations).Length == 0, "unexpected failures: " + Failures(conversations));

            // Every session answers on the survivors (a shard may still be moving: a bounded retry).
            var survivors = new[] { nodes[0], nodes[2] };
            foreach (var c in conversations)
                await FinalTurnAsync(survivors[c.Index % 2], c);

            foreach (var c in conversations)
                await VerifyAsync(survivors, c);

            var after = await ProcessCluster.ViewAsync(nodes[2]);
            Assert.True(after.SessionsOn(victimAddress) == 0 && after.SessionsByNode.Keys.All(a => a != victimAddress), $"shards still on the dead node: {after}");
            Assert.True(after.SessionsByNode.Values.Sum() == SessionCount, $"all {SessionCount} sessions live on the survivors: {after}");

            var acked = conversations.Sum(c => c.Acknowledged.Count);
            var tolerated = conversations.Sum(c => c.ToleratedFailures.Count);
            output.WriteLine($"startup {startup.TotalSeconds:0.0}s; {acked} acknowledged messages, {tolerated} turns failed after the kill " +
                             $"({string.Join("; ", conversations.SelectMany(c => c.ToleratedFailures.Select(f => $"{c.Key}: {f}")).Take(12))}); " +
                             $"victim hosted {before.SessionsOn(victimAddress)} sessions; unreachable after {unreachableAfter?.TotalSeconds:0.0}s, " +
                             $"downed after {downedAfter?.TotalSeconds:0.0}s, removed after {removedAfter?.TotalSeconds:0.0}s (bound {RemovalBound.TotalSeconds}s); " +
                             $"total {total.Elapsed.TotalSeconds:0.0}s");
            // Streams that stalled through a survivor: was their run's reply stored (the session lived on a survivor) or not
            // (the session lived on the killed node, and its stream to the survivor never failed)?
            foreach (var c in conversations)
                foreach (var stall in c.ToleratedFailures.Where(f => f.Contains("stalled", StringComparison.Ordinal) || f.Contains("Timeout", StringComparison.Ordinal) || f.Contains("canceled", StringComparison.Ordinal)))
                {
                    var turn = stall["turn ".Length..stall.IndexOf(' ', "turn ".Length)];
                    var question = $"{c.Key} turn {turn} alpha beta gamma delta";
                    var stored = c.Final!.Entries.SkipWhile(e => e.Content != question).Skip(1).Any(e => e.Role == "assistant" && e.Content == Echo(question));
                    output.WriteLine($"{c.Key} turn {turn}: {stall[..Math.Min(stall.Length, 80)]}...; its reply {(stored ? "was" : "was not")} stored");
                }
            output.WriteLine(cluster.Milestones());
            // A stream whose session lived on the killed node ends by itself (a session_lost error frame), never stalls.
            Assert.DoesNotContain(conversations.SelectMany(c => c.ToleratedFailures), f => f.Contains("stalled", StringComparison.Ordinal));
        }
        catch
        {
            output.WriteLine(cluster.Report());
            throw;
        }
    }

    /// <summary>One session's turns in order, each through another node (skipping the dead one).</summary>
    private static async Task ConverseAsync(IReadOnlyList<GatewayProcess> nodes, Conversation c, Load load, GatewayLog log)
    {
        var waitForRemoval = false;
        for (var t = 0; t < TurnsPerSession && c.Failure is null; t++)
        {
            if (waitForRemoval)
            {
                // A session whose turn failed after the kill waits until the dead node is out, so it does not spend every
                // turn on a shard that is still homed there (each such turn waits out the ask timeout).
                await load.Removed.Task.WaitAsync(RemovalBound + TimeSpan.FromSeconds(5));
                waitForRemoval = false;
            }
            var text = $"{c.Key} turn {t} alpha beta gamma delta";
            var node = Pick(nodes, c.Index + t);
            var stream = (c.Index + t) % 2 == 0;
            var killedBefore = load.Killed;
            c.Sent.Add(text);
            string? failure;
            try
            {
                failure = stream ? await StreamTurnAsync(node, c, text) : await PlainTurnAsync(node, c, text);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            if (failure is null)
            {
                load.TurnCompleted();
                continue;
            }
            failure = $"turn {t} via {node.Name} ({(stream ? "stream" : "json")}): {failure}";
            log.Add("client", $"{c.Key} {failure}");
            if (!load.Killed && !killedBefore)
            {
                c.Failure = failure;
                return;
            }
            c.ToleratedFailures.Add(failure);
            waitForRemoval = !load.Removed.Task.IsCompleted;
        }
    }

    private static GatewayProcess Pick(IReadOnlyList<GatewayProcess> nodes, int turn)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[(turn + i) % nodes.Count];
            if (!node.HasExited) return node;
        }
        throw new InvalidOperationException("no node alive");
    }

    /// <summary>A JSON turn: the 200 is the acknowledgement and the reply. Null, or what went wrong.</summary>
    private static async Task<string?> PlainTurnAsync(GatewayProcess node, Conversation c, string text)
    {
        using var request = ProcessCluster.Post($"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = text }));
        using var timeout = new CancellationTokenSource(HeaderTimeout);
        using var response = await node.Http.SendAsync(request, timeout.Token);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) return $"{(int)response.StatusCode} {body}";
        c.Acknowledged.Add(text);
        using var doc = JsonDocument.Parse(body);
        var reply = doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
        if (reply != Echo(text)) return $"unexpected reply \"{reply}\" from {response.Headers.GetValues("x-durar-model").FirstOrDefault()}";
        c.Completed[text] = reply;
        return null;
    }

    /// <summary>A streamed turn: the first SSE byte is the acknowledgement; [DONE] without an error frame completes it.</summary>
    private static async Task<string?> StreamTurnAsync(GatewayProcess node, Conversation c, string text)
    {
        using var request = ProcessCluster.Post($"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = text, stream = true }));
        using var headers = new CancellationTokenSource(HeaderTimeout);
        using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        if (response.StatusCode != HttpStatusCode.OK) return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var received = new MemoryStream();
        // The client's timeout covers the headers only: a stream that stops moving fails the turn after StreamIdleTimeout.
        using var idle = new CancellationTokenSource(StreamIdleTimeout);
        var n = await body.ReadAsync(buffer, idle.Token);
        if (n == 0) return "empty stream";
        c.Acknowledged.Add(text);
        try
        {
            do
            {
                received.Write(buffer, 0, n);
                idle.CancelAfter(StreamIdleTimeout);
            } while ((n = await body.ReadAsync(buffer, idle.Token)) > 0);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested)
        {
            return $"the stream stalled for {StreamIdleTimeout.TotalSeconds} s after: {Encoding.UTF8.GetString(received.ToArray())}";
        }
        var frames = ProcessCluster.DataFrames(Encoding.UTF8.GetString(received.ToArray()));
        if (frames.Count == 0 || frames[^1] != "[DONE]" || frames.Any(f => f.Contains("\"error\"", StringComparison.Ordinal)))
            return "incomplete stream: " + string.Join(" ", frames.TakeLast(3));
        var reply = ProcessCluster.StreamedText(frames);
        if (reply != Echo(text)) return "unexpected reply " + reply;
        c.Completed[text] = reply;
        return null;
    }

    /// <summary>One more turn through a survivor; up to three tries while the shard may still be moving.</summary>
    private static async Task FinalTurnAsync(GatewayProcess node, Conversation c)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var text = $"{c.Key} after the kill {attempt}";
            c.Sent.Add(text);
            var failure = await PlainTurnAsync(node, c, text);
            if (failure is null) return;
            failures.Add(failure);
        }
        Assert.Fail($"{c.Key} does not answer on {node.Name}: {string.Join("; ", failures)}");
    }

    private static async Task VerifyAsync(IReadOnlyList<GatewayProcess> survivors, Conversation c)
    {
        // Both survivors serve the same transcript (read again if a late message landed between the two reads).
        var (first, _) = await Eventually.Until(
            async () => (First: await ProcessCluster.TranscriptAsync(survivors[0], c.Key), Second: await ProcessCluster.TranscriptAsync(survivors[1], c.Key)),
            both => both.First.Raw == both.Second.Raw, $"{c.Key}: the survivors agreeing on the transcript", TimeSpan.FromSeconds(5),
            TimeSpan.FromMilliseconds(250), describe: both => $"\n{both.First.Raw}\n{both.Second.Raw}");
        var context = $"{c.Key}: sent [{string.Join(" | ", c.Sent)}], acknowledged [{string.Join(" | ", c.Acknowledged)}], " +
                      $"tolerated failures [{string.Join(" | ", c.ToleratedFailures)}], transcript {first.Raw}";

        c.Final = first;
        var users = first.UserMessages.ToList();
        Assert.True(users.All(c.Sent.Contains), "a message nobody sent: " + context);
        Assert.True(users.Distinct().Count() == users.Count, "a duplicated message: " + context);
        var positions = c.Acknowledged.Select(a => users.IndexOf(a)).ToList();
        Assert.True(positions.All(p => p >= 0), "an acknowledged message is lost: " + context);
        Assert.True(positions.Zip(positions.Skip(1)).All(p => p.Item1 < p.Item2), "acknowledged messages out of order: " + context);

        // Every reply answers a message before it; every reply a client received whole is stored whole.
        var entries = first.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Role != "assistant") continue;
            var earlier = entries.Take(i).Where(e => e.Role == "user").Select(e => Echo(e.Content));
            Assert.True(earlier.Contains(entries[i].Content), $"reply #{i} answers no earlier message: " + context);
        }
        foreach (var (question, reply) in c.Completed)
        {
            var at = entries.ToList().FindIndex(e => e.Role == "user" && e.Content == question);
            Assert.True(entries.Skip(at + 1).Any(e => e.Role == "assistant" && e.Content == reply), $"the reply to \"{question}\" is lost: " + context);
        }
    }

    private static string Echo(string text) => EchoPrefix + text;

    private static string Failures(IEnumerable<Conversation> conversations) =>
        string.Join("; ", conversations.Where(c => c.Failure is not null).Select(c => $"{c.Key}: {c.Failure}"));
}
