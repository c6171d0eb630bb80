using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// What the hot path's shortcuts must not change (issue 6): a completion leaves with a Content-Length; a stream read
/// straight from the transport still delivers every token as it arrives, is not cut by the failover budget once it has
/// started, and still fails over when the upstream fails before the first token.
/// </summary>
public sealed class HotPathSpecs
{
    private const string Stream = """{"model":"fakeoai/gpt-fake","stream":true,"messages":[{"role":"user","content":"x"}]}""";

    [Fact]
    public async Task Should_answer_a_completion_with_a_content_length_instead_of_a_chunked_body()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "hello there" };
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}]}"""));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("hello there", doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.StartsWith("chatcmpl-", doc.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Should_give_every_completion_its_own_id()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
                """{"model":"echo/echo","messages":[{"role":"user","content":"x"}]}"""));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var id = doc.RootElement.GetProperty("id").GetString()!;
            Assert.Matches("^chatcmpl-[0-9a-f]{32}$", id);
            Assert.True(ids.Add(id), $"duplicate id {id}");
        }
    }

    [Fact]
    public async Task Should_deliver_the_tokens_received_so_far_while_the_upstream_is_quiet()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "alpha beta gamma", StallAfterChunks = 2 });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", Stream), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        var seen = new StringBuilder();
        var buffer = new byte[4096];
        // Both tokens sent before the stall must arrive, none held back waiting for more (bounded by the token above).
        while (!(seen.ToString().Contains("\"content\":\"alpha\"") && seen.ToString().Contains("\"content\":\" beta\"")))
        {
            var n = await stream.ReadAsync(buffer, cts.Token);
            Assert.True(n > 0, "the stream ended early: " + seen);
            seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        Assert.StartsWith("data: {", seen.ToString());
        Assert.Contains("\"role\":\"assistant\"", seen.ToString());
        cts.Cancel();
        response.Dispose();
        await gw.Fake.WaitForClientAbortAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Should_not_cut_a_started_stream_when_the_failover_budget_runs_out()
    {
        await using var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + "\ngateway { failover { budget = 1s } }");
        // A fresh node's first lease waits for the cluster to form, which alone can take longer than this budget.
        for (var i = 0; i < 20; i++)
        {
            using var warm = await gw.Http.SendAsync(gw.Post("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}]}"""));
            if (warm.StatusCode == HttpStatusCode.OK) break;
        }
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e f", ChunkDelay = TimeSpan.FromMilliseconds(300) });
        var watch = Stopwatch.StartNew();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", Stream));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1), $"the stream took only {watch.Elapsed}: the budget was not exceeded");
        Assert.DoesNotContain("\"error\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Contains("\"content\":\" f\"", body);
    }

    [Fact]
    public async Task Should_retry_a_stream_that_fails_before_its_first_token()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "never", CutAfterChunks = 0 });
        gw.Fake.Default = new FakeResponse { Text = "second time lucky" };
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", Stream));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-durar-attempts").Single());
        Assert.Equal(2, gw.Fake.Requests.Count);
        Assert.Contains("\"content\":\" time\"", body);
        Assert.DoesNotContain("never", body);
        Assert.DoesNotContain("\"error\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
    }
}
