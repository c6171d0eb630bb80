using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors;
using Durar.Actors.Serialization;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Persistence.Serialization;
using Xunit.Abstractions;
using Durar.Actors.Chat;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>
/// Every wire type goes through <see cref="DurarWireSerializer"/> as resolved by a real ActorSystem configured with
/// <see cref="DurarPersistence.Hocon"/> (the gateway's wiring) and comes back equivalent; refs inside messages still reach
/// their actor or stream.
/// </summary>
public sealed class DurarWireSerializerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly TempDataDir _dir;
    private readonly ITestOutputHelper _output;

    public DurarWireSerializerSpecs(ITestOutputHelper output)
        : this(new TempDataDir(), output)
    {
    }

    private DurarWireSerializerSpecs(TempDataDir dir, ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString($"{DurarWireSerializer.AssembliesSetting} = [\"Durar.Persistence.Tests\"]")
            .WithFallback(DurarPersistence.Hocon(dir.Sqlite)), "wire-serializer-specs", output)
    {
        _dir = dir;
        _output = output;
    }

    [Fact]
    public void Should_have_a_sample_for_every_wire_type()
    {
        var wire = typeof(IDurarWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IDurarWireMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToList();
        var refs = Refs();
        var sampled = Enumerable.Range(0, WireSamples.Count).Select(i => WireSamples.Get(i, refs).GetType()).ToHashSet();

        Assert.NotEmpty(wire);
        Assert.All(wire, t => Assert.True(sampled.Contains(t), $"{t.FullName} is an {nameof(IDurarWireMessage)} without a sample in {nameof(WireSamples)}"));
        Assert.All(wire, t => Assert.False(typeof(IDurarPersistable).IsAssignableFrom(t),
            $"{t.FullName} is both persisted and sent: Akka could not choose between the two serializers"));
        Assert.All(wire, t => Assert.True(Serializer().Manifests.TryGetManifest(t, out _), $"{t.FullName} has no wire manifest"));
    }

    [Theory]
    [MemberData(nameof(WireSamples.Indexes), MemberType = typeof(WireSamples))]
    public void Should_round_trip_every_wire_sample_through_the_wire_serializer(int index)
    {
        var sample = WireSamples.Get(index, Refs());

        var serializer = Sys.Serialization.FindSerializerFor(sample);
        Assert.IsType<DurarWireSerializer>(serializer);
        var bytes = serializer.ToBinary(sample);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
        var restored = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Equivalence.AssertEquivalent(sample, restored, system: Sys);
        Assert.Equal(DurarWireManifests.Derive(sample.GetType()), manifest);
        Assert.DoesNotContain(",", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("Durar.", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain(", Durar.", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal); // no assembly-qualified type names
    }

    [Theory]
    [InlineData(typeof(SessionCommands.SendMessage), "SessionCommands.SendMessage")]
    [InlineData(typeof(TurnAccepted), "TurnAccepted")]
    [InlineData(typeof(ChatRequest), "ChatRequest")]
    [InlineData(typeof(SessionRunError), "SessionRunError")]
    [InlineData(typeof(Pinned), "pinned-by-attribute")]
    public void Should_derive_short_manifests_from_type_names(Type type, string manifest)
    {
        Assert.Equal(manifest, DurarWireManifests.Derive(type));
        Assert.True(Serializer().Manifests.TryGetType(manifest, out var resolved));
        Assert.Equal(type, resolved);
    }

    [Fact]
    public void Should_carry_the_tools_of_a_chat_request_intact()
    {
        var send = new SessionCommands.SendMessage("s-1", "weather?", Template: WireSamples.FullRequest);

        var restored = (SessionCommands.SendMessage)RoundTrip(send);

        var tools = restored.Template!.Tools!.Value;
        Assert.True(JsonElement.DeepEquals(WireSamples.Tools, tools), tools.GetRawText());
        Assert.Equal("Köln", tools[0].GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("city")
            .GetProperty("enum")[0].GetString());
        Assert.Equal(14.5, tools[0].GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("days")
            .GetProperty("maximum").GetDouble());
        Assert.Equal("get_weather", restored.Template.ToolChoice!.Value.GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public void Should_carry_actor_refs_that_still_reach_their_actor()
    {
        var carrier = new RefCarrier(TestActor, null, new TextDelta("t"), [], DateTimeOffset.UnixEpoch);
        var json = Encoding.UTF8.GetString(Serializer().ToBinary(carrier));

        var restored = (RefCarrier)RoundTrip(carrier);
        restored.Target.Tell("ping");

        ExpectMsg("ping");
        Assert.Null(restored.ReplyTo);
        Assert.Contains(TestActor.Path.ToStringWithoutAddress(), json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_hand_over_a_source_ref_that_still_streams()
    {
        var materializer = Sys.Materializer();
        ChatEvent[] events = [new RunModel("openai/gpt-5.4"), new TextDelta("Hel"), new TextDelta("lo"), new UsageReport(new TokenUsage(3, 2)), new Finished("stop")];
        var sourceRef = await Source.From(events).RunWith(StreamRefs.SourceRef<ChatEvent>(), materializer);

        var accepted = new TurnAccepted("s-1", 3, sourceRef, ResponseUsageMode.Full);
        using var json = JsonDocument.Parse(Serializer().ToBinary(accepted));
        var restored = (TurnAccepted)RoundTrip(accepted);
        var received = await restored.Events.Source.RunWith(Sink.Seq<ChatEvent>(), materializer).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(events, received);
        // The ref itself went through Akka's stream-ref serializer, not the Newtonsoft default.
        var refSerializer = Sys.Serialization.FindSerializerFor(sourceRef);
        Assert.Equal("StreamRefSerializer", refSerializer.GetType().Name);
        Assert.Equal(refSerializer.Identifier, json.RootElement.GetProperty("events").GetProperty("serializerId").GetInt32());
        Assert.Equal(ResponseUsageMode.Full, restored.UsageMode);
    }

    [Fact]
    public void Should_refuse_to_write_a_turn_accepted_that_carries_a_local_reply()
    {
        // The reply a session hands a reader on its own node is a channel: sent to another node it would stream nothing.
        var accepted = new TurnAccepted("s-1", 3, new LocalReply(4), ResponseUsageMode.Full);

        var refused = Assert.Throws<SerializationException>(() => Sys.Serialization.FindSerializerFor(accepted).ToBinary(accepted));

        Assert.Contains("LocalReply", refused.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => new LocalReply(4).ToSurrogate(Sys));
    }

    [Fact]
    public void Should_name_the_subtype_of_an_abstract_record_property()
    {
        var carrier = new RefCarrier(TestActor, TestActor, new SessionRunError(502, "boom", "api_error", "upstream"), [new TextDelta("a"), new Finished("stop")],
            DateTimeOffset.UnixEpoch);

        var json = Encoding.UTF8.GetString(Serializer().ToBinary(carrier));
        var restored = (RefCarrier)RoundTrip(carrier);

        Assert.Contains("\"last\":{\"$kind\":\"SessionRunError\"", json, StringComparison.Ordinal);
        Assert.Contains("{\"$kind\":\"TextDelta\",\"text\":\"a\"}", json, StringComparison.Ordinal);
        Assert.IsType<SessionRunError>(restored.Last);
        Assert.Equal([typeof(TextDelta), typeof(Finished)], restored.Events.Select(e => e.GetType()));
    }

    [Fact]
    public void Should_read_a_singleton_signal_back_as_its_instance()
    {
        var serializer = Serializer();

        var bytes = serializer.ToBinary(WireSignal.Instance);

        Assert.Equal("{}", Encoding.UTF8.GetString(bytes));
        Assert.Same(WireSignal.Instance, serializer.FromBinary(bytes, serializer.Manifest(WireSignal.Instance)));
    }

    [Fact]
    public void Should_not_write_computed_properties()
    {
        var json = Encoding.UTF8.GetString(Serializer().ToBinary(new TranscriptPage("s", 0, 1,
            [new TranscriptEntry(1, "assistant", "x", DateTimeOffset.UnixEpoch, "m", new TokenUsage(1, 2))])));
        var message = Encoding.UTF8.GetString(Serializer().ToBinary(new ChatMessage("user", "hello")));

        Assert.DoesNotContain("\"total\":3", json, StringComparison.Ordinal);
        Assert.Contains("\"total\":1", json, StringComparison.Ordinal);
        Assert.DoesNotContain("allText", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_bind_the_wire_marker_in_the_gateway_hocon()
    {
        var config = DurarPersistence.Hocon(_dir.Sqlite);

        Assert.Equal(DurarWireSerializer.TypeName, config.GetString($"akka.actor.serializers.{DurarWireSerializer.SerializerName}"));
        Assert.Equal(DurarWireSerializer.SerializerName, config.GetConfig("akka.actor.serialization-bindings").AsEnumerable()
            .Single(e => e.Key == DurarWireSerializer.MarkerTypeName).Value.GetString());
        Assert.Equal(DurarWireSerializer.SerializerId, config.GetConfig("akka.actor.serialization-identifiers").AsEnumerable()
            .Single(e => e.Key == DurarWireSerializer.TypeName).Value.GetInt());
        Assert.True(DurarWireSerializer.SerializerId > 100 && DurarWireSerializer.SerializerId != DurarJsonSerializer.SerializerId);
        Assert.IsType<DurarWireSerializer>(Sys.Serialization.FindSerializerForType(typeof(SessionCommands.GetSession)));
        Assert.IsType<DurarJsonSerializer>(Sys.Serialization.FindSerializerForType(typeof(SessionEvents.SessionReset)));
    }

    [Fact]
    public void Should_reject_an_unknown_manifest_naming_it()
    {
        var error = Assert.Throws<SerializationException>(() => Serializer().FromBinary("{}"u8.ToArray(), "SessionCommands.Vanished"));

        Assert.Contains("SessionCommands.Vanished", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_reject_a_corrupt_payload_naming_the_manifest()
    {
        var error = Assert.Throws<SerializationException>(() => Serializer().FromBinary("{\"sessionKey\":"u8.ToArray(), "SessionCommands.GetSession"));

        Assert.Contains("SessionCommands.GetSession", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_reject_an_unknown_subtype_discriminator()
    {
        const string json = """{"target":"","last":{"$kind":"NoSuchEvent"},"events":[],"at":"2026-03-01T12:00:00+00:00"}""";

        var error = Assert.Throws<SerializationException>(() => Serializer().FromBinary(Encoding.UTF8.GetBytes(json), "RefCarrier"));

        Assert.Contains("RefCarrier", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The per-token cost of a session stream crossing nodes: one <see cref="TextDelta"/> written and read back.</summary>
    [Fact]
    public void Should_round_trip_a_text_delta_in_microseconds()
    {
        var serializer = Serializer();
        var delta = new TextDelta("token ");
        for (var i = 0; i < 2_000; i++) serializer.FromBinary(serializer.ToBinary(delta), "TextDelta");

        const int n = 50_000;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) serializer.FromBinary(serializer.ToBinary(delta), "TextDelta");
        var perRoundTrip = clock.Elapsed / n;
        var request = new SessionCommands.SendMessage("s-1", "weather?", Template: WireSamples.FullRequest);
        for (var i = 0; i < 2_000; i++) serializer.FromBinary(serializer.ToBinary(request), "SessionCommands.SendMessage");
        clock.Restart();
        for (var i = 0; i < 5_000; i++) serializer.FromBinary(serializer.ToBinary(request), "SessionCommands.SendMessage");
        var perRequest = clock.Elapsed / 5_000;

        _output.WriteLine($"TextDelta round trip: {perRoundTrip.TotalMicroseconds:F2} µs; SendMessage with tools: {perRequest.TotalMicroseconds:F1} µs " +
                          $"({serializer.ToBinary(request).Length} bytes)");
        Assert.True(perRoundTrip < TimeSpan.FromMicroseconds(50), $"a TextDelta round trip took {perRoundTrip.TotalMicroseconds:F2} µs");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }

    private WireSampleRefs Refs() =>
        new(TestActor, Source.Single<ChatEvent>(new TextDelta("x")).RunWith(StreamRefs.SourceRef<ChatEvent>(), Sys.Materializer()).Result);

    private DurarWireSerializer Serializer() =>
        Assert.IsType<DurarWireSerializer>(Sys.Serialization.FindSerializerForType(typeof(IDurarWireMessage)));

    private object RoundTrip(IDurarWireMessage value)
    {
        var serializer = Serializer();
        return serializer.FromBinary(serializer.ToBinary(value), serializer.Manifest(value));
    }

    [WireManifest("pinned-by-attribute")]
    private sealed record Pinned(string Value) : IDurarWireMessage;
}
