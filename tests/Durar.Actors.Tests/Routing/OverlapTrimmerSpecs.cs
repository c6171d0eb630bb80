using Durar.Actors.Routing;

namespace Durar.Actors.Tests.Routing;

/// <summary>The seam of a continued stream: what a continuation repeats of the answer the client already has is dropped.</summary>
public sealed class OverlapTrimmerSpecs
{
    private const string Sent = "The first upstream wrote this much before it broke, ";

    private static string Run(string sent, params string[] pieces)
    {
        var trimmer = new OverlapTrimmer(sent);
        return string.Concat(pieces.Select(trimmer.Push)) + trimmer.Flush();
    }

    [Fact]
    public void Should_pass_a_clean_continuation_through() =>
        Assert.Equal("and the second went on.", Run(Sent, "and the ", "second went on."));

    [Fact]
    public void Should_drop_a_restart_of_the_whole_answer() =>
        Assert.Equal("and the second went on.", Run(Sent, "The first upstream ", "wrote this much before it broke, and ", "the second went on."));

    [Fact]
    public void Should_drop_a_repeated_seam_of_at_least_the_minimum_length() =>
        Assert.Equal("and the second went on.", Run(Sent, "before it broke, ", "and the second went on."));

    [Fact]
    public void Should_keep_a_short_chance_overlap() =>
        Assert.Equal("e, and more", Run("ends with e, ", "e, and more"));

    [Fact]
    public void Should_drop_leading_whitespace_that_repeats_the_answers_trailing_whitespace() =>
        Assert.Equal("next\n\nparagraph", Run("One paragraph.\n", "\nnext\n\nparagraph"));

    [Fact]
    public void Should_hold_nothing_back_once_decided()
    {
        var trimmer = new OverlapTrimmer("short");
        Assert.Equal("", trimmer.Push("x"));
        var decided = trimmer.Push(new string('y', OverlapTrimmer.Window));
        Assert.Equal("x" + new string('y', OverlapTrimmer.Window), decided);
        Assert.Equal("z", trimmer.Push("z"));
        Assert.Equal("", trimmer.Flush());
    }

    [Fact]
    public void Should_release_what_it_holds_when_the_continuation_ends_early() =>
        Assert.Equal("ok", Run(Sent, "ok"));
}
