using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using Akka.Actor;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>
/// Deep equality for wire messages: <see cref="Equivalence"/>'s rules plus what only travels on the wire. JSON elements
/// compare by content; sets ignore order; a default <see cref="ImmutableArray{T}"/> must stay default; actor refs compare
/// by path; other Akka values (stream refs) compare by the bytes Akka's own serializer writes for them.
/// </summary>
public sealed class WireEquivalence(ActorSystem system)
{
    public void AssertEquivalent(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }

        var type = expected.GetType();
        if (expected is IActorRef expectedRef)
        {
            Assert.True(actual is IActorRef actualRef && expectedRef.Path.Equals(actualRef.Path), $"{path}: expected {expectedRef.Path}, got {actual}");
            return;
        }
        if (type.Assembly.GetName().Name?.StartsWith("Akka", StringComparison.Ordinal) == true)
        {
            Assert.Equal(Bytes(expected), Bytes(actual));
            return;
        }

        Assert.True(type == actual.GetType(), $"{path}: expected a {type}, got a {actual.GetType()}");

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
        {
            var isDefault = type.GetProperty(nameof(ImmutableArray<int>.IsDefault))!;
            var expectedDefault = (bool)isDefault.GetValue(expected)!;
            Assert.True(expectedDefault == (bool)isDefault.GetValue(actual)!, $"{path}: expected IsDefault = {expectedDefault}");
            if (expectedDefault) return;
        }

        switch (expected)
        {
            case JsonElement expectedJson:
                Assert.True(JsonElement.DeepEquals(expectedJson, (JsonElement)actual), $"{path}: expected {expectedJson.GetRawText()}, got {((JsonElement)actual).GetRawText()}");
                return;
            case IDictionary expectedMap:
            {
                var actualMap = (IDictionary)actual;
                Assert.True(expectedMap.Count == actualMap.Count, $"{path}: expected {expectedMap.Count} entries, got {actualMap.Count}");
                foreach (DictionaryEntry entry in expectedMap)
                {
                    Assert.True(actualMap.Contains(entry.Key), $"{path}: key \"{entry.Key}\" is missing");
                    AssertEquivalent(entry.Value, actualMap[entry.Key], $"{path}[{entry.Key}]");
                }
                return;
            }
            case IEnumerable expectedItems when expected is not string:
            {
                var expectedList = expectedItems.Cast<object?>().ToList();
                var actualList = ((IEnumerable)actual).Cast<object?>().ToList();
                Assert.True(expectedList.Count == actualList.Count, $"{path}: expected {expectedList.Count} items, got {actualList.Count}");
                if (IsSet(type))
                {
                    Assert.All(expectedList, item => Assert.Contains(item, actualList));
                    return;
                }
                for (var i = 0; i < expectedList.Count; i++) AssertEquivalent(expectedList[i], actualList[i], $"{path}[{i}]");
                return;
            }
            case DateTimeOffset expectedInstant:
                var actualInstant = (DateTimeOffset)actual;
                Assert.True(expectedInstant.Ticks == actualInstant.Ticks && expectedInstant.Offset == actualInstant.Offset,
                    $"{path}: expected {expectedInstant:O}, got {actualInstant:O}");
                return;
        }

        if (type.Assembly.GetName().Name?.StartsWith("Durar", StringComparison.Ordinal) == true && !type.IsEnum)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (property.GetIndexParameters().Length == 0)
                    AssertEquivalent(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
            return;
        }

        Assert.True(Equals(expected, actual), $"{path}: expected {expected}, got {actual}");
    }

    private byte[] Bytes(object value) => system.Serialization.FindSerializerFor(value).ToBinary(value);

    private static bool IsSet(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlySet<>));
}
