using System.Net;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Cli;

/// <summary><c>durar keys reset</c>: a cooling key is ready again; an unknown key is the gateway's 404, exit 1.</summary>
public sealed class KeysCommandSpecs
{
    [Fact]
    public async Task Should_make_a_cooling_key_ready_and_report_an_unknown_key_as_a_gateway_error()
    {
        await using var gw = await GatewayHarness.StartAsync(StatusCommandSpecs.Config);
        gw.Fake.Default = FakeResponse.RateLimited(retryAfter: "120");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("fakeant/claude-fake")).Status);
        await gw.WaitForKeyStateAsync("fakeant", StatusCommandSpecs.KeyB, "cooling");

        var reset = await Cli.AgainstAsync(gw, "keys", "reset", "fakeant:key-6976037c");
        var json = await Cli.AgainstAsync(gw, "keys", "reset", "fakeant:key-6976037c", "--json");
        var unknown = await Cli.AgainstAsync(gw, "keys", "reset", "fakeant:key-00000000");

        Assert.Equal((0, "Key fakeant:key-6976037c is ready."), (reset.ExitCode, reset.Out.Trim()));
        Assert.Equal("ready", (await gw.KeyAsync("fakeant", StatusCommandSpecs.KeyB)).GetProperty("state").GetString());
        Assert.Equal(("fakeant:key-6976037c", "ready"), (json.Json().GetProperty("id").GetString(), json.Json().GetProperty("state").GetString()));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("", unknown.Out);
        Assert.Equal("durar: No key `fakeant:key-00000000`. (key_not_found, HTTP 404)", unknown.Err.Trim());
    }
}
