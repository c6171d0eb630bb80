using System.Collections;
using System.Reflection;

namespace Durar.Persistence.Tests;

/// <summary>
/// Deep equality for persisted records. Records compare dictionaries by reference, so a plain Assert.Equal on a
/// deserialized record would always fail; this compares dictionaries by content and Durar types property by property.
/// </summary>
public static class Equivalence
{
    public static void AssertEquivalent(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }

        Assert.True(expected.GetType() == actual.GetType(), $"{path}: expected a {expected.GetType()}, got a {actual.GetType()}");

        switch (expected)
        {
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
                // Lists and arrays (ImmutableArray compares by reference): same length, equivalent items in order.
                var expectedList = expectedItems.Cast<object?>().ToList();
                var actualList = ((IEnumerable)actual).Cast<object?>().ToList();
                Assert.True(expectedList.Count == actualList.Count, $"{path}: expected {expectedList.Count} items, got {actualList.Count}");
                for (var i = 0; i < expectedList.Count; i++)
                {
                    AssertEquivalent(expectedList[i], actualList[i], $"{path}[{i}]");
                }

                return;
            }
            case DateTimeOffset expectedInstant:
                // DateTimeOffset.Equals ignores the offset; the offset must survive too.
                var actualInstant = (DateTimeOffset)actual;
                Assert.True(
                    expectedInstant.Ticks == actualInstant.Ticks && expectedInstant.Offset == actualInstant.Offset,
                    $"{path}: expected {expectedInstant:O}, got {actualInstant:O}");
                return;
        }

        var type = expected.GetType();
        if (type.Assembly.GetName().Name?.StartsWith("Durar", StringComparison.Ordinal) == true && !type.IsEnum)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetIndexParameters().Length == 0)
                {
                    AssertEquivalent(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
                }
            }

            return;
        }

        Assert.True(Equals(expected, actual), $"{path}: expected {expected}, got {actual}");
    }
}
