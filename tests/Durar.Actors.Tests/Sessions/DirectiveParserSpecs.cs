using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Directives;
using static Durar.Actors.Sessions.Directives.Directive;

namespace Durar.Actors.Tests.Sessions;

public sealed class DirectiveParserSpecs
{
    private static Directive Single(string message)
    {
        var parsed = DirectiveParser.Parse(message);
        Assert.Empty(parsed.Errors);
        return Assert.Single(parsed.Directives);
    }

    private static DirectiveError SingleError(string message)
    {
        var parsed = DirectiveParser.Parse(message);
        Assert.Empty(parsed.Directives);
        return Assert.Single(parsed.Errors);
    }

    // ---- /think ----

    [Theory]
    [InlineData("/think off", ThinkingLevel.Off)]
    [InlineData("/think minimal", ThinkingLevel.Minimal)]
    [InlineData("/think low", ThinkingLevel.Low)]
    [InlineData("/think medium", ThinkingLevel.Medium)]
    [InlineData("/think high", ThinkingLevel.High)]
    [InlineData("/think xhigh", ThinkingLevel.XHigh)]
    [InlineData("/think adaptive", ThinkingLevel.Adaptive)]
    [InlineData("/think max", ThinkingLevel.Max)]
    [InlineData("/think ultra", ThinkingLevel.Ultra)]
    [InlineData("/think x-high", ThinkingLevel.XHigh)]
    [InlineData("/think highest", ThinkingLevel.High)]
    [InlineData("/Think HIGH", ThinkingLevel.High)]
    [InlineData("/thinking low", ThinkingLevel.Low)]
    [InlineData("/THINKING X-High", ThinkingLevel.XHigh)]
    public void Should_parse_every_thinking_level_and_alias(string message, ThinkingLevel expected) =>
        Assert.Equal(new ThinkDirective(expected, false), Single(message));

    [Theory]
    [InlineData("/think default")]
    [InlineData("/think inherit")]
    [InlineData("/think clear")]
    [InlineData("/think reset")]
    [InlineData("/think unpin")]
    [InlineData("/think DEFAULT")]
    [InlineData("/thinking reset")]
    public void Should_clear_the_thinking_level_with_every_clear_word(string message) =>
        Assert.Equal(new ThinkDirective(null, true), Single(message));

    [Theory]
    [InlineData("/think banana", "banana")]
    [InlineData("/think on", "on")]
    [InlineData("/thinking HUGE", "HUGE")]
    [InlineData("/think x_high", "x_high")]
    public void Should_reject_unknown_thinking_levels_with_the_reference_text(string message, string value)
    {
        var error = SingleError(message);
        Assert.Equal("think", error.Directive);
        Assert.Equal($"Unrecognized thinking level \"{value}\". Valid levels: off, minimal, low, medium, high, xhigh, adaptive, max, ultra, default.", error.Message);
    }

    // ---- /fast ----

    [Theory]
    [InlineData("/fast auto", FastMode.Auto)]
    [InlineData("/fast on", FastMode.On)]
    [InlineData("/fast off", FastMode.Off)]
    [InlineData("/FAST On", FastMode.On)]
    public void Should_parse_every_fast_mode(string message, FastMode expected) =>
        Assert.Equal(new FastDirective(expected, false), Single(message));

    [Theory]
    [InlineData("/fast default")]
    [InlineData("/fast reset")]
    [InlineData("/fast inherit")]
    [InlineData("/fast clear")]
    [InlineData("/fast unpin")]
    public void Should_clear_the_fast_mode(string message) => Assert.Equal(new FastDirective(null, true), Single(message));

    [Theory]
    [InlineData("/fast turbo", "turbo")]
    [InlineData("/fast true", "true")]
    [InlineData("/fast 1", "1")]
    public void Should_reject_unknown_fast_modes_with_the_reference_text(string message, string value)
    {
        var error = SingleError(message);
        Assert.Equal("fast", error.Directive);
        Assert.Equal($"Unrecognized fast mode \"{value}\". Valid modes: auto, on, off, default.", error.Message);
    }

    // ---- /usage ----

    [Theory]
    [InlineData("/usage off", ResponseUsageMode.Off)]
    [InlineData("/usage tokens", ResponseUsageMode.Tokens)]
    [InlineData("/usage full", ResponseUsageMode.Full)]
    [InlineData("/Usage FULL", ResponseUsageMode.Full)]
    public void Should_parse_every_usage_mode_keeping_off_explicit(string message, ResponseUsageMode expected) =>
        Assert.Equal(new UsageDirective(expected, false), Single(message));

