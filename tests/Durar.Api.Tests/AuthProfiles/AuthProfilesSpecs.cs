using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.AuthProfiles;

/// <summary>
/// The auth-profile store through the real gateway (SQLite in the harness's data directory, Data Protection keys beside it)
/// in front of the fake provider: profiles are served by their provider, listed masked, kept out of the database in plain
/// text, survive a restart, can be deleted and ordered, and an expired OAuth token is refreshed once for concurrent requests.
/// </summary>
public sealed class AuthProfilesSpecs
{
    [Fact]
    public async Task Should_serve_a_posted_profile_and_list_it_masked()
    {
        const string secret = "sk-prof1-secret-7f3a";
        await using var gw = await GatewayHarness.StartAsync(Provider("prof1", "m1") + FastFailover);

        var created = await gw.PostProfileAsync(new JsonObject { ["provider"] = "prof1", ["type"] = "api_key", ["key"] = secret });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.DoesNotContain(secret, created.Body);
        Assert.Equal("/v1/admin/auth-profiles/prof1%3Adefault", created.Response.Headers.Location?.OriginalString);
        using (var body = JsonDocument.Parse(created.Body))
        {
            var profile = body.RootElement;
            Assert.Equal("prof1:default", profile.GetProperty("id").GetString());
            Assert.Equal("api_key", profile.GetProperty("type").GetString());
            Assert.Equal("…7f3a", profile.GetProperty("key").GetString());
            Assert.True(profile.GetProperty("eligible").GetBoolean());
        }

        var reply = await gw.ChatAsync("prof1/m1");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(secret, Assert.Single(gw.Fake.Requests).ApiKey);
        var (listed, raw) = await gw.ProfilesAsync();
        Assert.DoesNotContain(secret, raw);
        var only = Assert.Single(listed.GetProperty("profiles").EnumerateArray());
        Assert.Equal("…7f3a", only.GetProperty("key").GetString());
        // Served by its own key actor under the profile id (next to the keyless stand-in of this optional-key provider).
        var key = Assert.Single(await gw.KeysAsync("prof1"), k => k.GetProperty("id").GetString() == "prof1:default");
        Assert.Equal(("prof1:default", "auth-profile", "…7f3a"),
            (key.GetProperty("id").GetString(), key.GetProperty("source").GetString(), key.GetProperty("key").GetString()));
    }

    [Fact]
    public async Task Should_keep_every_secret_out_of_the_database_files_and_keep_profiles_across_a_restart()
    {
        string[] secrets = ["sk-prof2-apikey-a1b2", "tok-prof2-token-c3d4", "acc-prof2-access-e5f6", "ref-prof2-refresh-g7h8"];
        var gw = await GatewayHarness.StartAsync(Provider("prof2", "m1") + FastFailover);
        try
        {
            var inAnHour = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
            Assert.Equal(HttpStatusCode.Created, (await gw.PostProfileAsync(new JsonObject
                { ["provider"] = "prof2", ["type"] = "api_key", ["key"] = secrets[0] })).Status);
            Assert.Equal(HttpStatusCode.Created, (await gw.PostProfileAsync(new JsonObject
                { ["provider"] = "prof2", ["type"] = "token", ["email"] = "tok@example.com", ["token"] = secrets[1], ["expires"] = inAnHour })).Status);
            Assert.Equal(HttpStatusCode.Created, (await gw.PostProfileAsync(new JsonObject
            {
                ["provider"] = "prof2", ["type"] = "oauth", ["email"] = "ops@example.com", ["access"] = secrets[2], ["refresh"] = secrets[3],
                ["expires"] = inAnHour, ["tokenUrl"] = gw.Fake.OAuthTokenUrl, ["clientId"] = "durar-test",
            })).Status);

            // oauth ranks before token before api_key: the OAuth access token serves.
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("prof2/m1")).Status);
            Assert.Equal(secrets[2], gw.Fake.Requests[^1].ApiKey);

