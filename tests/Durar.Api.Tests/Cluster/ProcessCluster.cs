using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Durar.Api.Tests.Durability;
using Durar.Testing;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// The multi-process cluster specs run alone, after the parallel specs: three gateway processes, PostgreSQL and a failure
/// detector with a seconds-scale budget must not compete for the two cores with other tests (a starved node looks dead).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "Process clusters (not parallel)";
}

/// <summary>
/// Three real gateway processes on 127.0.0.1 forming one Akka cluster over a shared PostgreSQL journal (a fresh database per
/// cluster), in front of one <see cref="FakeProvider"/>. Each node is started exactly like the README's three commands:
/// <c>--config cluster.conf --port P --cluster-port C --seed akka.tcp://durar@127.0.0.1:C1 --data-dir data/nN</c>, from the
/// built Release output. Node 1 starts first and is ready (its journal tables exist) before nodes 2 and 3 start together:
/// Akka.Persistence.Sql creates its tables on first use, and two nodes doing that at once on an empty database can collide.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    public const string Provider = "clu";
    public const string ApiKey = "sk-cluster-proc-1";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root;
    private readonly PostgresDatabase _database;

    private ProcessCluster(string root, PostgresDatabase database, FakeProvider fake, GatewayLog log, int[] clusterPorts)
    {
        _root = root;
        _database = database;
        Fake = fake;
        Log = log;
        ClusterPorts = clusterPorts;
    }

    public FakeProvider Fake { get; }
    public GatewayLog Log { get; }
    public int[] ClusterPorts { get; }
    public List<GatewayProcess> Nodes { get; } = [];
    public string DatabaseName => _database.Name;

    /// <summary>The Akka address of node <paramref name="index"/> (0-based), as <c>/v1/admin/cluster</c> prints it.</summary>
    public string AkkaAddress(int index) => $"akka.tcp://durar@127.0.0.1:{ClusterPorts[index]}";

    public IEnumerable<GatewayProcess> Alive => Nodes.Where(n => !n.HasExited);

    /// <summary>
    /// The configuration every node shares: the fake provider, PostgreSQL, and failure detection scaled for a test (the
    /// defaults take about 30 s from a crash to the hand-over of its shards; these take about 10 s).
    /// </summary>
    private static string Config(string fakeOpenAi, string connectionString, TimeSpan drainTimeout) => $$"""
        models { providers { {{Provider}} { baseUrl = "{{fakeOpenAi}}", apiKey = "{{ApiKey}}", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "{{Provider}}/m" } } }
        gateway {
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s }
          # A turn whose session lived on a dead node times out after 3 x askTimeout (until its shard has moved).
          askTimeout = 3s
          shutdown { drainTimeout = {{(int)drainTimeout.TotalMilliseconds}}ms }
          persistence { provider = "postgresql", connectionString = "{{connectionString}}" }
        }
        akka.cluster {
          # Keep-majority downs an unreachable node once the membership was stable this long (production default 20 s);
          # sharding then waits the same margin before it re-homes the dead node's shards.
          split-brain-resolver.stable-after = 3s
          failure-detector { heartbeat-interval = 1s, acceptable-heartbeat-pause = 3s }
        }
        """;

    public static async Task<ProcessCluster> StartAsync(string name, TimeSpan drainTimeout)
    {
        var watch = Stopwatch.StartNew();
        var server = await PostgresServer.StartOrUseAsync();
        var database = await server.CreateDatabaseAsync();
        var root = Directory.CreateTempSubdirectory($"durar-{name}-").FullName;
        var fake = await FakeProvider.StartAsync();
        var log = new GatewayLog();
        var ports = new[] { GatewayProcess.FreePort(), GatewayProcess.FreePort(), GatewayProcess.FreePort() };
        var cluster = new ProcessCluster(root, database, fake, log, ports);
        try
        {
            var configPath = Path.Combine(root, "cluster.conf");
            await File.WriteAllTextAsync(configPath, Config(fake.OpenAiBaseUrl, database.ConnectionString, drainTimeout));
            cluster.Nodes.Add(await cluster.StartNodeAsync(0, configPath));
            var others = await Task.WhenAll(cluster.StartNodeAsync(1, configPath), cluster.StartNodeAsync(2, configPath));
            cluster.Nodes.AddRange(others);
            await cluster.WaitForAsync(cluster.Nodes[0], v => v.Members.Count(m => m.Status == "up") == 3, JoinTimeout, "three members up");
            log.Add("test", $"cluster of three up after {watch.Elapsed.TotalSeconds:0.0}s (database {database.Name})");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>One node, with the README's flags: the same seed (node 1) for all three.</summary>
    private Task<GatewayProcess> StartNodeAsync(int index, string configPath)
    {
        var args = new[]
        {
            "--cluster-port", ClusterPorts[index].ToString(CultureInfo.InvariantCulture),
            "--seed", AkkaAddress(0),
        };
        var dataDir = Path.Combine(_root, "data", $"n{index + 1}");
        return GatewayProcess.StartAsync($"n{index + 1}", configPath, dataDir, _root, Log, ReadyTimeout, args);
    }

    /// <summary>The membership and shard view of <paramref name="node"/>.</summary>
    public static async Task<ClusterView> ViewAsync(GatewayProcess node)
    {
        using var response = await node.Http.GetAsync("v1/admin/cluster");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /v1/admin/cluster on {node.Name}: {(int)response.StatusCode} {body}");
        return ClusterView.Parse(body);
    }

    /// <summary>Polls <paramref name="node"/>'s view every 100 ms until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
    public Task<ClusterView> WaitForAsync(GatewayProcess node, Func<ClusterView, bool> condition, TimeSpan timeout, string what) =>
        Eventually.Until(() => ViewAsync(node), condition, $"{node.Name}: {what}", timeout, TimeSpan.FromMilliseconds(100));

    /// <summary>
    /// For a failed test: the test's milestones, warnings and errors of every node, the last lines, and the path of a file
    /// with the whole log (kept in the temp directory).
    /// </summary>
    public string Report()
    {
        var lines = Log.Lines;
        var file = Path.Combine(Path.GetTempPath(), $"durar-cluster-{DatabaseName}.log");
        try
        {
            File.WriteAllLines(file, lines);
        }
        catch (IOException)
        {
            file = "(could not be written)";
        }
        var notable = lines.Where(l => l.Contains("[test]", StringComparison.Ordinal) || l.Contains(" WRN]", StringComparison.Ordinal)
                                       || l.Contains(" ERR]", StringComparison.Ordinal) || l.Contains("Shutdown:", StringComparison.Ordinal)).TakeLast(150);
        return $"full log: {file}\n--- milestones, warnings, errors ---\n{string.Join("\n", notable)}\n--- last lines ---\n{Log.Tail(60)}";
    }

    /// <summary>The test's and the clients' milestones (what a passing run prints).</summary>
    public string Milestones() =>
        string.Join("\n", Log.Lines.Where(l => l.Contains("[test]", StringComparison.Ordinal) || l.Contains("[client]", StringComparison.Ordinal)
                                                || l.Contains("Shutdown:", StringComparison.Ordinal)));

    public static HttpRequestMessage Post(string path, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return request;
    }

    /// <summary>The user and assistant entries of a session's transcript, as <paramref name="node"/> serves them.</summary>
    public static async Task<Transcript> TranscriptAsync(GatewayProcess node, string session)
    {
        using var response = await node.Http.GetAsync($"v1/sessions/{session}/messages?limit=500");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET transcript of {session} on {node.Name}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        var entries = doc.RootElement.GetProperty("messages").EnumerateArray()
            .Select(e => new TranscriptEntry(e.GetProperty("role").GetString()!, e.GetProperty("content").GetString() ?? ""))
            .ToList();
        return new Transcript(body, doc.RootElement.GetProperty("total").GetInt32(), entries);
    }

    /// <summary>The <c>data:</c> payloads of an SSE body, in order.</summary>
    public static List<string> DataFrames(string body) =>
        body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(frame => string.Join("\n", frame.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..])))
            .Where(d => d.Length > 0)
            .ToList();

    /// <summary>The content deltas of SSE chunk frames, concatenated (the [DONE] and error frames carry none).</summary>
    public static string StreamedText(IEnumerable<string> frames)
    {
        var text = new StringBuilder();
        foreach (var frame in frames.Where(f => f != "[DONE]"))
        {
            using var doc = JsonDocument.Parse(frame);
            if (doc.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
                text.Append(piece.GetString());
        }
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(Nodes)) await node.DisposeAsync();
        await Fake.DisposeAsync();
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp dir must not fail the test.
        }
    }
}

