using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;
using Durar.Api.Extensions;
using Durar.Testing;
using Npgsql;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.AuthProfiles;

/// <summary>
/// <c>gateway.secrets.key</c> through the real gateway: a single node that already stored profiles with Data Protection
/// keeps serving them after the key is set (old ciphertext is read by its prefix, new secrets use the key), and a malformed
/// key stops the start naming its key path.
/// </summary>
public sealed class AuthProfilesSecretsKeySpecs
{
    [Fact]
    public async Task Should_keep_serving_data_protection_profiles_after_the_shared_key_is_set_and_encrypt_new_ones_with_it()
    {
        const string before = "sk-upgrade-dp-secret-1111";
        const string after = "tok-upgrade-aes-secret-2222";
        var postgres = await PostgresServer.StartOrUseAsync();
        await using var database = await postgres.CreateDatabaseAsync();
        var hocon = Provider("upg", "m1") + FastFailover + $$"""
            gateway { persistence { provider = "postgresql", connectionString = "{{database.ConnectionString}}" } }
            """;
        var upgradedDir = Directory.CreateTempSubdirectory("durar-upgraded-").FullName;

        // Before the upgrade: Data Protection, key ring in the data directory.
        await using (var old = await GatewayHarness.StartAsync(hocon))
        {
            Assert.Equal(HttpStatusCode.Created,
                (await old.PostProfileAsync(new JsonObject { ["provider"] = "upg", ["type"] = "api_key", ["key"] = before })).Status);
            Assert.Equal(HttpStatusCode.OK, (await old.ChatAsync("upg/m1")).Status);
            Assert.Equal(before, old.Fake.Requests[^1].ApiKey);
            // The data directory moves to the upgraded node (the journal is in PostgreSQL).
            CopyDirectory(Path.Combine(old.DataDir, DataProtectionSecretProtector.KeysFolder), Path.Combine(upgradedDir, DataProtectionSecretProtector.KeysFolder));
        }

        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var upgraded = await GatewayHarness.StartAsync(hocon + $$"""
            gateway { secrets { key = "{{key}}" } }
            """, dataDir: upgradedDir);

        // The old profile is served from the first request on; a new one is stored with the shared key.
        Assert.Equal(HttpStatusCode.OK, (await upgraded.ChatAsync("upg/m1")).Status);
        Assert.Equal(before, upgraded.Fake.Requests[^1].ApiKey);
        Assert.Equal(HttpStatusCode.Created, (await upgraded.PostProfileAsync(new JsonObject
            { ["provider"] = "upg", ["type"] = "token", ["email"] = "new@example.com", ["token"] = after })).Status);
        Assert.Equal(HttpStatusCode.OK, (await upgraded.ChatAsync("upg/m1")).Status);
        Assert.Equal(after, upgraded.Fake.Requests[^1].ApiKey); // a token ranks before an api key
        var (listed, raw) = await upgraded.ProfilesAsync();
        Assert.DoesNotContain(before, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(after, raw, StringComparison.Ordinal);
        Assert.All(listed.GetProperty("profiles").EnumerateArray(), p => Assert.True(p.GetProperty("eligible").GetBoolean(), p.ToString()));

        // In the journal: the old secret as Data Protection ciphertext, the new one with the versioned prefix (bound to its
        // profile and field), neither in clear.
        var events = await StoreEventsAsync(database.ConnectionString);
        Assert.Equal(2, events.Count);
        Assert.DoesNotContain("aesgcm.", events[0], StringComparison.Ordinal);
        Assert.Contains(AesGcmSecretProtector.BoundPrefix, events[1], StringComparison.Ordinal);
        Assert.All(events, e => Assert.DoesNotContain(before, e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain(after, e, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gateway.secrets.key = \"too-short\"", "not valid base64")]
    [InlineData("gateway.secrets.key = \"c2hvcnQ=\"", "decodes to 5 bytes")]
    public void Should_refuse_to_start_with_a_malformed_key_naming_its_key_path(string hocon, string problem)
    {
        var dataDir = Directory.CreateTempSubdirectory("durar-badkey-").FullName;
        try
        {
            var e = Assert.Throws<DurarConfigException>(() => GatewayHost.Build(new GatewayOptions { Port = 0, DataDir = dataDir, ExtraHocon = hocon }));

            Assert.Equal(SecretsOptions.KeyPath, e.Path);
            Assert.StartsWith("gateway.secrets.key: ", e.Message, StringComparison.Ordinal);
            Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>The store's events as the journal holds them (JSON text), in order.</summary>
    private static async Task<List<string>> StoreEventsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT message FROM journal WHERE persistence_id = '{AuthProfileStoreActor.StorePersistenceId}' ORDER BY sequence_number", connection);
        var events = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) events.Add(Encoding.UTF8.GetString((byte[])reader[0]));
        return events;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
