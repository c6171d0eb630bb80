using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Chat;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Persistence.Serialization;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>
/// Which messages between nodes carry a secret: every wire sample is serialized as it would cross the cluster, and its
/// bytes must hold none of the samples' secrets, except the messages listed in <see cref="Carriers"/>, each with the
/// reason its secret must travel (under TLS, <c>gateway.cluster.tls</c>). The list is exact: a carrier that stops
/// carrying a secret must leave it, and a new message with a secret fails until it is listed with a reason.
/// </summary>
public sealed class WireSecretSpecs : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>The messages whose secret must cross the cluster, and why.</summary>
    private static readonly ImmutableDictionary<Type, string> Carriers = new Dictionary<Type, string>
    {
        [typeof(KeyCommands.Attach)] = "each node's provider hands its credential to the key's one cluster-wide actor, which refreshes OAuth tokens " +
                                       "(with the refresh token) and exchanges Copilot tokens for the whole cluster",
        [typeof(KeyCommands.UpdateCredential)] = "a credential changed on one node (an edited auth profile) reaches the key's actor",
        [typeof(KeyCredentialChanged)] = "a token the key's actor refreshed or exchanged reaches every node's provider: each node sends it upstream",
        [typeof(CredentialRefreshed)] = "a refreshed token goes to the auth-profile store (a singleton) to be encrypted into its journal",
        [typeof(AuthProfileCommands.UpsertProfile)] = "a secret an operator gave one node's admin API goes to the store singleton that encrypts it",
        [typeof(AuthProfileCredentials)] = "the store singleton decrypts the profiles and sends each node's subscriber its credential set: " +
                                           "the Data Protection key ring that encrypts them is the store's own",
    }.ToImmutableDictionary();

    public WireSecretSpecs(ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString($"{DurarWireSerializer.AssembliesSetting} = [\"Durar.Persistence.Tests\"]")
            .WithFallback(DurarPersistence.Hocon(new TempDataDir().Sqlite)), "wire-secret-specs", output)
    {
    }

    [Fact]
    public void Should_carry_no_secret_in_any_wire_message_but_the_listed_carriers()
    {
        var refs = Refs();
        var leaks = new List<string>();
        for (var i = 0; i < WireSamples.Count; i++)
        {
            var sample = WireSamples.Get(i, refs);
            var found = SecretsIn(sample);
            if (found.Count > 0 && !Carriers.ContainsKey(sample.GetType()))
                leaks.Add($"sample {i} ({sample.GetType().Name}) carries {string.Join(", ", found)}");
        }

        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    [Fact]
    public void Should_list_only_messages_that_still_carry_a_secret()
    {
        var refs = Refs();
        var carrying = Enumerable.Range(0, WireSamples.Count).Select(i => WireSamples.Get(i, refs))
            .Where(s => SecretsIn(s).Count > 0).Select(s => s.GetType()).ToHashSet();

        Assert.All(Carriers.Keys, t => Assert.True(carrying.Contains(t), $"{t.Name} is listed as a carrier but no sample of it carries a secret"));
    }

    [Fact]
    public void Should_send_a_key_lease_without_its_secret()
    {
        var lease = new KeyLease("openai:key-1", "sk-secret", TestActor) { HasSecret = true, CredentialExpiresAt = DateTimeOffset.UnixEpoch };

        var serializer = Sys.Serialization.FindSerializerFor(lease);
        var bytes = serializer.ToBinary(lease);
        var restored = (KeyLease)Sys.Serialization.Deserialize(bytes, serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, lease));

        Assert.DoesNotContain("sk-secret", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Null(restored.Secret);
        Assert.True(restored.HasSecret);
        Assert.Equal("openai:key-1", restored.KeyId);
        Assert.Equal(DateTimeOffset.UnixEpoch, restored.CredentialExpiresAt);
    }

    private List<string> SecretsIn(IDurarWireMessage sample)
    {
        var serializer = Sys.Serialization.FindSerializerFor(sample);
        var text = Encoding.UTF8.GetString(serializer.ToBinary(sample));
        return WireSamples.Secrets.Where(s => text.Contains(s, StringComparison.Ordinal)).ToList();
    }

    private WireSampleRefs Refs()
    {
        var events = Source.Empty<ChatEvent>().RunWith(StreamRefs.SourceRef<ChatEvent>(), Sys.Materializer()).Result;
        return new WireSampleRefs(TestActor, events);
    }
}
