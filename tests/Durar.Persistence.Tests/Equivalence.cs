using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using Akka.Actor;

namespace Durar.Persistence.Tests;

/// <summary>
/// Deep equality for persisted records and wire messages. Records compare dictionaries by reference, so a plain
/// Assert.Equal on a deserialized record would always fail; this compares dictionaries by content, Durar types property by
/// property, JSON elements by content, sets ignoring order, and DateTimeOffset with its offset; a default
/// <see cref="ImmutableArray{T}"/> must stay default. With an <see cref="ActorSystem"/>, actor refs compare by path and
/// other Akka values (stream refs) by the bytes Akka's own serializer writes for them.
/// </summary>
public static class Equivalence
{
    public static void AssertEquivalent(object? expected, object? actual, string path = "$", ActorSystem? system = null)
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
        if (system is not null && type.Assembly.GetName().Name?.StartsWith("Akka", StringComparison.Ordinal) == true)
        {
            Assert.Equal(Bytes(system, expected), Bytes(system, actual));
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
                    AssertEquivalent(entry.Value, actualMap[entry.Key], $"{path}[{entry.Key}]", system);
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
                for (var i = 0; i < expectedList.Count; i++) AssertEquivalent(expectedList[i], actualList[i], $"{path}[{i}]", system);
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
                    AssertEquivalent(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}", system);
            return;
        }

        Assert.True(Equals(expected, actual), $"{path}: expected {expected}, got {actual}");
    }

    private static byte[] Bytes(ActorSystem system, object value) => system.Serialization.FindSerializerFor(value).ToBinary(value);

    private static bool IsSet(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlySet<>));
}
