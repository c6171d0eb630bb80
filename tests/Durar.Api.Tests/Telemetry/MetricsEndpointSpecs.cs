using System.Net;
using System.Net.Http.Headers;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// <c>GET /metrics</c> through the real gateway, read as Prometheus reads it: after a failover (a 429 on the provider's first
/// key through the fake provider) the request, latency, attempt, time-to-first-token, token, cost, failover, cooldown and
/// key-state series are there with the right labels and values; the endpoint follows the admin rule; it can be switched off.
/// Every spec uses its own provider id, because specs run in parallel and the meter listener sees every gateway of the process.
/// </summary>
public sealed class MetricsEndpointSpecs
{
    private const string KeyA = "sk-metrics-aaaa";
    private const string KeyB = "sk-metrics-bbbb";

    /// <summary>Provider <paramref name="id"/>: model m1 priced at $3 / $15 per million tokens, keys A then B.</summary>
    private static string TwoKeys(string id) => $$"""
        models { providers { {{id}} { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m1", cost = { input = 3, output = 15 } }] } } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{KeyA}},{{KeyB}}" }
        """ + "\n" + FastFailover;

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(GatewayHarness gw, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await gw.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {(int)response.StatusCode}: {body}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return PrometheusText.Parse(body);
    }

    [Fact]
    public async Task Should_expose_requests_latency_attempts_tokens_cost_failovers_cooldowns_and_key_states_after_a_failover()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("met1"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : new FakeResponse { Text = "hello there", PromptTokens = 100, CompletionTokens = 20 };

        var first = await gw.ChatAsync("met1/m1");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(2, first.Attempts);
        // Key A now cools for m1: the streamed request goes to B at once.
        var second = await gw.ChatAsync("met1/m1", stream: true);
        AssertCleanStream(second);
        Assert.Equal(1, second.Attempts);
        var keyB = (await gw.KeyAsync("met1", KeyB)).GetProperty("id").GetString()!;
        var keyA = (await gw.KeyAsync("met1", KeyA)).GetProperty("id").GetString()!;

        // The request counters are written when the handler returns, the cooldown when the key actor decides: poll.
        var (provider, model, route) = (("gen_ai_provider_name", "met1"), ("gen_ai_request_model", "m1"), ("http_route", "/v1/chat/completions"));
        var m = await Eventually.Until(() => ScrapeAsync(gw),
            s => s.Find("durar_requests_total", ("gen_ai_request_model", "met1/m1")).Sum(x => x.Value) >= 2
                 && s.Find("durar_key_cooldowns_total", provider).Count > 0,
            "the metrics of both requests and the cooldown", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

        var ok = new[] { route, ("http_request_method", "POST"), ("http_response_status_code", "200"), ("durar_outcome", "success"), ("gen_ai_request_model", "met1/m1") };
        Assert.Equal(2, m.Value("durar_requests_total", ok));
        Assert.Equal(2, m.Value("durar_request_duration_seconds_count", ok));
        Assert.Equal(2, m.Value("durar_request_duration_seconds_bucket", [.. ok, ("le", "+Inf")]));
        Assert.InRange(m.Value("durar_request_duration_seconds_sum", ok), 0.0001, 20);

        // Three attempts: A's 429 (error.type = the failover reason), then B twice.
        var attempt = new[] { ("gen_ai_operation_name", "chat"), provider, model };
        Assert.Equal(2, m.Value("gen_ai_client_operation_duration_seconds_count", attempt));
        Assert.Equal(1, m.Value("gen_ai_client_operation_duration_seconds_count", [.. attempt, ("error_type", "rate_limit")]));
        Assert.Equal(1, m.Value("durar_failovers_total", provider, model, ("durar_failover_reason", "rate_limit"), ("durar_failover_step", "next_key")));

        // Only the stream has a time to first token.
        Assert.Equal(1, m.Value("gen_ai_server_time_to_first_token_seconds_count",
            ("gen_ai_operation_name", "chat"), provider, model, ("gen_ai_response_model", "m1")));

        // Both answers came from key B: 100 + 100 input, 20 + 20 output tokens; cost (200 x 3 + 40 x 15) / 1e6 dollars.
        var onB = new[] { provider, ("gen_ai_response_model", "m1"), ("durar_key_id", keyB) };
        Assert.Equal(200, m.Value("durar_tokens_total", [.. onB, ("gen_ai_token_type", "input")]));
        Assert.Equal(40, m.Value("durar_tokens_total", [.. onB, ("gen_ai_token_type", "output")]));
        Assert.Empty(m.Find("durar_tokens_total", ("durar_key_id", keyA)));
        Assert.Equal(0.0012, m.Value("durar_cost_usd_total", onB), 9);

        // The 429 started one cooldown of key A for model m1, and the provider's view shows one key cooling, one ready.
        Assert.Equal(1, m.Value("durar_key_cooldowns_total", provider, ("durar_failover_reason", "rate_limit"), ("durar_cooldown_kind", "model_cooldown")));
        Assert.Equal(1, m.Value("durar_keys", provider, ("durar_key_state", "cooling")));
        Assert.Equal(1, m.Value("durar_keys", provider, ("durar_key_state", "ready")));
        Assert.Equal(0, m.Value("durar_keys", provider, ("durar_key_state", "disabled")));

        // This node is one Up member of its cluster; the runtime's meter is collected too.
        Assert.Contains(m, s => s.Name == "durar_cluster_members" && s.Labels.GetValueOrDefault("durar_cluster_member_status") == "up" && s.Value >= 1);
        Assert.Contains(m, s => s.Name == "durar_sessions_resident");
        Assert.Contains(m, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_count_a_run_that_failed_by_its_error_code()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("met2"));
        gw.Fake.Script = _ => FakeResponse.RateLimited("7");

        var reply = await gw.ChatAsync("met2/m1");
        Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);

        var m = await Eventually.Until(() => ScrapeAsync(gw),
            s => s.Find("durar_requests_total", ("gen_ai_request_model", "met2/m1")).Count > 0 && s.Find("durar_key_cooldowns_total", ("gen_ai_provider_name", "met2")).Count > 0,
            "the failed request's metrics", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, m.Value("durar_requests_total", ("http_route", "/v1/chat/completions"), ("http_request_method", "POST"),
            ("http_response_status_code", "429"), ("durar_outcome", "rate_limit"), ("gen_ai_request_model", "met2/m1")));
        // Both keys were rate-limited: each 429 rotated to the provider's next key (after B's, none was left).
        Assert.Equal(2, m.Value("durar_failovers_total", ("gen_ai_provider_name", "met2"), ("gen_ai_request_model", "m1"),
            ("durar_failover_reason", "rate_limit"), ("durar_failover_step", "next_key")));
        Assert.Equal(2, m.Value("gen_ai_client_operation_duration_seconds_count", ("gen_ai_operation_name", "chat"), ("gen_ai_provider_name", "met2"),
            ("gen_ai_request_model", "m1"), ("error_type", "rate_limit")));
    }

    [Fact]
    public async Task Should_serve_metrics_only_with_the_gateway_token_when_one_is_configured()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("met3") + "gateway.auth.token = \"metrics-secret-0123456789abcdef0123456789\"\n");

        using var anonymous = await gw.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("invalid_api_key", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // With the token the scrape is served (ScrapeAsync checks 200 and the text format).
        var samples = await ScrapeAsync(gw, "metrics-secret-0123456789abcdef0123456789");
        Assert.Contains(samples, s => s.Name == "target_info");
    }

    [Fact]
    public async Task Should_not_serve_metrics_when_they_are_switched_off()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("met4") + "gateway.telemetry.metrics = off\n");

        using var response = await gw.Http.GetAsync("metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("met4/m1")).Status);
    }
}