            AssertDatabaseHoldsNoSecret(gw.DataDir, secrets, mustContain: "prof2:ops@example.com");
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(gw.DataDir, "keys"), "key-*.xml"));

            gw = await gw.RestartAsync();

            var (listed, raw) = await gw.ProfilesAsync();
            Assert.All(secrets, s => Assert.DoesNotContain(s, raw));
            var profiles = listed.GetProperty("profiles").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
            Assert.Equal(["prof2:default", "prof2:ops@example.com", "prof2:tok@example.com"], profiles.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("…a1b2", profiles["prof2:default"].GetProperty("key").GetString());
            Assert.Equal("…c3d4", profiles["prof2:tok@example.com"].GetProperty("token").GetString());
            Assert.Equal(inAnHour, profiles["prof2:tok@example.com"].GetProperty("expires").GetInt64());
            Assert.Equal("…e5f6", profiles["prof2:ops@example.com"].GetProperty("access").GetString());
            Assert.Equal("…g7h8", profiles["prof2:ops@example.com"].GetProperty("refresh").GetString());
            Assert.All(profiles.Values, p => Assert.True(p.GetProperty("eligible").GetBoolean()));

            // The first request after the restart already sees the recovered profiles.
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("prof2/m1")).Status);
            Assert.Equal(secrets[2], gw.Fake.Requests[^1].ApiKey);
            Assert.Equal(0, gw.Fake.OAuthRefreshCount);
            AssertDatabaseHoldsNoSecret(gw.DataDir, secrets, mustContain: "prof2:ops@example.com");
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_stop_using_a_deleted_profile()
    {
        const string envKey = "sk-env-prof3-1111";
        const string token = "tok-prof3-2222";
        await using var gw = await GatewayHarness.StartAsync(Provider("prof3", "m1", apiKey: envKey) + FastFailover);
        Assert.Equal(HttpStatusCode.Created, (await gw.PostProfileAsync(new JsonObject { ["provider"] = "prof3", ["type"] = "token", ["token"] = token })).Status);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("prof3/m1")).Status);
        Assert.Equal(token, gw.Fake.Requests[^1].ApiKey); // a token ranks before an api key

        var deleted = await gw.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "v1/admin/auth-profiles/prof3:default"));

        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("prof3/m1")).Status);
            Assert.Equal(envKey, gw.Fake.Requests[^1].ApiKey);
        }
        var (listed, _) = await gw.ProfilesAsync();
        Assert.Empty(listed.GetProperty("profiles").EnumerateArray());
        Assert.DoesNotContain(await gw.KeysAsync("prof3"), k => k.GetProperty("id").GetString() == "prof3:default");

        var again = await gw.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "v1/admin/auth-profiles/prof3:default"));
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.Equal("auth_profile_not_found", again.Error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_let_the_stored_order_win_over_auth_order_and_keep_it_across_a_restart()
    {
        const string envKey = "sk-env-prof4-3333";
        const string profileKey = "sk-prof4-profile-4444";
        var hocon = Provider("prof4", "m1") + """
            env { PROF4_API_KEY = "sk-env-prof4-3333" }
            auth { order { prof4 = ["prof4:default"] } }
            """ + "\n" + FastFailover;
        var gw = await GatewayHarness.StartAsync(hocon);
        try
        {
            Assert.Equal(HttpStatusCode.Created,
                (await gw.PostProfileAsync(new JsonObject { ["provider"] = "prof4", ["type"] = "api_key", ["key"] = profileKey })).Status);
            await gw.AssertKeysUsedAsync("prof4/m1", profileKey, profileKey); // auth.order names only the profile

            var put = await gw.PutOrderAsync("prof4", """{"order":["PROF4_API_KEY"]}""");
            Assert.Equal(HttpStatusCode.OK, put.Status);
            using (var body = JsonDocument.Parse(put.Body))
                Assert.Equal("PROF4_API_KEY", Assert.Single(body.RootElement.GetProperty("order").EnumerateArray()).GetString());
            await gw.AssertKeysUsedAsync("prof4/m1", envKey, envKey); // the stored order wins; the profile is left out

            var (listed, _) = await gw.ProfilesAsync();
            Assert.Equal("PROF4_API_KEY", listed.GetProperty("order").GetProperty("prof4")[0].GetString());

            gw = await gw.RestartAsync();
            await gw.AssertKeysUsedAsync("prof4/m1", envKey, envKey);

            Assert.Equal(HttpStatusCode.OK, (await gw.PutOrderAsync("prof4", """{"order":[]}""")).Status);
            await gw.AssertKeysUsedAsync("prof4/m1", profileKey); // cleared: auth.order again

            var unknown = await gw.PutOrderAsync("nope", """{"order":["x"]}""");
            Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
            Assert.Equal("provider", unknown.Error.GetProperty("param").GetString());
            var malformed = await gw.PutOrderAsync("prof4", """{"order":"PROF4_API_KEY"}""");
            Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_refresh_an_expired_oauth_token_once_for_ten_concurrent_requests()
    {
        var gw = await GatewayHarness.StartAsync(Provider("prof5", "m1") + FastFailover);
        try
        {
            gw.Fake.OAuthTokenDelay = TimeSpan.FromMilliseconds(300); // the requests pile up behind the one refresh
            var created = await gw.PostProfileAsync(new JsonObject
            {
                ["provider"] = "prof5", ["type"] = "oauth", ["email"] = "ops@example.com",
                ["access"] = "stale-access-0001", ["refresh"] = "refresh-initial-0001",
                ["expires"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(),
                ["tokenUrl"] = gw.Fake.OAuthTokenUrl, ["clientId"] = "durar-test",
            });
            Assert.Equal(HttpStatusCode.Created, created.Status);

            var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => gw.ChatAsync("prof5/m1")));

            Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
            var refresh = Assert.Single(gw.Fake.OAuthRefreshes);
            Assert.Equal(("refresh-initial-0001", "durar-test"), (refresh.RefreshToken, refresh.ClientId));
            Assert.Equal(10, gw.Fake.RequestCount);
            Assert.All(gw.Fake.Requests, r => Assert.Equal(refresh.IssuedAccessToken, r.ApiKey));

            // The new tokens are written back to the store (encrypted) and survive a restart: no second refresh.
            var stored = await gw.WaitForProfileAsync("prof5:ops@example.com",
                p => p.GetProperty("access").GetString() == "…" + refresh.IssuedAccessToken[^4..]
                     && p.GetProperty("refresh").GetString() == "…" + refresh.IssuedRefreshToken[^4..]);
            Assert.True(stored.GetProperty("expires").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(50).ToUnixTimeMilliseconds());
            AssertDatabaseHoldsNoSecret(gw.DataDir,
                ["stale-access-0001", "refresh-initial-0001", refresh.IssuedAccessToken, refresh.IssuedRefreshToken], mustContain: "prof5:ops@example.com");

            gw = await gw.RestartAsync();
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("prof5/m1")).Status);
            Assert.Equal(refresh.IssuedAccessToken, gw.Fake.Requests[^1].ApiKey);
            Assert.Equal(1, gw.Fake.OAuthRefreshCount);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_invalid_profiles_with_openai_style_400s_that_never_repeat_the_secret()
    {
        const string secret = "sk-invalid-secret-9z9z";
        await using var gw = await GatewayHarness.StartAsync(Provider("prof6", "m1") + FastFailover);

        (JsonObject Body, string Param)[] cases =
        [
            (new JsonObject { ["provider"] = "nope", ["type"] = "api_key", ["key"] = secret }, "provider"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "password", ["key"] = secret }, "type"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "api_key", ["id"] = "prof6:work", ["key"] = secret }, "id"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "api_key", ["email"] = "not an email", ["key"] = secret }, "email"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "api_key" }, "key"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "api_key", ["apiKey"] = secret }, "apiKey"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "token", ["token"] = secret, ["expires"] = "soon" }, "expires"),
            (new JsonObject { ["provider"] = "prof6", ["type"] = "oauth", ["refresh"] = secret }, "tokenUrl"),
        ];
        foreach (var (body, param) in cases)
        {
            var reply = await gw.PostProfileAsync(body);
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{body.ToJsonString()}: {(int)reply.Status} {reply.Body}");
            Assert.Equal("invalid_request_error", reply.Error.GetProperty("type").GetString());
            Assert.Equal(param, reply.Error.GetProperty("param").GetString());
            Assert.DoesNotContain(secret, reply.Body);
        }
        var idRule = await gw.PostProfileAsync(new JsonObject { ["provider"] = "prof6", ["type"] = "api_key", ["id"] = "prof6:work", ["key"] = secret });
        Assert.Contains("\"prof6:default\" (no email) or \"prof6:<email>\"", idRule.ErrorMessage);

        var notJson = await gw.SendAsync(gw.Post("v1/admin/auth-profiles", "{\"key\":\"" + secret));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.DoesNotContain(secret, notJson.Body);

        var (listed, _) = await gw.ProfilesAsync();
        Assert.Empty(listed.GetProperty("profiles").EnumerateArray());
    }

    /// <summary>
    /// Reads every SQLite file of the data directory (the database, its WAL and shared memory) while the gateway may hold them
    /// open, and asserts that no secret appears in them as UTF-8, while <paramref name="mustContain"/> (proof that the
    /// profile events are in these files) does.
    /// </summary>
    private static void AssertDatabaseHoldsNoSecret(string dataDir, IEnumerable<string> secrets, string mustContain)
    {
        var files = Directory.GetFiles(dataDir, "durar.db*");
        Assert.NotEmpty(files);
        var bytes = files.SelectMany(ReadShared).ToArray();
        Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(mustContain)) >= 0, $"no profile event found in {string.Join(", ", files)}");
        foreach (var secret in secrets)
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"the database holds the secret …{secret[^4..]} in plain text");

        static byte[] ReadShared(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }
}

