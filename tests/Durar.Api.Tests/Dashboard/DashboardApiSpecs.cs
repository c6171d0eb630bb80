using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Providers;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Dashboard;

/// <summary>
/// The dashboard's data over HTTP, without a browser: the event stream (<c>GET /v1/admin/events</c>) delivers a snapshot,
/// then key changes pushed by the key actors and completed requests with their attempts; <c>GET /v1/admin/requests</c>
/// keeps only the configured number; the stream ends cleanly when the node stops; the page's files are served with a
/// strict Content-Security-Policy under the admin rule.
/// </summary>
public sealed class DashboardApiSpecs
{
    private const string KeyA = "sk-dash-key-aaaa";
    private const string KeyB = "sk-dash-key-bbbb";
    private static readonly string IdA = ApiKeyCredential.For("dsh", KeyA, "env").Id;
    private static readonly string IdB = ApiKeyCredential.For("dsh", KeyB, "env").Id;

    private static string Config(string extra = "") =>
        ResilienceClient.Provider("dsh", "m1") + $$"""env { DSH_API_KEYS = "{{KeyA}},{{KeyB}}" }""" + "\n" + ResilienceClient.FastFailover + "\n" + extra;

    [Fact]
    public async Task Should_stream_a_snapshot_then_key_changes_and_requests_with_their_attempts()
    {
        await using var gw = await GatewayHarness.StartAsync(Config());
        await using var events = await EventStreamReader.OpenAsync(gw.Http);
        Assert.Equal(HttpStatusCode.OK, events.Response.StatusCode);
        Assert.Equal("text/event-stream", events.Response.Content.Headers.ContentType?.MediaType);

        var snapshot = await events.NextAsync("snapshot");
        Assert.Equal(200, snapshot.GetProperty("recentRequests").GetInt32());
        Assert.False(snapshot.GetProperty("sessionsList").GetBoolean());
        Assert.StartsWith("akka.tcp://", snapshot.GetProperty("node").GetString());
        Assert.Equal(JsonValueKind.Object, snapshot.GetProperty("cluster").ValueKind);
        // The providers come from the feed actor's first sample, which may follow the first connection by a moment.
        if (!Lists(snapshot, IdA))
            await events.NextAsync("providers", p => Lists(p, IdA));

        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited(message: "too many") : null;
        var reply = await gw.ChatAsync("dsh/m1");
        Assert.Equal(HttpStatusCode.OK, reply.Status);

        var seen = await events.AllAsync(
            ("key", e => e.GetProperty("key").GetProperty("id").GetString() == IdA && e.GetProperty("key").GetProperty("state").GetString() == "cooling"),
            ("request", null));
        var (key, request) = (seen[0], seen[1]);
        Assert.Equal("dsh", key.GetProperty("provider").GetString());
        Assert.Equal("rate_limit", key.GetProperty("key").GetProperty("reason").GetString());
        Assert.True(key.GetProperty("key").Until() > DateTimeOffset.Parse(key.GetProperty("now").GetString()!, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("dsh/m1", request.GetProperty("model").GetString());
        Assert.Equal(IdB, request.GetProperty("keyId").GetString());
        Assert.Equal(200, request.GetProperty("status").GetInt32());
        Assert.Equal("ok", request.GetProperty("outcome").GetString());
        var attempts = request.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal(IdA, attempts[0].GetProperty("keyId").GetString());
        Assert.Equal("rate_limit", attempts[0].GetProperty("outcome").GetString());
        Assert.Equal(429, attempts[0].GetProperty("status").GetInt32());
        Assert.Contains("too many", attempts[0].GetProperty("message").GetString());
        Assert.Equal(IdB, attempts[1].GetProperty("keyId").GetString());
        Assert.Equal("ok", attempts[1].GetProperty("outcome").GetString());
        Assert.True(attempts[0].GetProperty("atMs").GetDouble() <= attempts[1].GetProperty("atMs").GetDouble());

        // An operator's reset is pushed the same way.
        Assert.Equal(HttpStatusCode.OK, (await gw.ResetKeyAsync(IdA)).Status);
        await events.NextAsync("key", e => e.GetProperty("key").GetProperty("id").GetString() == IdA
            && e.GetProperty("key").GetProperty("state").GetString() == "ready");
    }

    [Fact]
    public async Task Should_record_a_failed_run_with_every_attempt_and_keep_only_the_configured_number()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("gateway.dashboard.recentRequests = 2"));
        gw.Fake.Script = _ => FakeResponse.Error(500, "upstream broke");
        var failed = await gw.ChatAsync("dsh/m1");
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        gw.Fake.Script = null;
        await gw.ChatAsync("dsh/m1", text: "second");
        await gw.ChatAsync("dsh/m1", stream: true, text: "third");

        using var doc = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/admin/requests"));
        var requests = doc.RootElement.GetProperty("requests").EnumerateArray().ToList();

        Assert.Equal(2, requests.Count); // the failed one, the oldest, is gone
        Assert.True(requests[0].GetProperty("stream").GetBoolean()); // newest first
        Assert.True(requests[0].GetProperty("id").GetInt64() > requests[1].GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.Number, requests[0].GetProperty("firstOutputMs").ValueKind);
        Assert.True(requests[0].GetProperty("usage").GetProperty("output").GetInt64() > 0);

        await using var small = await GatewayHarness.StartAsync(Config());
        small.Fake.Script = _ => FakeResponse.Error(500, "upstream broke");
        Assert.Equal(HttpStatusCode.BadGateway, (await small.ChatAsync("dsh/m1")).Status);
        using var one = JsonDocument.Parse(await small.Http.GetStringAsync("v1/admin/requests"));
        var error = Assert.Single(one.RootElement.GetProperty("requests").EnumerateArray().ToList());
        Assert.Equal("error", error.GetProperty("outcome").GetString());
        Assert.Equal(502, error.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("model").ValueKind);
        var attempts = error.GetProperty("attempts").EnumerateArray().ToList();
        Assert.True(attempts.Count >= 2, $"a 500 is retried on the same model and every key: {error.GetRawText()}");
        Assert.All(attempts, a => Assert.Equal(500, a.GetProperty("status").GetInt32()));
        Assert.DoesNotContain(attempts, a => a.GetProperty("outcome").GetString() == "ok");
    }

