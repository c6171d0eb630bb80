using Durar.Api.Tests.Resilience;

namespace Durar.Api.Tests.Cli;

/// <summary><c>durar auth add|list|remove</c>: a secret read from standard input, listed masked, removed; refusals are exit 1.</summary>
public sealed class AuthCommandSpecs
{
    private const string Secret = "sk-cli-profile-9f8e7d6c";

    [Fact]
    public async Task Should_add_a_profile_from_standard_input_list_it_masked_and_remove_it()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var url = gw.BaseUri.ToString();

        var add = await Cli.RunWithAsync(null, Secret + "\n", "auth", "add", "--provider", "fakeoai", "--key", "-", "--url", url);
        var again = await Cli.RunWithAsync(null, null, "auth", "add", "--provider", "fakeoai", "--key", Secret, "--url", url, "--json");
        var list = await Cli.AgainstAsync(gw, "auth", "list");
        var listJson = await Cli.AgainstAsync(gw, "auth", "list", "--json");
        var served = await gw.KeyAsync("fakeoai", Secret);
        var remove = await Cli.AgainstAsync(gw, "auth", "remove", "fakeoai:default");
        var empty = await Cli.AgainstAsync(gw, "auth", "list");

        Assert.Equal((0, "Auth profile fakeoai:default created (api_key, key …7d6c, eligible)."), (add.ExitCode, add.Out.Trim()));
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(("fakeoai:default", "…7d6c"), (again.Json().GetProperty("id").GetString(), again.Json().GetProperty("key").GetString()));
        Assert.Equal("""
            ID  PROVIDER  TYPE  EMAIL  SECRET  EXPIRES  ELIGIBLE  REASON
            fakeoai:default  fakeoai  api_key  -  key …7d6c  -  yes  -
            """, Cli.Normalize(list.Out));
        var profile = Assert.Single(listJson.Json().GetProperty("profiles").EnumerateArray());
        Assert.Equal("api_key", profile.GetProperty("type").GetString());
        Assert.Equal("auth-profile", served.GetProperty("source").GetString());
        Assert.Equal((0, "Auth profile fakeoai:default removed."), (remove.ExitCode, remove.Out.Trim()));
        Assert.Equal("No auth profiles (durar auth add --provider <id> --key - adds one).", empty.Out.Trim());
        foreach (var run in new[] { add, again, list, listJson }) Assert.DoesNotContain(Secret, run.Out + run.Err);
    }

    [Fact]
    public async Task Should_print_the_gateways_refusal_as_its_message_and_code()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var unknown = await Cli.AgainstAsync(gw, "auth", "add", "--provider", "nope", "--key", "sk-xyz-12345678");
        var missing = await Cli.AgainstAsync(gw, "auth", "remove", "fakeoai:nobody@example.com");
        var noProvider = await Cli.AgainstAsync(gw, "auth", "add", "--key", "x");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("durar: Unknown provider \"nope\" (see GET /v1/admin/providers for the configured ones). (invalid_auth_profile, HTTP 400)",
            unknown.Err.Trim());
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("(auth_profile_not_found, HTTP 404)", missing.Err);
        Assert.Equal(2, noProvider.ExitCode);
        Assert.Contains("--provider", noProvider.Err);
        Assert.DoesNotContain("   at ", unknown.Err + missing.Err + noProvider.Err);
    }
}