    [Theory]
    [InlineData("/usage reset")]
    [InlineData("/usage default")]
    [InlineData("/usage inherit")]
    [InlineData("/usage inherited")]
    [InlineData("/usage clear")]
    [InlineData("/usage unpin")]
    public void Should_clear_the_usage_mode_with_every_alias(string message) =>
        Assert.Equal(new UsageDirective(null, true), Single(message));

    [Theory]
    [InlineData("/usage on", "on")]
    [InlineData("/usage verbose", "verbose")]
    public void Should_reject_unknown_usage_modes_with_the_reference_text(string message, string value)
    {
        var error = SingleError(message);
        Assert.Equal("usage", error.Directive);
        Assert.Equal($"Unrecognized usage mode \"{value}\". Valid modes: off, tokens, full, reset.", error.Message);
    }

    // ---- /queue ----

    [Theory]
    [InlineData("/queue followup", QueueMode.Followup)]
    [InlineData("/queue collect", QueueMode.Collect)]
    [InlineData("/queue interrupt", QueueMode.Interrupt)]
    [InlineData("/queue steer", QueueMode.Followup)]
    [InlineData("/queue queue", QueueMode.Followup)]
    [InlineData("/queue steer-backlog", QueueMode.Followup)]
    [InlineData("/queue steer+backlog", QueueMode.Followup)]
    [InlineData("/QUEUE Collect", QueueMode.Collect)]
    public void Should_parse_every_queue_mode_and_alias(string message, QueueMode expected) =>
        Assert.Equal(new QueueDirective(expected, false, null, null, null), Single(message));

    [Theory]
    [InlineData("/queue default")]
    [InlineData("/queue reset")]
    [InlineData("/queue clear")]
    public void Should_clear_the_queue_mode(string message) =>
        Assert.Equal(new QueueDirective(null, true, null, null, null), Single(message));

    [Fact]
    public void Should_parse_queue_options()
    {
        var q = Assert.IsType<QueueDirective>(Single("/queue collect debounce:0.5s cap:25 drop:summarize"));
        Assert.Equal(new QueueDirective(QueueMode.Collect, false, TimeSpan.FromMilliseconds(500), 25, QueueDropPolicy.Summarize), q);
        Assert.True(q.HasOptions);
        Assert.False(new QueueDirective(QueueMode.Collect, false, null, null, null).HasOptions);
    }