internal sealed record TranscriptEntry(string Role, string Content);

internal sealed record Transcript(string Raw, int Total, IReadOnlyList<TranscriptEntry> Entries)
{
    public IReadOnlyList<string> UserMessages => Entries.Where(e => e.Role == "user").Select(e => e.Content).ToList();
}

internal sealed record ClusterMember(string Address, string Status, bool Reachable);

/// <summary>What <c>GET /v1/admin/cluster</c> said: members, unreachable addresses and sessions per node.</summary>
internal sealed record ClusterView(string Raw, string Self, IReadOnlyList<ClusterMember> Members, IReadOnlyList<string> Unreachable,
    IReadOnlyDictionary<string, int> SessionsByNode)
{
    public static ClusterView Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var self = root.GetProperty("self").GetString()!;
        var members = root.GetProperty("members").EnumerateArray()
            .Select(m => new ClusterMember(m.GetProperty("address").GetString()!, m.GetProperty("status").GetString()!, m.GetProperty("reachable").GetBoolean()))
            .ToList();
        var unreachable = root.GetProperty("unreachable").EnumerateArray().Select(u => u.GetString()!).ToList();
        // Sharding reports the local region under the local address (akka://durar, no host): that is this node.
        var sessions = root.GetProperty("shards").EnumerateObject()
            .GroupBy(p => p.Name.Contains('@', StringComparison.Ordinal) ? p.Name : self)
            .ToDictionary(g => g.Key, g => g.Sum(p => p.Value.GetProperty("sessions").GetInt32()));
        return new ClusterView(json, self, members, unreachable, sessions);
    }

    public bool HasMember(string address) => Members.Any(m => m.Address == address);

    public bool SeesUnreachable(string address) => Unreachable.Contains(address) || Members.Any(m => m.Address == address && !m.Reachable);

    public int SessionsOn(string address) => SessionsByNode.TryGetValue(address, out var n) ? n : 0;

    public override string ToString() => Raw;
}
