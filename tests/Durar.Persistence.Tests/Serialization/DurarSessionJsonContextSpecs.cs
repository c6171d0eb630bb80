using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Durar.Actors.Sessions.Messages;
using Durar.Persistence.Serialization;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>
/// The session events' compile-time contracts (<see cref="DurarSessionJsonContext"/>, issue 17) write the bytes the
/// reflection contracts wrote before them, and read what those wrote: the journal's rows do not change, old rows still
/// recover. Every session event and snapshot sample of <see cref="PersistableSamples"/> is compared both ways.
/// </summary>
public sealed class DurarSessionJsonContextSpecs
{
    /// <summary>The options as they were before the generated context: the same settings, every contract by reflection.</summary>
    private static readonly JsonSerializerOptions Reflection = ReflectionOptions();

    public static TheoryData<int> SessionEventIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < PersistableSamples.All.Count; i++)
            if (PersistableSamples.All[i] is ISessionEvent or SessionSnapshot) data.Add(i);
        return data;
    }

    [Fact]
    public void Should_use_the_generated_contract_for_every_session_event()
    {
        var sessionEvents = DurarManifests.All.Keys.Where(t => typeof(ISessionEvent).IsAssignableFrom(t) || t == typeof(SessionSnapshot)).ToList();

        Assert.NotEmpty(sessionEvents);
        Assert.All(sessionEvents, t => Assert.Same(DurarSessionJsonContext.Default, DurarJson.Options.GetTypeInfo(t).OriginatingResolver));
        Assert.All(sessionEvents, t => Assert.Contains(PersistableSamples.All, s => s.GetType() == t));
    }

    [Theory]
    [MemberData(nameof(SessionEventIndexes))]
    public void Should_write_the_bytes_the_reflection_contract_wrote(int index)
    {
        var sample = PersistableSamples.All[index];

        var before = JsonSerializer.SerializeToUtf8Bytes(sample, sample.GetType(), Reflection);
        var now = JsonSerializer.SerializeToUtf8Bytes(sample, sample.GetType(), DurarJson.Options);

        Assert.Equal(Encoding.UTF8.GetString(before), Encoding.UTF8.GetString(now));
    }

    [Theory]
    [MemberData(nameof(SessionEventIndexes))]
    public void Should_read_rows_the_reflection_contract_wrote_and_back(int index)
    {
        var sample = PersistableSamples.All[index];
        Assert.True(DurarManifests.TryGetManifest(sample.GetType(), out var manifest));
        var before = JsonSerializer.SerializeToUtf8Bytes(sample, sample.GetType(), Reflection);

        // An old row, read as the serializer reads it now; and a new row read by the old contract.
        var read = DurarJsonSerializer.Read(before, manifest);
        var readBack = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(read, read.GetType(), DurarJson.Options), sample.GetType(), Reflection)!;

        Assert.IsType(sample.GetType(), read);
        Equivalence.AssertEquivalent(sample, read);
        Equivalence.AssertEquivalent(sample, readBack);
        Assert.Equal(Encoding.UTF8.GetString(before), Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(read, read.GetType(), Reflection)));
    }

    private static JsonSerializerOptions ReflectionOptions()
    {
        var options = new JsonSerializerOptions(DurarJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        options.MakeReadOnly();
        return options;
    }
}
