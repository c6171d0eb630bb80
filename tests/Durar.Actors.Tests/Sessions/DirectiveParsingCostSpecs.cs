using System.Text;
using CsCheck;
using Durar.Actors.Sessions.Directives;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// Issue 13, "Session limits: ... per-message directive parsing cost": the directive parser runs inside the session actor,
/// so its work on one message is bounded whatever the message holds. Cost is pinned by the parser's own step count
/// (characters and tokens it examines), never by a clock.
/// </summary>
public sealed class DirectiveParsingCostSpecs
{
    /// <summary>A generous bound on the steps of any message: each part of the parser is linear in the scanned window.</summary>
    private const int StepBound = 8 * DirectiveParser.ScanLimit;

    /// <summary>Pieces a message is made of: directives, their arguments, slashes, '@' and ':' runs, every kind of whitespace.</summary>
    private static readonly string[] Pieces =
    [
        "/", "//", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2028", "@", ":", "@a:", "x", "héllo", "/think", "/Thinking", "/model",
        "/fast", "/usage", "/queue", "/new", "/reset", "high", "off", "default", "openai/gpt-4o", "gpt@openai:me@x.com", "-s",
        "--session", "collect", "debounce:", "debounce:2s", "debounce:9999999999999999999999m", "cap:", "cap:0", "cap:5", "drop:old",
        "drop:", "a/b", "/usr/bin/env", "\0", "\ud800", "\udc00",
    ];

    /// <summary>A message: pieces, each repeated 1 to 20 times or (now and then) tens of thousands of times.</summary>
    private static readonly Gen<string> Messages =
        Gen.Select(Gen.Int[0, Pieces.Length - 1], Gen.Frequency((9, Gen.Int[1, 20]), (1, Gen.Int[1_000, 60_000])), (piece, times) => (piece, times))
            .Array[0, 40]
            .Select(parts =>
            {
                var sb = new StringBuilder();
                foreach (var (piece, times) in parts)
                    for (var i = 0; i < times; i++) sb.Append(Pieces[piece]);
                return sb.ToString();
            });

    [Fact]
    public void Should_end_every_generated_message_in_a_result_with_bounded_work_including_huge_runs_of_slashes_whitespace_and_newlines()
    {
        Messages.Sample(message =>
        {
            var parsed = DirectiveParser.Parse(message, out var steps);
            Assert.NotNull(parsed.Text);
            Assert.True(parsed.Directives.Length + parsed.Errors.Length <= DirectiveParser.MaxDirectives,
                $"{parsed.Directives.Length} directives and {parsed.Errors.Length} errors from one message");
            Assert.True(steps <= StepBound, $"{steps} steps for a message of {message.Length} characters");
            // Whatever was scanned, the part past the scan limit is kept as written.
            if (message.Length > 2 * DirectiveParser.ScanLimit)
                Assert.EndsWith(message[(2 * DirectiveParser.ScanLimit)..].TrimStart(), parsed.Text, StringComparison.Ordinal);
        }, iter: 400);
    }

    [Fact]
    public void Should_parse_a_multi_megabyte_message_of_directive_lines_with_work_bounded_by_the_scan_limit()
    {
        const string lines = "/think high\n/model openai/gpt@@@@@@@@@@@@@@@@@@@@@@@@@@@@@:x\n/queue collect debounce:1s cap:3 drop:old\n/fast on /usage full\n";
        var fourMegabytes = Repeat(lines, 4 << 20);
        var eightMegabytes = Repeat(lines, 8 << 20);

        var parsed = DirectiveParser.Parse(fourMegabytes, out var steps);
        DirectiveParser.Parse(eightMegabytes, out var stepsTwiceAsLong);

        Assert.InRange(steps, 1, StepBound);
        Assert.Equal(steps, stepsTwiceAsLong); // the work does not grow with the message
        Assert.Equal(DirectiveParser.MaxDirectives, parsed.Directives.Length + parsed.Errors.Length);
        // The rest of the message (past the scan limit) is the text, as written.
        Assert.True(parsed.Text.Length >= fourMegabytes.Length - DirectiveParser.ScanLimit);
        Assert.EndsWith(fourMegabytes[DirectiveParser.ScanLimit..], parsed.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_read_a_model_argument_of_thousands_of_at_signs_in_linear_steps()
    {
        // Each '@' once started a fresh scan of the rest of the argument (quadratic): now every character is looked at once.
        var arg = "gpt" + new string('@', 8000);
        var parsed = DirectiveParser.Parse("/model " + arg, out var steps);
        Assert.Equal(arg, Assert.IsType<Directive.ModelDirective>(Assert.Single(parsed.Directives)).Ref); // no profile in it
        Assert.InRange(steps, 1, 4 * (arg.Length + 16));

        var slashes = "openai/gpt" + string.Concat(Enumerable.Repeat("@/", 4000)) + "@openai:me";
        var withProfile = DirectiveParser.Parse("/model " + slashes, out var slashSteps);
        Assert.Equal("openai:me", Assert.IsType<Directive.ModelDirective>(Assert.Single(withProfile.Directives)).ProfileId);
        Assert.InRange(slashSteps, 1, 4 * (slashes.Length + 16));
    }

    [Fact]
    public void Should_keep_directives_past_the_scan_limit_and_past_the_most_directives_as_text()
    {
        var filler = new string('x', DirectiveParser.ScanLimit + 10);
        var late = DirectiveParser.Parse("hello " + filler + " /think high");
        Assert.Empty(late.Directives);
        Assert.EndsWith("/think high", late.Text, StringComparison.Ordinal);

        var many = string.Join(' ', Enumerable.Repeat("/new", DirectiveParser.MaxDirectives + 3)) + " question";
        var parsed = DirectiveParser.Parse(many);
        Assert.Equal(DirectiveParser.MaxDirectives, parsed.Directives.Length);
        Assert.Equal("/new /new /new question", parsed.Text);
    }

    [Fact]
    public void Should_still_remove_a_directive_just_before_the_unscanned_rest_of_a_long_message()
    {
        var rest = new string('y', DirectiveParser.ScanLimit);
        var parsed = DirectiveParser.Parse("/think high\n" + rest);
        Assert.Single(parsed.Directives);
        Assert.Equal(rest, parsed.Text);

        // Cut inside a run of spaces: the directive and its argument go, the text around them stays.
        var spaced = DirectiveParser.Parse("a /fast on " + new string(' ', DirectiveParser.ScanLimit) + rest);
        Assert.Single(spaced.Directives);
        Assert.StartsWith("a ", spaced.Text, StringComparison.Ordinal);
        Assert.EndsWith(" " + rest, spaced.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("/fast", spaced.Text, StringComparison.Ordinal);
    }

    private static string Repeat(string line, int atLeast)
    {
        var sb = new StringBuilder(atLeast + line.Length);
        while (sb.Length < atLeast) sb.Append(line);
        return sb.ToString();
    }
}