/// <summary>The auth-profile admin calls the specs share.</summary>
internal static class AuthProfilesClient
{
    public static Task<GatewayReply> PostProfileAsync(this GatewayHarness gw, JsonObject body) =>
        gw.SendAsync(gw.Post("v1/admin/auth-profiles", body.ToJsonString()));

    public static Task<GatewayReply> PutOrderAsync(this GatewayHarness gw, string provider, string json)
    {
        var request = gw.Post($"v1/admin/auth-profiles/order/{provider}", json);
        request.Method = HttpMethod.Put;
        return gw.SendAsync(request);
    }

    /// <summary><c>GET /v1/admin/auth-profiles</c>, answered with 200: the parsed body and its raw text.</summary>
    public static async Task<(JsonElement Body, string Raw)> ProfilesAsync(this GatewayHarness gw)
    {
        var reply = await gw.SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/admin/auth-profiles"));
        Assert.True(reply.Status == HttpStatusCode.OK, $"auth profiles: {(int)reply.Status} {reply.Body}");
        using var doc = JsonDocument.Parse(reply.Body);
        return (doc.RootElement.Clone(), reply.Body);
    }

    /// <summary>Waits until the listed profile satisfies <paramref name="condition"/> (write-backs reach the store by Tell).</summary>
    public static Task<JsonElement> WaitForProfileAsync(this GatewayHarness gw, string id, Func<JsonElement, bool> condition) =>
        Eventually.Until(async () =>
            {
                var (listed, _) = await gw.ProfilesAsync();
                return listed.GetProperty("profiles").EnumerateArray().FirstOrDefault(p => p.GetProperty("id").GetString() == id);
            },
            profile => profile.ValueKind == JsonValueKind.Object && condition(profile), $"profile {id} in the expected state",
            describe: profile => profile.ValueKind == JsonValueKind.Undefined ? "not listed" : profile.GetRawText());

    /// <summary>Sends one request per expected key, in order, and asserts each reached the fake with that key.</summary>
    public static async Task AssertKeysUsedAsync(this GatewayHarness gw, string model, params string[] keys)
    {
        foreach (var key in keys)
        {
            var reply = await gw.ChatAsync(model);
            Assert.True(reply.Status == HttpStatusCode.OK, $"{model}: {(int)reply.Status} {reply.Body}");
            Assert.Equal(key, gw.Fake.Requests[^1].ApiKey);
        }
    }
}
