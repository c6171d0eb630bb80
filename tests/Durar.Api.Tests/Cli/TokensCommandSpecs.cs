using System.Text.RegularExpressions;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// <c>durar tokens create|list|rotate|revoke</c> against a gateway with an operator token: the secret printed once (its own
/// last line), listed without it, rotated, revoked; <c>--json</c> everywhere.
/// </summary>
public sealed partial class TokensCommandSpecs
{
    [Fact]
    public async Task Should_create_list_rotate_and_revoke_a_client_token()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        string[] Against(params string[] args) => [.. args, "--url", gw.BaseUri.ToString(), "--token", OperatorToken];

        var created = await Cli.RunAsync(Against("tokens", "create", "--name", "ci", "--scope", "chat", "--scope", "sessions", "--model", "tok/*",
            "--rpm", "60", "--budget", "20", "--period", "day"));
        Assert.Equal(0, created.ExitCode);
        var lines = created.Out.Trim().Split('\n');
        var secret = lines[^1].Trim();
        Assert.Matches(SecretShape(), secret);
        var id = secret["sk-durar-".Length..][..16];
        Assert.Equal($"Client token {id} created (chat, sessions). Its secret is shown this once:", lines[0].Trim());
        gw.Fake.Enqueue(new Durar.Testing.FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 }); // $0.0045
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ChatAsync(gw, secret)).Status);

        var requests = await RequestsAsync(gw, id);
        var list = await Cli.RunAsync(Against("tokens", "list"));
        Assert.Equal(0, list.ExitCode);
        Assert.Equal($"""
            ID  NAME  STATUS  SCOPES  MODELS  RPM  TPM  BUDGET  SPENT  REQUESTS  COST  EXPIRES
            {id}  ci  ready  chat,sessions  tok/*  60  -  $20.0000/day  $0.0045  {requests}  $0.0045  -
            """, Cli.Normalize(list.Out));
        Assert.DoesNotContain(secret, list.Out);
        var json = await Cli.RunAsync(Against("tokens", "list", "--json"));
        Assert.Equal(id, Assert.Single(json.Json().GetProperty("tokens").EnumerateArray()).GetProperty("id").GetString());

        var rotated = await Cli.RunAsync(Against("tokens", "rotate", id, "--json"));
        var fresh = rotated.Json().GetProperty("secret").GetString()!;
        Assert.NotEqual(secret, fresh);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await ChatAsync(gw, secret)).Status);

        var revoked = await Cli.RunAsync(Against("tokens", "revoke", id));
        Assert.Equal((0, $"Client token {id} revoked."), (revoked.ExitCode, revoked.Out.Trim()));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await ChatAsync(gw, fresh)).Status);
        var missing = await Cli.RunAsync(Against("tokens", "revoke", "00000000000000ff"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("(token_not_found, HTTP 404)", missing.Err);
    }

    /// <summary>The request the spec made with the token is counted once its report arrives.</summary>
    private static async Task<long> RequestsAsync(GatewayHarness gw, string id) =>
        (await Durar.Testing.Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the request counted"))
        .GetProperty("usage").GetProperty("requests").GetInt64();

    [GeneratedRegex("^sk-durar-[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")]
    private static partial Regex SecretShape();
}
