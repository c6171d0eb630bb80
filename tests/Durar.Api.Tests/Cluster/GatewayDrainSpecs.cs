using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using Durar.Actors.Configuration;
using Durar.Api.Extensions;
using Durar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// The drain of a stopping gateway, in-process (the SIGTERM path end to end is <see cref="ClusterGracefulLeaveSpecs"/>):
/// the stop signal refuses new requests, and at the deadline a stream still running ends with an error event and no [DONE]
/// while a request that has not answered yet gets a 503. Plus the configuration it reads.
/// </summary>
public sealed class GatewayDrainSpecs
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(1);

    private static Task<GatewayHarness> StartAsync() =>
        GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + $"\ngateway.shutdown.drainTimeout = {Drain.TotalMilliseconds}ms");

    private static void BeginStop(GatewayHarness gw) => gw.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"fakeoai/gpt-fake","stream":true,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("v1/sessions/drain-1/messages", """{"content":"hi","stream":true}""")]
    public async Task Should_end_a_stream_still_running_at_the_drain_deadline_with_an_error_event_and_done(string path, string json)
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four", StallAfterChunks = 2 });
        using var request = gw.Post(path, json);
        // Read until both chunks before the stall arrived, then stop the host.
        var (_, received, ended) = await StreamThenStopAsync(gw, request, t => t.Contains(" two", StringComparison.Ordinal));

        var frames = ProcessCluster.DataFrames(received);
        Assert.True(frames.Count >= 2 && frames[^1].StartsWith("{\"error\"", StringComparison.Ordinal) && !frames.Contains("[DONE]"),
            "expected the chunks so far, then an error frame and no [DONE]: " + string.Join(" | ", frames));
        using var error = JsonDocument.Parse(frames[^1]);
        Assert.Equal(GatewayDrain.ShuttingDownCode, error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("one two", ProcessCluster.StreamedText(frames.Take(frames.Count - 1)));
        Assert.True(ended >= Drain - TimeSpan.FromMilliseconds(100) && ended < Drain + TimeSpan.FromSeconds(3), $"ended after {ended.TotalSeconds:0.00} s");
        var drain = gw.Services.GetRequiredService<GatewayDrain>();
        await drain.Drained.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, drain.InFlight);
    }

    /// <summary>
    /// Anthropic's and the Responses API's streams are cut in their own words: an SDK of that dialect must read the ending
    /// as an error (not an OpenAI frame it cannot parse), and must not see the dialect's terminator.
    /// </summary>
    [Theory]
    [InlineData("v1/messages", """{"model":"fakeoai/gpt-fake","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}""",
        "error", "message_stop", null)]
    [InlineData("v1/messages", """{"model":"fakeoai/gpt-fake","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}""",
        "error", "message_stop", "drain-2")]
    [InlineData("v1/responses", """{"model":"fakeoai/gpt-fake","stream":true,"store":false,"input":"hi"}""", "response.failed",
        "response.completed", null)]
    [InlineData("v1/responses", """{"model":"fakeoai/gpt-fake","stream":true,"input":"hi"}""", "response.failed", "response.completed", null)]
    public async Task Should_end_a_stream_still_running_at_the_deadline_in_its_own_dialect(string path, string json, string lastEvent,
        string terminator, string? sessionKey)
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four", StallAfterChunks = 2 });
        using var request = gw.Post(path, json);
        if (sessionKey is not null) request.Headers.Add(Durar.Api.Apis.DurarHeaders.SessionKey, sessionKey);
        var (_, received, _) = await StreamThenStopAsync(gw, request, t => t.Contains(" two", StringComparison.Ordinal));

        var events = NamedEvents(received);
        Assert.True(events.Count >= 2 && events[^1].Name == lastEvent && events.All(e => e.Name != terminator && e.Data != "[DONE]"),
            $"expected the events so far, then {lastEvent} and no {terminator}: " + string.Join(" | ", events.Select(e => e.Name)));
        var error = events.Last(e => e.Name == "error");
        using var doc = JsonDocument.Parse(error.Data);
        if (lastEvent == "error")
        {
            // Anthropic's shape: {"type":"error","error":{"type":"api_error","message":...}}
            Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
            Assert.Equal("api_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        else
        {
            Assert.Equal(GatewayDrain.ShuttingDownCode, doc.RootElement.GetProperty("code").GetString());
            using var failed = JsonDocument.Parse(events[^1].Data);
            Assert.Equal("failed", failed.RootElement.GetProperty("response").GetProperty("status").GetString());
            // The sequence numbers go on from the events before the cut.
            var sequence = events.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("sequence_number").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(0, sequence.Count).Select(i => (long)i), sequence);
        }
        await gw.Services.GetRequiredService<GatewayDrain>().Drained.WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// A stream whose answer was complete before the deadline (its handler still running) gets nothing appended: the drain
    /// reads that from the request's facts, for every dialect (before, only OpenAI's <c>[DONE]</c> was recognised, and a
    /// finished Messages or Responses stream got an error frame after its terminator).
    /// </summary>
    [Theory]
    [InlineData("chat")]
    [InlineData("messages")]
    [InlineData("responses")]
    public async Task Should_leave_alone_a_stream_whose_answer_was_complete_before_the_deadline(string dialect)
    {
        await using var gw = await GatewayHarness.StartAsync($"gateway.shutdown.drainTimeout = {Drain.TotalMilliseconds}ms",
            configure: app => app.MapPost("/test/answer-then-linger", Telemetry.RequestOutcomeSpecs.AnswerThenLingerAsync));
        using var request = gw.Post($"test/answer-then-linger?dialect={dialect}&stream=true&model=linger/{dialect}", "{}");
        // The handler lingers until the drain deadline cancels its token.
        var (answer, received, _) = await StreamThenStopAsync(gw, request, Telemetry.RequestOutcomeSpecs.Terminator(dialect));

        Assert.Equal(answer, received);
        await gw.Services.GetRequiredService<GatewayDrain>().Drained.WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Reads <paramref name="request"/>'s stream until <paramref name="until"/> holds for what arrived, stops the host, and
    /// reads on to the end: what had arrived, all of it, and how long the end took after the stop.
    /// </summary>
    private static async Task<(string Before, string All, TimeSpan EndedAfterStop)> StreamThenStopAsync(GatewayHarness gw,
        HttpRequestMessage request, Func<string, bool> until)
    {
        using var response = await gw.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var received = new StringBuilder();
        using var read = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!until(received.ToString()))
            received.Append(Encoding.UTF8.GetString(buffer, 0, await body.ReadAsync(buffer, read.Token)));
        var before = received.ToString();
        var clock = Stopwatch.StartNew();
        BeginStop(gw);
        int n;
        while ((n = await body.ReadAsync(buffer, read.Token)) > 0) received.Append(Encoding.UTF8.GetString(buffer, 0, n));
        return (before, received.ToString(), clock.Elapsed);
    }

    /// <summary>SSE events as (name, data); an event without a name line is <c>message</c>.</summary>
    private static List<(string Name, string Data)> NamedEvents(string body) =>
        body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(frame => frame.Split('\n'))
            .Select(lines => (
                lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..] ?? "message",
                string.Join("\n", lines.Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]))))
            .Where(e => e.Item2.Length > 0)
            .ToList();

    [Fact]
    public async Task Should_answer_503_to_a_request_that_had_not_answered_at_the_deadline()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Latency = TimeSpan.FromSeconds(30) });
        using var request = gw.Post("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}]}""");
        var pending = gw.Http.SendAsync(request);
        await gw.Fake.WaitForRequestAsync(_ => true, TimeSpan.FromSeconds(10));

        BeginStop(gw);
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(GatewayDrain.ShuttingDownCode, doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(response.Headers.ConnectionClose == true, "the connection should close");
    }

    [Fact]
    public async Task Should_refuse_new_requests_once_stopping_and_let_a_short_request_in_flight_finish()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Latency = TimeSpan.FromMilliseconds(300), Text = "finished" });
        using var request = gw.Post("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}]}""");
        var pending = gw.Http.SendAsync(request);
        await gw.Fake.WaitForRequestAsync(_ => true, TimeSpan.FromSeconds(10));

        BeginStop(gw);
        using var refused = await gw.Http.GetAsync("healthz");
        using var finished = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains(GatewayDrain.ShuttingDownCode, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Contains("\"finished\"", await finished.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 20_000)]
    [InlineData("gateway.shutdown.drainTimeout = 3s", 3_000)]
    [InlineData("gateway.shutdown.drainTimeout = 0s", 0)]
    public void Should_read_the_drain_timeout(string? hocon, int expectedMs)
    {
        var config = hocon is null ? DurarSettingsLoader.Defaults : ConfigurationFactory.ParseString(hocon).WithFallback(DurarSettingsLoader.Defaults);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ShutdownOptions.FromConfig(config).DrainTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs) + ShutdownOptions.LeaveBudget, ShutdownOptions.FromConfig(config).HostShutdownTimeout);
    }

    [Theory]
    [InlineData("gateway.shutdown.drainTimeout = -1s")]
    [InlineData("gateway.shutdown.drainTimeout = soon")]
    [InlineData("gateway.shutdown.drainTimeout = 2h")]
    public void Should_reject_a_bad_drain_timeout_naming_the_key(string hocon)
    {
        var e = Assert.Throws<DurarConfigException>(() => ShutdownOptions.FromConfig(ConfigurationFactory.ParseString(hocon)));
        Assert.Equal(ShutdownOptions.DrainTimeoutPath, e.Path);
    }

    [Fact]
    public async Task Should_keep_the_config_file_when_cluster_flags_are_given()
    {
        // The README's cluster commands: --config plus --cluster-port and --seed. The flags must not bring the defaults back.
        var file = Path.Combine(Directory.CreateTempSubdirectory("durar-flags-").FullName, "cluster.conf");
        await File.WriteAllTextAsync(file, """
            models { providers { clu { baseUrl = "http://127.0.0.1:9/v1", apiKey = "sk-x", api = "openai-completions", models = [{ id = "m" }] } } }
            agents { defaults { model { primary = "clu/m" } } }
            gateway { persistence { provider = "postgresql", connectionString = "Host=127.0.0.1;Database=durar" } }
            gateway.shutdown.drainTimeout = 7s
            """);
        var options = GatewayOptions.FromEnvironment(file, 18790, "data/n2", 4054, ["akka.tcp://durar@127.0.0.1:4053"]);

        var config = GatewayHost.LoadConfig(options);
        var settings = DurarSettingsLoader.Load(config);

        Assert.Equal("clu/m", settings.Agents.Primary);
        Assert.Equal("postgresql", config.GetString("gateway.persistence.provider"));
        Assert.Equal(4054, settings.Gateway.Cluster.Port);
        Assert.Equal(["akka.tcp://durar@127.0.0.1:4053"], settings.Gateway.Cluster.SeedNodes.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(7), ShutdownOptions.FromConfig(config).DrainTimeout);
    }
}
