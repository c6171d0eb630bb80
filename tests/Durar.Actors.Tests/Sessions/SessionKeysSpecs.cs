using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions;

/// <summary>The session key rule every adapter applies: 1–200 letters, digits or <c>: . _ - @</c>, starting with a letter or digit.</summary>
public sealed class SessionKeysSpecs
{
    [Theory]
    [InlineData("a")]
    [InlineData("team:a.b_c-d@example")]
    [InlineData("0")]
    public void Should_accept_keys_of_the_allowed_characters(string key) => Assert.True(SessionKeys.IsValid(key));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bad key!")]
    [InlineData("-leading")]
    [InlineData(".leading")]
    [InlineData("slash/inside")]
    public void Should_reject_other_keys(string? key) => Assert.False(SessionKeys.IsValid(key));

    [Fact]
    public void Should_accept_200_characters_and_reject_201()
    {
        Assert.True(SessionKeys.IsValid(new string('k', SessionKeys.MaxLength)));
        Assert.False(SessionKeys.IsValid(new string('k', SessionKeys.MaxLength + 1)));
    }
}
