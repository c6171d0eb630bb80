using System.Net;
using System.Text.Json.Nodes;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// Stored responses under client tokens: <c>/v1/responses</c> needs the <c>chat</c> scope (and <c>sessions</c> with
/// <c>x-durar-session-key</c>), and a stored response lives in its token's session namespace: another token's client gets
/// a 404 for the same id, also when it tries to continue it.
/// </summary>
public sealed class ClientTokenResponsesSpecs
{
    [Fact]
    public async Task Should_keep_a_tokens_stored_responses_in_its_session_namespace()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = Durar.Testing.FakeResponse.Ok("kept");
        var a = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var secretA = a.GetProperty("secret").GetString();
        var secretB = (await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat") })).GetProperty("secret").GetString();

        var (created, body, _) = await SendAsync(gw, HttpMethod.Post, "v1/responses", """{"model":"tok/m","input":"hello"}""", secretB);
        Assert.Equal(HttpStatusCode.OK, created);
        var idB = body.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gw, HttpMethod.Get, $"v1/responses/{idB}", null, secretB)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Get, $"v1/responses/{idB}", null, secretA)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Get, $"v1/responses/{idB}/input_items", null, secretA)).Status);
        var (continued, error, _) = await SendAsync(gw, HttpMethod.Post, "v1/responses",
            $$"""{"model":"tok/m","input":"more","previous_response_id":"{{idB}}"}""", secretA);
        Assert.Equal(HttpStatusCode.NotFound, continued);
        Assert.Equal("previous_response_not_found", Code(error));

        // A named session: the token's own key in the id, its namespace on the gateway.
        using var named = Request(HttpMethod.Post, "v1/responses", """{"model":"tok/m","input":"in demo"}""", secretA);
        named.Headers.Add("x-durar-session-key", "demo");
        using var namedResponse = await gw.Http.SendAsync(named);
        Assert.Equal(HttpStatusCode.OK, namedResponse.StatusCode);
        Assert.Equal("demo", namedResponse.Headers.GetValues("x-durar-session-key").Single());
        var (view, _, _) = await SendAsync(gw, HttpMethod.Get, $"v1/sessions/ct-{a.GetProperty("id").GetString()}:demo", null, OperatorToken);
        Assert.Equal(HttpStatusCode.OK, view);

        // Without the sessions scope the header is refused before anything runs.
        using var noScope = Request(HttpMethod.Post, "v1/responses", """{"model":"tok/m","input":"x"}""", secretB);
        noScope.Headers.Add("x-durar-session-key", "demo");
        using var refused = await gw.Http.SendAsync(noScope);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