    [Fact]
    public async Task Should_keep_no_requests_when_recent_requests_is_zero()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("gateway.dashboard.recentRequests = 0"));
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("dsh/m1")).Status);

        using var doc = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/admin/requests"));
        Assert.Equal(0, doc.RootElement.GetProperty("requests").GetArrayLength());
    }

    [Fact]
    public async Task Should_refuse_the_event_stream_and_the_request_list_without_the_gateway_token()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("gateway.auth.token = \"dash-token-0123456789abcdef0123456789abc\""));

        await using var anonymous = await EventStreamReader.OpenAsync(gw.Http);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gw.Http.GetAsync("v1/admin/requests")).StatusCode);

        await using var signedIn = await EventStreamReader.OpenAsync(gw.Http, "dash-token-0123456789abcdef0123456789abc");
        Assert.Equal(HttpStatusCode.OK, signedIn.Response.StatusCode);
        await signedIn.NextAsync("snapshot");
        // The page itself carries no data: it is served, and asks for the token.
        Assert.Equal(HttpStatusCode.OK, (await gw.Http.GetAsync("ui/")).StatusCode);
    }

    [Fact]
    public async Task Should_end_the_stream_with_an_error_event_when_the_node_stops_instead_of_holding_the_drain()
    {
        var gw = await GatewayHarness.StartAsync(Config());
        await using var events = await EventStreamReader.OpenAsync(gw.Http);
        await events.NextAsync("snapshot");

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        var stop = gw.DisposeAsync().AsTask();
        var end = await events.NextAsync("error", timeout: TimeSpan.FromSeconds(10));
        await stop;

        Assert.Equal("node_shutting_down", end.GetProperty("error").GetProperty("code").GetString());
        // The drain waits for requests in flight for up to 20 s: an open dashboard must not be one of them.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(15), $"stopping took {stopping.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Should_serve_the_page_files_with_a_strict_content_security_policy()
    {
        await using var gw = await GatewayHarness.StartAsync(Config());
        using var noRedirect = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = gw.BaseUri };

        var bare = await noRedirect.GetAsync("ui");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/ui/", bare.Headers.Location?.OriginalString);

        var page = await noRedirect.GetAsync("ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("connect-src 'self'", csp);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal)); // nothing from elsewhere
        Assert.DoesNotContain("https://", html);

        foreach (var (file, type) in new[] { ("app.js", "text/javascript"), ("api.js", "text/javascript"), ("views.js", "text/javascript"),
                     ("chart.js", "text/javascript"), ("style.css", "text/css") })
        {
            var response = await noRedirect.GetAsync($"ui/{file}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("https://", body);
            // Revalidated by its ETag.
            var again = new HttpRequestMessage(HttpMethod.Get, $"ui/{file}");
            again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
            Assert.Equal(HttpStatusCode.NotModified, (await noRedirect.SendAsync(again)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await noRedirect.GetAsync("ui/missing.js")).StatusCode);
    }

    [Fact]
    public async Task Should_not_serve_the_page_or_the_stream_when_the_dashboard_is_disabled()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("gateway.dashboard.enabled = false"));

        Assert.Equal(HttpStatusCode.NotFound, (await gw.Http.GetAsync("ui/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gw.Http.GetAsync("v1/admin/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Http.GetAsync("v1/admin/requests")).StatusCode);
    }

    private static bool Lists(JsonElement withProviders, string keyId) =>
        withProviders.GetProperty("providers").EnumerateArray()
            .Any(p => p.GetProperty("keys").EnumerateArray().Any(k => k.GetProperty("id").GetString() == keyId));
}
