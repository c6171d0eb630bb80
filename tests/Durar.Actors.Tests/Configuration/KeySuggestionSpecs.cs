using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary><see cref="KeySuggestion"/>: the closest known key when it is a likely typo, nothing otherwise.</summary>
public sealed class KeySuggestionSpecs
{
    private static readonly string[] Roots = ["models", "agents", "auth", "gateway", "env"];

    [Theory]
    [InlineData("modles", "models")]     // two neighbouring letters swapped: one edit
    [InlineData("model", "models")]      // one letter missing
    [InlineData("Models", "models")]     // case only
    [InlineData("gatway", "gateway")]
    [InlineData("gateways", "gateway")]
    [InlineData("agent", "agents")]
    [InlineData("enc", "env")]
    [InlineData("atuh", "auth")]
    public void Should_suggest_the_key_a_typo_was_meant_to_be(string typo, string expected) =>
        Assert.Equal(expected, KeySuggestion.Closest(typo, Roots));

    [Theory]
    [InlineData("akka")]                 // three edits from auth: another library's section, not a typo
    [InlineData("serilog")]
    [InlineData("logging")]
    [InlineData("x")]
    public void Should_suggest_nothing_for_a_key_that_is_not_close(string key) =>
        Assert.Null(KeySuggestion.Closest(key, Roots));

    [Theory]
    [InlineData("idelTimeout", "idleTimeout")]
    [InlineData("queueMod", "queueMode")]
    [InlineData("retryBaseDelya", "retryBaseDelay")]
    [InlineData("transientTreshold", "transientThreshold")]
    public void Should_allow_more_edits_for_longer_keys(string typo, string expected) =>
        Assert.Equal(expected, KeySuggestion.Closest(typo, [expected, "snapshotEvery", "queueCap", "maxRetryAfter"]));

    [Fact]
    public void Should_break_ties_in_ordinal_order_and_count_edits_as_documented()
    {
        Assert.Equal("bar", KeySuggestion.Closest("baz", ["bat", "bar"]));
        Assert.Equal(1, KeySuggestion.Distance("modles", "models"));
        Assert.Equal(2, KeySuggestion.Distance("mdoles", "models"));
        Assert.Equal(3, KeySuggestion.Distance("akka", "auth"));
        Assert.Equal(0, KeySuggestion.Distance("Port", "port"));
        Assert.Null(KeySuggestion.Closest("anything", []));
    }
}