    [Theory]
    [InlineData("debounce:500", 500)]
    [InlineData("debounce:500ms", 500)]
    [InlineData("debounce:0.5s", 500)]
    [InlineData("debounce:2s", 2000)]
    [InlineData("debounce:1.5S", 1500)]
    [InlineData("debounce:1m", 60_000)]
    [InlineData("debounce:0", 0)]
    [InlineData("DEBOUNCE:250MS", 250)]
    public void Should_parse_debounce_durations(string option, int milliseconds)
    {
        var q = Assert.IsType<QueueDirective>(Single($"/queue collect {option}"));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), q.Debounce);
    }

    [Theory]
    [InlineData("drop:old", QueueDropPolicy.Old)]
    [InlineData("drop:new", QueueDropPolicy.New)]
    [InlineData("drop:summarize", QueueDropPolicy.Summarize)]
    [InlineData("drop:OLD", QueueDropPolicy.Old)]
    public void Should_parse_every_drop_policy(string option, QueueDropPolicy expected) =>
        Assert.Equal(expected, Assert.IsType<QueueDirective>(Single($"/queue followup {option}")).Drop);

    [Fact]
    public void Should_accept_queue_options_without_a_mode() =>
        Assert.Equal(new QueueDirective(null, false, null, 5, QueueDropPolicy.Old), Single("/queue cap:5 drop:old"));

    [Theory]
    [InlineData("/queue collect cap:abc", "cap:abc")]
    [InlineData("/queue collect cap:0", "cap:0")]
    [InlineData("/queue collect cap:-1", "cap:-1")]
    [InlineData("/queue collect cap:", "cap:")]
    [InlineData("/queue collect debounce:abc", "debounce:abc")]
    [InlineData("/queue collect debounce:-1s", "debounce:-1s")]
    [InlineData("/queue collect debounce:2h", "debounce:2h")]
    [InlineData("/queue collect debounce:61m", "debounce:61m")]
    [InlineData("/queue collect drop:middle", "drop:middle")]
    [InlineData("/queue cap:many", "cap:many")]
    [InlineData("/queue collect cap:5 drop:all", "drop:all")]
    public void Should_reject_invalid_queue_options_with_the_reference_text(string message, string option)
    {
        var parsed = DirectiveParser.Parse(message);
        Assert.Empty(parsed.Directives);
        var error = Assert.Single(parsed.Errors);
        Assert.Equal("queue", error.Directive);
        Assert.Equal($"Invalid queue option \"{option}\".", error.Message);
        Assert.Equal("", parsed.Text);
    }

    [Theory]
    [InlineData("/queue fifo", "fifo")]
    [InlineData("/queue steer-only", "steer-only")]
    public void Should_reject_unknown_queue_modes_with_the_reference_text(string message, string value)
    {
        var error = SingleError(message);
        Assert.Equal("queue", error.Directive);
        Assert.Equal($"Unrecognized queue mode \"{value}\". Valid modes: followup, collect, interrupt, default.", error.Message);
    }

    [Fact]
    public void Should_report_the_mode_error_first_when_mode_and_option_are_both_bad()
    {
        var parsed = DirectiveParser.Parse("/queue fifo cap:x");
        var error = Assert.Single(parsed.Errors);
        Assert.StartsWith("Unrecognized queue mode \"fifo\"", error.Message);
        Assert.Equal("", parsed.Text);
    }

    [Fact]
    public void Should_leave_unknown_key_value_tokens_after_a_queue_directive_in_the_text()
    {
        var parsed = DirectiveParser.Parse("/queue collect foo:bar cap:3");
        Assert.Equal(new QueueDirective(QueueMode.Collect, false, null, null, null), Assert.Single(parsed.Directives));
        Assert.Equal("foo:bar cap:3", parsed.Text);
        Assert.False(parsed.IsDirectiveOnly);
    }

    // ---- /model ----

    [Theory]
    [InlineData("/model openai/gpt-5.4", "openai/gpt-5.4", null)]
    [InlineData("/model OpenAI/GPT-5.4", "OpenAI/GPT-5.4", null)]
    [InlineData("/model openrouter/moonshotai/kimi-k2", "openrouter/moonshotai/kimi-k2", null)]
    [InlineData("/model opus", "opus", null)]
    [InlineData("/model openai/gpt-5.4@openai:default", "openai/gpt-5.4", "openai:default")]
    [InlineData("/model openai/gpt-5.4@openai:me@x.com", "openai/gpt-5.4", "openai:me@x.com")]
    [InlineData("/model opus@anthropic:work@corp.example", "opus", "anthropic:work@corp.example")]
    [InlineData("/model vertex/claude@20250101@anthropic:default", "vertex/claude@20250101", "anthropic:default")]
    [InlineData("/model openai/gpt-5.4@snapshot", "openai/gpt-5.4@snapshot", null)]
    [InlineData("/model openai/gpt-5.4 -s", "openai/gpt-5.4", null)]
    [InlineData("/model openai/gpt-5.4 --session", "openai/gpt-5.4", null)]
    [InlineData("/MODEL openai/gpt-5.4", "openai/gpt-5.4", null)]
    public void Should_parse_model_refs_aliases_and_auth_profiles(string message, string modelRef, string? profile) =>
        Assert.Equal(new ModelDirective(modelRef, profile, false), Single(message));

    [Theory]
    [InlineData("/model default")]
    [InlineData("/model Default")]
    public void Should_parse_model_default(string message) => Assert.Equal(new ModelDirective(null, null, true), Single(message));

    [Theory]
    [InlineData("/model openai/", "openai/")]
    [InlineData("/model @openai:default", "@openai:default")]
    [InlineData("/model openai/gpt-5.4@openai:", "openai/gpt-5.4@openai:")]
    [InlineData("/model default@openai:me", "default@openai:me")]
    public void Should_reject_malformed_model_refs_with_the_reference_text(string message, string value)
    {
        var error = SingleError(message);
        Assert.Equal("model", error.Directive);
        Assert.Equal($"Invalid model ref \"{value}\".", error.Message);
    }

    [Fact]
    public void Should_keep_the_model_session_flag_in_the_text_when_it_does_not_follow_the_ref()
    {
        var parsed = DirectiveParser.Parse("/model openai/gpt-5.4 hello -s");
        Assert.Equal("hello -s", parsed.Text);
    }

    // ---- /new, /reset ----

    [Theory]
    [InlineData("/new", false)]
    [InlineData("/NEW", false)]
    [InlineData("/reset", true)]
    [InlineData("/Reset", true)]
    public void Should_parse_new_and_reset(string message, bool isReset) =>
        Assert.Equal(new NewSessionDirective(isReset), Single(message));

    [Fact]
    public void Should_not_consume_an_argument_after_new()
    {
        var parsed = DirectiveParser.Parse("/new hello there");
        Assert.Equal(new NewSessionDirective(false), Assert.Single(parsed.Directives));
        Assert.Equal("hello there", parsed.Text);
        Assert.False(parsed.IsDirectiveOnly);
    }

    // ---- status (no argument) ----

    [Theory]
    [InlineData("/think", "think")]
    [InlineData("/thinking", "think")]
    [InlineData("/fast", "fast")]
    [InlineData("/usage", "usage")]
    [InlineData("/queue", "queue")]
    [InlineData("/model", "model")]
    [InlineData("  /Think  ", "think")]
    public void Should_parse_a_directive_without_its_argument_as_a_status_request(string message, string name)
    {
        var parsed = DirectiveParser.Parse(message);
        Assert.Equal(new StatusDirective(name), Assert.Single(parsed.Directives));
        Assert.True(parsed.IsDirectiveOnly);
    }

    [Fact]
    public void Should_not_take_an_argument_from_the_next_line()
    {
        var parsed = DirectiveParser.Parse("/think\nhigh hopes today");
        Assert.Equal(new StatusDirective("think"), Assert.Single(parsed.Directives));
        Assert.Equal("high hopes today", parsed.Text);
    }

    [Fact]
    public void Should_not_take_a_following_directive_as_an_argument()
    {
        var parsed = DirectiveParser.Parse("/think /fast on");
        Assert.Equal(new Directive[] { new StatusDirective("think"), new FastDirective(FastMode.On, false) }, parsed.Directives);
        Assert.True(parsed.IsDirectiveOnly);
    }

    [Fact]
    public void Should_not_take_a_slash_token_as_an_argument()
    {
        var parsed = DirectiveParser.Parse("/model /gpt");
        Assert.Equal(new StatusDirective("model"), Assert.Single(parsed.Directives));
        Assert.Equal("/gpt", parsed.Text);
    }

    // ---- text preservation ----

    [Theory]
    [InlineData("/usr/bin/env python3 script.py")]
    [InlineData("compare a/b with c/d")]
    [InlineData("see http://x/y and https://example.com/think")]
    [InlineData("/foo bar")]
    [InlineData("/think, then answer")]
    [InlineData("/new.")]
    [InlineData("x/think high")]
    [InlineData("(/think high)")]
    [InlineData("/models openai/gpt")]
    [InlineData("/")]
    [InlineData("  leading and trailing  \n")]
    [InlineData("line one\n\n  indented line two\r\nthree\t tabs")]
    [InlineData("")]
    public void Should_leave_text_without_directives_exactly_as_given(string message)
    {
        var parsed = DirectiveParser.Parse(message);
        Assert.Empty(parsed.Directives);
        Assert.Empty(parsed.Errors);
        Assert.Equal(message, parsed.Text);
        Assert.False(parsed.IsDirectiveOnly);
    }

    [Theory]
    [InlineData("/think high hello", "hello")]
    [InlineData("hello /think high", "hello")]
    [InlineData("hello /think high world", "hello world")]
    [InlineData("hello   /think high   world", "hello world")]
    [InlineData("hello\t/think high\tworld", "hello world")]
    [InlineData("/think high /fast on hello world", "hello world")]
    [InlineData("  /new  hello  ", "hello  ")]
    [InlineData("line1\n/think high\nline2", "line1\nline2")]
    [InlineData("para1\n\n/think high\n\npara2", "para1\n\npara2")]
    [InlineData("para1\n/think high\n\npara2", "para1\n\npara2")]
    [InlineData("a\n/new\n    indented", "a\n    indented")]
    [InlineData("keep\n\nnewlines /fast on inside\nhere", "keep\n\nnewlines inside\nhere")]
    [InlineData("one\r\n/usage full\r\ntwo", "one\r\ntwo")]
    [InlineData("/think high\nfirst line\n  second line  \nlast", "first line\n  second line  \nlast")]
    [InlineData("first\n  second  \n/fast on", "first\n  second")]
    [InlineData("run /usr/bin/env /think high now", "run /usr/bin/env now")]
    [InlineData("fetch http://x/y /usage tokens please", "fetch http://x/y please")]
    [InlineData("use a/b /model openai/gpt-5.4 then", "use a/b then")]
    [InlineData("/queue collect debounce:1s cap:3 go", "go")]
    public void Should_remove_directives_and_normalize_only_the_whitespace_they_leave(string message, string text) =>
        Assert.Equal(text, DirectiveParser.Parse(message).Text);

    [Fact]
    public void Should_remove_invalid_directives_and_their_argument_from_the_text()
    {
        var parsed = DirectiveParser.Parse("please /think about this");
        Assert.Equal("please this", parsed.Text);
        Assert.Single(parsed.Errors);
        Assert.Empty(parsed.Directives);
        Assert.False(parsed.IsDirectiveOnly);
    }

    // ---- directive-only detection ----

    [Theory]
    [InlineData("/think high", true)]
    [InlineData("/think high /fast on", true)]
    [InlineData("  /new  \n", true)]
    [InlineData("/think banana", true)]
    [InlineData("/think\n/usage full\n", true)]
    [InlineData("hello", false)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("hello /think high", false)]
    [InlineData("/think high\nhello", false)]
    [InlineData("/usr/bin/env", false)]
    public void Should_detect_directive_only_messages(string message, bool directiveOnly) =>
        Assert.Equal(directiveOnly, DirectiveParser.Parse(message).IsDirectiveOnly);

    [Fact]
    public void Should_parse_many_directives_in_order()
    {
        var parsed = DirectiveParser.Parse("/model openai/gpt-5.4@openai:me@x.com /think high /fast on /usage full /queue collect cap:5 /new");
        Assert.Equal(
            new Directive[]
            {
                new ModelDirective("openai/gpt-5.4", "openai:me@x.com", false),
                new ThinkDirective(ThinkingLevel.High, false),
                new FastDirective(FastMode.On, false),
                new UsageDirective(ResponseUsageMode.Full, false),
                new QueueDirective(QueueMode.Collect, false, null, 5, null),
                new NewSessionDirective(false),
            },
            parsed.Directives);
        Assert.Empty(parsed.Errors);
        Assert.Equal("", parsed.Text);
        Assert.True(parsed.IsDirectiveOnly);
    }

    [Fact]
    public void Should_keep_valid_directives_next_to_errors()
    {
        var parsed = DirectiveParser.Parse("/think banana /fast on /usage loud hi");
        Assert.Equal(new FastDirective(FastMode.On, false), Assert.Single(parsed.Directives));
        Assert.Equal(new[] { "think", "usage" }, parsed.Errors.Select(e => e.Directive));
        Assert.Equal("hi", parsed.Text);
        Assert.True(parsed.HasErrors);
    }

    [Fact]
    public void Should_keep_repeated_directives_in_order_so_the_last_wins()
    {
        var parsed = DirectiveParser.Parse("/think high /think low");
        Assert.Equal(new Directive[] { new ThinkDirective(ThinkingLevel.High, false), new ThinkDirective(ThinkingLevel.Low, false) }, parsed.Directives);
    }

    [Fact]
    public void Should_recognize_directives_in_the_middle_of_a_multiline_message()
    {
        var parsed = DirectiveParser.Parse("Summarize this:\n\n/think max\nThe quick brown fox.\nThanks");
        Assert.Equal(new ThinkDirective(ThinkingLevel.Max, false), Assert.Single(parsed.Directives));
        Assert.Equal("Summarize this:\n\nThe quick brown fox.\nThanks", parsed.Text);
    }

    [Theory]
    [InlineData("/thinking", "think")]
    [InlineData("/Model", "model")]
    [InlineData("/RESET", "reset")]
    [InlineData("/foo", null)]
    [InlineData("think", null)]
    [InlineData("/", null)]
    public void Should_name_directive_tokens_canonically(string token, string? name) =>
        Assert.Equal(name, DirectiveParser.DirectiveName(token));

    [Fact]
    public void Should_throw_on_a_null_message() => Assert.Throws<ArgumentNullException>(() => DirectiveParser.Parse(null!));
}
