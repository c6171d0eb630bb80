using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// <c>agents.defaults.timeoutSeconds</c> bounds the whole run: a stream still going (or stalled) past it ends with an error
/// event (no <c>[DONE]</c>), and a non-streamed request that outlives it is answered with a 504 timeout error. Small values,
/// bounded waits.
/// </summary>
public sealed class RunTimeoutSpecs
{
    private const string OneSecond = FidelityConfig.Providers + "\nagents.defaults.timeoutSeconds = 1\n";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_end_a_stream_that_outlives_the_run_timeout_with_an_error_event(bool stalled)
    {
        await using var gw = await StartWarmAsync();
        // The scripted pace of a slow upstream (the behaviour under test): 8 words 400 ms apart, or 2 words then nothing.
        gw.Fake.Enqueue(stalled
            ? new FakeResponse { Text = "a b c d e f g h", StallAfterChunks = 2 }
            : new FakeResponse { Text = "a b c d e f g h", ChunkDelay = TimeSpan.FromMilliseconds(400) });
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        var watch = Stopwatch.StartNew();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"proxyoai/proxy-model","stream":true,"messages":[{"role":"user","content":"x"}]}"""), HttpCompletionOption.ResponseHeadersRead, bound.Token);
        var body = await response.Content.ReadAsStringAsync(bound.Token);
        watch.Stop();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"content\":\"a\"", body);
        Assert.DoesNotContain("\"content\":\" h\"", body);
        Assert.DoesNotContain("[DONE]", body);
        var last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("data: {\"error\":", last);
        var error = JsonDocument.Parse(last["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Contains("agents.defaults.timeoutSeconds", error.GetProperty("message").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the stream ended after {watch.Elapsed}, long after the 1 s limit");
    }

    /// <summary>
    /// A gateway past its first request: a cold one spends a good part of a second starting its key actors and compiling
    /// the request path, which a 1 s run limit would count.
    /// </summary>
    private static async Task<GatewayHarness> StartWarmAsync()
    {
        var gw = await GatewayHarness.StartAsync(OneSecond);
        await Eventually.Until(async () =>
        {
            using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
                """{"model":"proxyoai/proxy-model","messages":[{"role":"user","content":"warm up"}]}"""));
            return response.StatusCode;
        }, status => status == HttpStatusCode.OK, "a first answer within the 1 s limit", TimeSpan.FromSeconds(30));
        gw.Fake.Reset();
        return gw;
    }

    [Fact]
    public async Task Should_answer_a_non_streamed_request_that_outlives_the_run_timeout_with_504()
    {
        await using var gw = await StartWarmAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "late", Latency = TimeSpan.FromSeconds(10) }); // slower than the limit (scripted)

        var watch = Stopwatch.StartNew();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"proxyoai/proxy-model","messages":[{"role":"user","content":"x"}]}"""));
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Contains("agents.defaults.timeoutSeconds", error.GetProperty("message").GetString());
        Assert.Equal("timeout", error.GetProperty("code").GetString());
        Assert.Equal("timeout", response.Headers.GetValues(Durar.Api.Apis.DurarHeaders.FailureReason).Single());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"answered after {watch.Elapsed}");
    }
}
