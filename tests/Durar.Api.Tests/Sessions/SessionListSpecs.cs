using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Durar.Actors.Sessions;
using Durar.Api.Tests.Access;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// <c>GET /v1/sessions</c>: newest activity first, paged with a cursor, filtered by prefix, deleted sessions left out, on
/// SQLite and PostgreSQL; read from the journal's query side without starting a session actor; a client token sees only
/// its own namespace.
/// </summary>
public sealed class SessionListSpecs
{
    private const string Config = """
        models { providers { lst { baseUrl = "{fake-openai}", apiKey = "sk-list-0001", api = "openai-completions", models = [{ id = "m1" }, { id = "m2" }] } } }
        agents { defaults { model { primary = "lst/m1" } } }
        """;

    private static async Task TurnAsync(GatewayHarness gw, string key, string? bearer = null)
    {
        var reply = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", """{"content":"hello"}""", bearer));
        Assert.True(reply.StatusCode == HttpStatusCode.OK, await reply.Content.ReadAsStringAsync());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ListAsync(GatewayHarness gw, string query, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/sessions" + query);
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        using var response = await gw.Http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string[] Keys(JsonElement page) => [.. page.GetProperty("data").EnumerateArray().Select(s => s.GetProperty("key").GetString()!)];

    /// <summary>Four sessions, one touched again and one deleted; then pages of one, a prefix, and the whole list.</summary>
    private static async Task ListsPagedNewestFirst(GatewayHarness gw)
    {
        gw.Fake.Default = new FakeResponse { Text = "ok" };
        foreach (var key in new[] { "chat-1", "chat-2", "chat-3", "other-1" }) await TurnAsync(gw, key);
        var patched = await gw.Http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "v1/sessions/chat-3") { Content = new StringContent("""{"model":"lst/m2"}""", System.Text.Encoding.UTF8, "application/json") });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await TurnAsync(gw, "chat-1"); // chat-1 is now the newest
        Assert.Equal(HttpStatusCode.OK, (await gw.Http.DeleteAsync("v1/sessions/chat-2")).StatusCode);

        var (status, first) = await ListAsync(gw, "?prefix=chat-&limit=1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["chat-1"], Keys(first));
        Assert.True(first.GetProperty("hasMore").GetBoolean());
        var item = first.GetProperty("data")[0];
        Assert.Equal("lst/m1", item.GetProperty("lastModel").GetString());
        Assert.True(DateTimeOffset.Parse(item.GetProperty("lastActivity").GetString()!) > DateTimeOffset.UtcNow.AddMinutes(-5));

        var (_, second) = await ListAsync(gw, "?prefix=chat-&limit=1&cursor=" + first.GetProperty("nextCursor").GetString());
        Assert.Equal(["chat-3"], Keys(second));
        Assert.Equal("lst/m2", second.GetProperty("data")[0].GetProperty("modelOverride").GetString());
        Assert.False(second.GetProperty("hasMore").GetBoolean());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);

        var (_, all) = await ListAsync(gw, "");
        Assert.Equal(["chat-1", "chat-3", "other-1"], Keys(all));

        // A deleted key used again is listed again, from its new events only.
        await TurnAsync(gw, "chat-2");
        Assert.Equal(["chat-2", "chat-1", "chat-3", "other-1"], Keys((await ListAsync(gw, "")).Body));
    }

    [Fact]
    public async Task Should_list_sessions_newest_activity_first_in_pages_by_prefix_without_deleted_ones_on_sqlite()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        await ListsPagedNewestFirst(gw);
    }

    [Fact]
    public async Task Should_list_sessions_newest_activity_first_in_pages_by_prefix_without_deleted_ones_on_postgresql()
    {
        var postgres = await PostgresServer.StartOrUseAsync();
        await using var database = await postgres.CreateDatabaseAsync();
        await using var gw = await GatewayHarness.StartAsync(Config + $$"""
            gateway { persistence { provider = "postgresql", connectionString = "{{database.ConnectionString}}" } }
            """);
        await ListsPagedNewestFirst(gw);
    }

    [Fact]
    public async Task Should_list_from_the_journal_without_starting_a_session_actor()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Default = new FakeResponse { Text = "ok" };
            foreach (var key in new[] { "cold-1", "cold-2", "cold-3" }) await TurnAsync(gw, key);
            Assert.Equal(3, SessionIdleSweeper.Resident(gw.Services.GetRequiredService<ActorSystem>()));
            gw = await gw.RestartAsync();
            var system = gw.Services.GetRequiredService<ActorSystem>();

            var (status, page) = await ListAsync(gw, "?prefix=cold-");

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(["cold-3", "cold-2", "cold-1"], Keys(page));
            Assert.Equal(0, SessionIdleSweeper.Resident(system));
            // The observable does count a session that wakes up.
            Assert.Equal(HttpStatusCode.OK, (await gw.Http.GetAsync("v1/sessions/cold-1")).StatusCode);
            Assert.Equal(1, SessionIdleSweeper.Resident(system));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_show_a_client_token_only_its_own_sessions_and_the_operator_all()
    {
        await using var gw = await GatewayHarness.StartAsync(TokenGateway.Config);
        var a = await TokenGateway.CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var b = (await TokenGateway.CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") })).GetProperty("secret").GetString();
        var chatOnly = (await TokenGateway.CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat") })).GetProperty("secret").GetString();
        var secretA = a.GetProperty("secret").GetString();
        await TurnAsync(gw, "mine-1", secretA);
        await TurnAsync(gw, "mine-2", secretA);
        await TurnAsync(gw, "theirs", b);

        var (ownStatus, own) = await ListAsync(gw, "", secretA);
        var (_, prefixed) = await ListAsync(gw, "?prefix=mine-2", secretA);
        var (_, others) = await ListAsync(gw, "", b);
        var (_, byOperator) = await ListAsync(gw, "", TokenGateway.OperatorToken);
        var (scope, scopeError) = await ListAsync(gw, "", chatOnly);

        Assert.Equal(HttpStatusCode.OK, ownStatus);
        Assert.Equal(["mine-2", "mine-1"], Keys(own));
        Assert.Equal(["mine-2"], Keys(prefixed));
        Assert.Equal(["theirs"], Keys(others));
        var id = a.GetProperty("id").GetString();
        Assert.Contains($"ct-{id}:mine-1", Keys(byOperator));
        Assert.Equal(3, Keys(byOperator).Length);
        Assert.Equal(HttpStatusCode.Forbidden, scope);
        Assert.Equal("missing_scope", TokenGateway.Code(scopeError));
    }

    [Fact]
    public async Task Should_refuse_a_bad_limit_or_cursor_with_400_naming_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        foreach (var (query, param) in new[] { ("?limit=0", "limit"), ("?limit=101", "limit"), ("?limit=ten", "limit"), ("?cursor=%21%21", "cursor") })
        {
            var (status, body) = await ListAsync(gw, query);
            Assert.True(status == HttpStatusCode.BadRequest, query);
            Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
        }
    }
}
