using System.Net;
using System.Text.Json;
using Durar.Api.Extensions;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// <c>/health/live</c>, <c>/health/ready</c> and <c>/healthz</c> through the real gateway: every check listed in a JSON
/// body; readiness fails while the journal's database is unreachable (a PostgreSQL-backed gateway whose database is
/// dropped under it) and while the node drains, liveness stays up through both, and <c>/healthz</c> keeps answering 503
/// once the node is stopping, as load balancers were told.
/// </summary>
public sealed class HealthSpecs
{
    private sealed record Health(HttpStatusCode Status, string Overall, IReadOnlyDictionary<string, (string Status, string? Description)> Checks);

    private static async Task<Health> GetAsync(GatewayHarness gw, string path)
    {
        using var response = await gw.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        var checks = doc.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!,
            c => (c.GetProperty("status").GetString()!, c.TryGetProperty("description", out var d) ? d.GetString() : null));
        return new Health(response.StatusCode, doc.RootElement.GetProperty("status").GetString()!, checks);
    }

    [Fact]
    public async Task Should_list_every_check_as_healthy_on_a_running_gateway()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var ready = await Eventually.Until(() => GetAsync(gw, "health/ready"), h => h.Status == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(10));
        var live = await GetAsync(gw, "health/live");
        var alias = await GetAsync(gw, "healthz");

        Assert.Equal("Healthy", ready.Overall);
        Assert.Equal(new[] { "actor-system", "journal", "cluster", "sessions", "providers", "drain" }, ready.Checks.Keys);
        Assert.All(ready.Checks.Values, c => Assert.Equal("Healthy", c.Status));
        Assert.Contains("sqlite", ready.Checks["journal"].Description, StringComparison.Ordinal);
        Assert.Contains("is Up", ready.Checks["cluster"].Description, StringComparison.Ordinal);
        Assert.StartsWith("0 of 100000 sessions resident", ready.Checks["sessions"].Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.Status);
        Assert.Equal(new[] { "actor-system" }, live.Checks.Keys);
        Assert.Equal(HttpStatusCode.OK, alias.Status);
        Assert.Equal(live.Checks.Keys, alias.Checks.Keys);
    }

    [Fact]
    public async Task Should_fail_readiness_but_stay_live_while_the_journal_is_unreachable()
    {
        var postgres = await PostgresServer.StartOrUseAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var gw = await GatewayHarness.StartAsync(Provider("hlt1", "m1", "sk-health-1") + FastFailover + $$"""
            gateway { persistence { provider = "postgresql", connectionString = "{{database.ConnectionString}}" } }
            """);
        var before = await Eventually.Until(() => GetAsync(gw, "health/ready"), h => h.Status == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(10));
        Assert.Contains("postgresql", before.Checks["journal"].Description, StringComparison.Ordinal);

        // The journal's database goes away under the running gateway (its connections are closed with it).
        await database.DisposeAsync();

        var ready = await Eventually.Until(() => GetAsync(gw, "health/ready"), h => h.Status != HttpStatusCode.OK, "not ready", TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("Unhealthy", ready.Overall);
        Assert.Equal("Unhealthy", ready.Checks["journal"].Status);
        Assert.Contains("unreachable", ready.Checks["journal"].Description, StringComparison.Ordinal);
        Assert.Equal("Healthy", ready.Checks["providers"].Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(gw, "health/live")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(gw, "healthz")).Status);
    }

    [Fact]
    public async Task Should_fail_readiness_and_healthz_but_stay_live_while_draining()
    {
        await using var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + "\ngateway.shutdown.drainTimeout = 30s");
        await Eventually.Until(() => GetAsync(gw, "health/ready"), h => h.Status == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(10));

        // The drain as SIGTERM starts it, without stopping the host: the probes are asked while it runs.
        gw.Services.GetRequiredService<GatewayDrain>().BeginDrain();

        var ready = await GetAsync(gw, "health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("Unhealthy", ready.Checks["drain"].Status);
        Assert.Contains(GatewayDrain.ShuttingDownCode, ready.Checks["drain"].Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(gw, "health/live")).Status);
        using var alias = await gw.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, alias.StatusCode);
        Assert.Contains(GatewayDrain.ShuttingDownCode, await alias.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
