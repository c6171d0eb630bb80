using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Runs;
using Durar.Actors.Sessions.Messages;
using System.Collections.Immutable;
using System.Runtime.Serialization;
using System.Text;
using Akka.Serialization;
using Durar.Actors;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Persistence.Serialization;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>
/// Every persisted type goes through <see cref="DurarJsonSerializer"/> as resolved by a real ActorSystem configured with
/// <see cref="DurarPersistence.Hocon"/>, round-trips by value, and keeps its literal manifest.
/// </summary>
public sealed class DurarJsonSerializerSpecs : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>The shipped manifests. Never edit a row; only add rows.</summary>
    public static TheoryData<Type, string> ShippedManifests { get; } = new()
    {
        { typeof(KeyEvents.Failed), "key-failed" },
        { typeof(KeyEvents.Recovered), "key-recovered" },
        { typeof(KeyEvents.Exhausted), "key-exhausted" },
        { typeof(KeyEvents.Reset), "key-reset" },
        { typeof(KeyEvents.Used), "key-used" },
        { typeof(KeyHealthSnapshot), "key-snapshot" },
        { typeof(AuthProfileEvents.ProfileUpserted), "auth-profile-upserted" },
        { typeof(AuthProfileEvents.ProfileRemoved), "auth-profile-removed" },
        { typeof(AuthProfileEvents.OrderSet), "auth-profile-order-set" },
        { typeof(AuthProfileEvents.OAuthRefreshed), "auth-profile-oauth-refreshed" },
        { typeof(AuthProfileStoreSnapshot), "auth-profile-snapshot" },
        { typeof(SessionEvents.UserMessageAccepted), "session-user-message" },
        { typeof(SessionEvents.AssistantReplied), "session-assistant-reply" },
        { typeof(SessionEvents.RunFailed), "session-run-failed" },
        { typeof(SessionEvents.OverridesChanged), "session-overrides" },
        { typeof(SessionEvents.SessionReset), "session-reset" },
        { typeof(SessionSnapshot), "session-snapshot" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenEvents.Created), "client-token-created" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenEvents.Rotated), "client-token-rotated" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenEvents.Revoked), "client-token-revoked" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenEvents.Used), "client-token-used" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenSnapshot), "client-token-snapshot" },
        { typeof(Durar.Actors.ClientTokens.Messages.ClientTokenRegistered), "client-token-registered" },
        { typeof(Durar.Actors.ClientTokens.TokenIdsSnapshot), "client-token-index-snapshot" },
        { typeof(SessionEvents.Compacted), "session-compacted" },
        { typeof(SessionEvents.RunsDropped), "session-runs-dropped" },
        { typeof(SessionEvents.FallbackNoticed), "session-fallback-noticed" },
        { typeof(SessionEvents.FallbackCleared), "session-fallback-cleared" },
    };

    private readonly TempDataDir _dir;

    public DurarJsonSerializerSpecs(ITestOutputHelper output)
        : this(new TempDataDir(), output)
    {
    }

    private DurarJsonSerializerSpecs(TempDataDir dir, ITestOutputHelper output)
        : base(DurarPersistence.Hocon(dir.Sqlite), "serializer-specs", output)
    {
        _dir = dir;
    }

    [Fact]
    public void Should_have_a_manifest_and_a_sample_for_every_persistable_type()
    {
        var persistable = typeof(IDurarPersistable).Assembly.GetTypes()
            .Where(t => typeof(IDurarPersistable).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToList();
        var sampled = PersistableSamples.All.Select(s => s.GetType()).ToHashSet();

        Assert.NotEmpty(persistable);
        Assert.All(persistable, t => Assert.True(DurarManifests.TryGetManifest(t, out _), $"{t.FullName} has no manifest in {nameof(DurarManifests)}"));
        Assert.All(persistable, t => Assert.True(sampled.Contains(t), $"{t.FullName} has no sample in {nameof(PersistableSamples)}"));
        // The reverse: a manifest for a type that is not IDurarPersistable would never reach this serializer.
        Assert.All(DurarManifests.All.Keys, t => Assert.Contains(t, persistable));
    }

    [Fact]
    public void Should_keep_every_shipped_manifest_and_no_others()
    {
        var shipped = ShippedManifests.Select(row => ((Type)row[0], (string)row[1])).ToHashSet();

        Assert.Equal(shipped, DurarManifests.All.Select(e => (e.Key, e.Value)).ToHashSet());
        Assert.Equal(DurarManifests.All.Count, DurarManifests.All.Values.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(ShippedManifests))]
    public void Should_write_the_literal_manifest(Type type, string manifest)
    {
        var sample = PersistableSamples.All.First(s => s.GetType() == type);
        var serializer = Sys.Serialization.FindSerializerFor(sample);

        Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(serializer, sample));
    }

    [Theory]
    [MemberData(nameof(PersistableSamples.Indexes), MemberType = typeof(PersistableSamples))]
    public void Should_round_trip_every_persistable_through_the_durar_serializer(int index)
    {
        var sample = PersistableSamples.All[index];

        var serializer = Sys.Serialization.FindSerializerFor(sample);
        Assert.IsType<DurarJsonSerializer>(serializer);
        Assert.Equal(DurarJsonSerializer.SerializerId, serializer.Identifier);

        var bytes = serializer.ToBinary(sample);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
        var restored = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Equivalence.AssertEquivalent(sample, restored);
        Assert.DoesNotContain("$type", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Should_keep_model_cooldowns_case_insensitive_after_a_round_trip()
    {
        var restored = (KeyHealthSnapshot)RoundTrip(new KeyHealthSnapshot(PersistableSamples.FullHealth));

        Assert.Same(StringComparer.OrdinalIgnoreCase, restored.Health.ModelCooldowns.KeyComparer);
        Assert.True(restored.Health.ModelCooldowns.ContainsKey("gpt-5.4"));
        Assert.True(restored.Health.ModelCooldowns.ContainsKey("CLAUDE-OPUS-4-6"));
    }

    [Fact]
    public void Should_write_enums_as_names_and_model_ids_verbatim()
    {
        var json = Encoding.UTF8.GetString(Serializer().ToBinary(new KeyHealthSnapshot(PersistableSamples.FullHealth)));

        Assert.Contains("\"cooldownReason\":\"RateLimit\"", json, StringComparison.Ordinal);
        Assert.Contains("\"disabledReason\":\"AuthPermanent\"", json, StringComparison.Ordinal);
        Assert.Contains("\"GPT-5.4\":", json, StringComparison.Ordinal);
        Assert.Contains("\"rate_limit\":2", json, StringComparison.Ordinal);
    }

    /// <summary>A payload as this version writes it to disk. If this spec breaks, stored journals break: fix the code, not the spec.</summary>
    [Fact]
    public void Should_read_payloads_in_the_stored_format()
    {
        const string stored =
            """{"at":"2026-03-01T12:00:00.5+02:00","reason":"RateLimit","model":"GPT-5.4","countsAsError":true,"modelCooldownUntil":"2026-03-01T12:01:00+02:00","windowReset":false}""";
        var at = new DateTimeOffset(2026, 3, 1, 12, 0, 0, 500, TimeSpan.FromHours(2));
        var expected = new KeyEvents.Failed(at, FailoverReason.RateLimit, "GPT-5.4", true, null, at.AddSeconds(59.5), null, false);

        var restored = Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(stored), DurarJsonSerializer.SerializerId, "key-failed");

        Equivalence.AssertEquivalent(expected, restored);
        Assert.Equal(stored, Encoding.UTF8.GetString(Serializer().ToBinary(expected)));
    }

    /// <summary>Sessions journaled before compaction existed (issue 18) recover: no summary, no input count, no compaction.</summary>
    [Fact]
    public void Should_recover_session_payloads_written_before_compaction()
    {
        const string reply = """{"at":"2026-03-01T12:00:00+00:00","content":"a1","model":"openai/gpt-5.4","cost":0,"replyTo":1}""";
        const string snapshot = """
            {"state":{"transcript":[{"seq":1,"role":"user","content":"u1","at":"2026-03-01T12:00:00+00:00"}],"overrides":{},
             "usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"cost":0},"compactionCount":0,"nextSeq":2,
             "createdAt":"2026-03-01T12:00:00+00:00"}}
            """;

        var restoredReply = (SessionEvents.AssistantReplied)Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(reply), DurarJsonSerializer.SerializerId,
            "session-assistant-reply");
        var restored = (SessionSnapshot)Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(snapshot), DurarJsonSerializer.SerializerId, "session-snapshot");

        Assert.Null(restoredReply.InputTokens);
        Assert.Null(restored.State.Summary);
        Assert.Null(restored.State.LastInputTokens);
        Assert.Equal(0, restored.State.CompactionCount);
        Assert.Equal("u1", Assert.Single(restored.State.SentConversation(new HashSet<long>())).Content);
        // Written before the resident window (issue 13): the whole transcript, no archive; it recovers pinned, nothing trimmed.
        Assert.Null(restored.State.Archive);
        var recovered = TranscriptWindow.Recovered(restored.State, snapshotSeq: 1);
        Assert.Equal(new TranscriptArchive(2, 2, 1, 0), recovered.Archive);
        Assert.Equal(1, TranscriptWindow.Total(recovered));
    }

    /// <summary>Session events as journals written before runs had ids hold them: they still read, and start no run.</summary>
    [Fact]
    public void Should_read_session_events_written_before_runs_had_ids()
    {
        object Read(string json, string manifest) => Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(json), DurarJsonSerializer.SerializerId, manifest);
        var user = (SessionEvents.UserMessageAccepted)Read("""{"at":"2026-03-01T12:00:00+00:00","content":"hi"}""", "session-user-message");
        var reply = (SessionEvents.AssistantReplied)Read(
            """{"at":"2026-03-01T12:00:01+00:00","content":"hello","model":"openai/gpt-5.4","cost":0,"replyTo":1}""", "session-assistant-reply");
        var failed = (SessionEvents.RunFailed)Read("""{"at":"2026-03-01T12:00:02+00:00","error":"boom","status":502}""", "session-run-failed");
        var snapshot = (SessionSnapshot)Read(
            """{"state":{"transcript":[{"seq":1,"role":"user","content":"hi","at":"2026-03-01T12:00:00+00:00"}],"overrides":{},"usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"cost":0},"compactionCount":0,"nextSeq":2}}""",
            "session-snapshot");

        Assert.Equal((null, null), (user.RunId, user.IdempotencyKey));
        Assert.Null(reply.RunIds);
        Assert.False(reply.Aborted);
        Assert.Null(reply.Finish);
        Assert.Equal((null, null), (failed.RunIds, failed.Code));
        Assert.Null(snapshot.Runs);
        Assert.False(Assert.Single(snapshot.State.Transcript).Aborted);
        var ledger = SessionRunLedger.Empty.Apply(user, 1, 100).Apply(reply, 2, 100).Apply(failed, 3, 100);
        Assert.Empty(ledger.Runs);
    }

    [Fact]
    public void Should_skip_unknown_properties_and_default_missing_ones()
    {
        // A newer writer added a field; an older one omitted the nullable model.
        const string stored = """{"at":"2026-03-01T12:00:00+00:00","until":"2026-03-01T12:00:30+00:00","addedLater":{"x":1}}""";

        var restored = (KeyEvents.Exhausted)Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(stored), DurarJsonSerializer.SerializerId, "key-exhausted");

        Assert.Null(restored.Model);
        Assert.Equal(TimeSpan.FromSeconds(30), restored.Until - restored.At);
    }

    [Fact]
    public void Should_read_an_unknown_manifest_as_an_unreadable_payload_naming_it()
    {
        var unreadable = Assert.IsType<UnreadablePayload>(Serializer().FromBinary("{}"u8.ToArray(), "key-vanished"));

        Assert.Equal("key-vanished", unreadable.Manifest);
        Assert.Contains("key-vanished", unreadable.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0x22, 0x61, 0x74, 0x22, 0x3a })] // {"at":
    [InlineData(new byte[] { 0xff, 0xfe, 0x00, 0x13, 0x37 })] // not even UTF-8
    public void Should_read_a_corrupt_payload_as_an_unreadable_payload_naming_the_manifest(byte[] bytes)
    {
        var unreadable = Assert.IsType<UnreadablePayload>(Serializer().FromBinary(bytes, "key-used"));

        Assert.Equal("key-used", unreadable.Manifest);
        Assert.Contains("key-used", unreadable.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_refuse_to_write_a_type_without_a_manifest()
    {
        var error = Assert.Throws<SerializationException>(() => Serializer().ToBinary(new Unregistered()));

        Assert.Contains(nameof(Unregistered), error.Message, StringComparison.Ordinal);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }

    private DurarJsonSerializer Serializer() =>
        Assert.IsType<DurarJsonSerializer>(Sys.Serialization.FindSerializerForType(typeof(IDurarPersistable)));

    private object RoundTrip(IDurarPersistable value)
    {
        var serializer = Serializer();
        return serializer.FromBinary(serializer.ToBinary(value), serializer.Manifest(value));
    }

    private sealed record Unregistered : IDurarPersistable;
}
