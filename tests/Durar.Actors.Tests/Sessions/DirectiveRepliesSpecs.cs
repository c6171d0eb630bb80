using Durar.Actors.Models;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Directives;
using static Durar.Actors.Sessions.Directives.Directive;

namespace Durar.Actors.Tests.Sessions;

public sealed class DirectiveRepliesSpecs
{
    private const string Primary = "anthropic/claude-opus-4-6";

    private static string Ack(string message, string? resolved = null) =>
        DirectiveReplies.Acknowledge(Assert.Single(DirectiveParser.Parse(message).Directives), Primary, resolved);

    [Theory]
    [InlineData("/think off", "Thinking disabled.")]
    [InlineData("/think minimal", "Thinking level set to minimal.")]
    [InlineData("/think low", "Thinking level set to low.")]
    [InlineData("/think medium", "Thinking level set to medium.")]
    [InlineData("/think high", "Thinking level set to high.")]
    [InlineData("/think xhigh", "Thinking level set to xhigh.")]
    [InlineData("/think x-high", "Thinking level set to xhigh.")]
    [InlineData("/think highest", "Thinking level set to high.")]
    [InlineData("/think adaptive", "Thinking level set to adaptive.")]
    [InlineData("/think max", "Thinking level set to max.")]
    [InlineData("/think ultra", "Thinking level set to ultra.")]
    [InlineData("/think default", "Thinking level reset to default.")]
    [InlineData("/think unpin", "Thinking level reset to default.")]
    [InlineData("/fast on", "Fast mode enabled.")]
    [InlineData("/fast off", "Fast mode disabled.")]
    [InlineData("/fast auto", "Fast mode set to auto.")]
    [InlineData("/fast default", "Fast mode reset to default.")]
    [InlineData("/usage tokens", "Usage display set to tokens.")]
    [InlineData("/usage full", "Usage display set to full.")]
    [InlineData("/usage off", "Usage display disabled.")]
    [InlineData("/usage reset", "Usage display reset to default.")]
    [InlineData("/usage inherited", "Usage display reset to default.")]
    [InlineData("/queue followup", "Queue mode set to followup.")]
    [InlineData("/queue collect", "Queue mode set to collect.")]
    [InlineData("/queue interrupt", "Queue mode set to interrupt.")]
    [InlineData("/queue steer", "Queue mode set to followup.")]
    [InlineData("/queue collect debounce:0.5s cap:20 drop:summarize", "Queue mode set to collect (debounce 500 ms, cap 20, drop summarize).")]
    [InlineData("/queue collect debounce:2s", "Queue mode set to collect (debounce 2000 ms).")]
    [InlineData("/queue interrupt cap:5 drop:new", "Queue mode set to interrupt (cap 5, drop new).")]
    [InlineData("/queue drop:old", "Queue options set (drop old).")]
    [InlineData("/queue default", "Queue mode reset to default.")]
    [InlineData("/queue reset", "Queue mode reset to default.")]
    [InlineData("/model openai/gpt-5.4", "Model set to openai/gpt-5.4.")]
    [InlineData("/model openai/gpt-5.4@openai:me@x.com", "Model set to openai/gpt-5.4 (auth profile openai:me@x.com).")]
    [InlineData("/model default", "Model reset to default (anthropic/claude-opus-4-6).")]
    [InlineData("/new", "New session started.")]
    [InlineData("/reset", "Session reset.")]
    public void Should_acknowledge_every_directive_with_the_reference_text(string message, string expected) =>
        Assert.Equal(expected, Ack(message));

    [Fact]
    public void Should_acknowledge_an_alias_with_the_resolved_model_when_given()
    {
        Assert.Equal("Model set to anthropic/claude-opus-4-6.", Ack("/model opus", "anthropic/claude-opus-4-6"));
        Assert.Equal("Model set to opus.", Ack("/model opus"));
        Assert.Equal("Model set to anthropic/claude-opus-4-6 (auth profile anthropic:default).",
            Ack("/model opus@anthropic:default", "anthropic/claude-opus-4-6"));
    }

    [Fact]
    public void Should_build_acknowledgements_from_values_directly()
    {
        Assert.Equal("Thinking level set to high.", DirectiveReplies.Thinking(ThinkingLevel.High));
        Assert.Equal("Thinking disabled.", DirectiveReplies.Thinking(ThinkingLevel.Off));
        Assert.Equal("Thinking level reset to default.", DirectiveReplies.Thinking(null));
        Assert.Equal("Fast mode reset to default.", DirectiveReplies.Fast(null));
        Assert.Equal("Usage display reset to default.", DirectiveReplies.Usage(null));
        Assert.Equal("Model set to openai/gpt-5.4.", DirectiveReplies.ModelSet("openai/gpt-5.4"));
        Assert.Equal("Model set to openai/gpt-5.4 (auth profile openai:default).", DirectiveReplies.ModelSet("openai/gpt-5.4", "openai:default"));
        Assert.Equal("Model reset to default (openai/gpt-5.4).", DirectiveReplies.ModelReset("openai/gpt-5.4"));
        Assert.Equal("New session started.", DirectiveReplies.NewSession(false));
        Assert.Equal("Session reset.", DirectiveReplies.NewSession(true));
        Assert.Equal("Queue mode set to collect (debounce 1250 ms).",
            DirectiveReplies.Queue(new QueueDirective(QueueMode.Collect, false, TimeSpan.FromMilliseconds(1250), null, null)));
    }

    [Fact]
    public void Should_join_the_acknowledgements_of_a_directive_only_message_with_newlines()
    {
        var parsed = DirectiveParser.Parse("/think high /fast on /usage full");
        Assert.True(parsed.IsDirectiveOnly);
        var reply = DirectiveReplies.Join(parsed.Directives.Select(d => DirectiveReplies.Acknowledge(d, Primary)));
        Assert.Equal("Thinking level set to high.\nFast mode enabled.\nUsage display set to full.", reply);
    }

    [Fact]
    public void Should_refuse_to_acknowledge_a_status_directive() =>
        Assert.Throws<ArgumentException>(() => DirectiveReplies.Acknowledge(new StatusDirective("think"), Primary));

    [Fact]
    public void Should_answer_status_directives_with_the_effective_value()
    {
        var current = new CurrentSettings("openai/gpt-5.4", ThinkingLevel.Medium, FastMode.Auto, ResponseUsageMode.Tokens, QueueMode.Collect);
        Assert.Equal("Current thinking level: medium.", DirectiveReplies.Status(new StatusDirective("think"), current));
        Assert.Equal("Current fast mode: auto.", DirectiveReplies.Status(new StatusDirective("fast"), current));
        Assert.Equal("Current usage display: tokens.", DirectiveReplies.Status(new StatusDirective("usage"), current));
        Assert.Equal("Current queue mode: collect.", DirectiveReplies.Status(new StatusDirective("queue"), current));
        Assert.Equal("Current model: openai/gpt-5.4.", DirectiveReplies.Status(new StatusDirective("model"), current));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirectiveReplies.Status(new StatusDirective("new"), current));
    }

    [Fact]
    public void Should_answer_status_with_typed_helpers()
    {
        Assert.Equal("Current thinking level: xhigh.", DirectiveReplies.ThinkingStatus(ThinkingLevel.XHigh));
        Assert.Equal("Current fast mode: off.", DirectiveReplies.FastStatus(FastMode.Off));
        Assert.Equal("Current usage display: full.", DirectiveReplies.UsageStatus(ResponseUsageMode.Full));
        Assert.Equal("Current queue mode: interrupt.", DirectiveReplies.QueueStatus(QueueMode.Interrupt));
        Assert.Equal("Current model: x/y.", DirectiveReplies.ModelStatus("x/y"));
    }

    [Fact]
    public void Should_expose_every_error_text()
    {
        Assert.Equal("Unrecognized thinking level \"q\". Valid levels: off, minimal, low, medium, high, xhigh, adaptive, max, ultra, default.",
            DirectiveReplies.UnrecognizedThinkingLevel("q"));
        Assert.Equal("Unrecognized fast mode \"q\". Valid modes: auto, on, off, default.", DirectiveReplies.UnrecognizedFastMode("q"));
        Assert.Equal("Unrecognized usage mode \"q\". Valid modes: off, tokens, full, reset.", DirectiveReplies.UnrecognizedUsageMode("q"));
        Assert.Equal("Unrecognized queue mode \"q\". Valid modes: followup, collect, interrupt, default.", DirectiveReplies.UnrecognizedQueueMode("q"));
        Assert.Equal("Invalid queue option \"cap:abc\".", DirectiveReplies.InvalidQueueOption("cap:abc"));
        Assert.Equal("Invalid model ref \"openai/\".", DirectiveReplies.InvalidModelRef("openai/"));
    }

    [Fact]
    public void Should_give_the_model_policy_rejection_text()
    {
        var model = ModelRef.Parse("OpenAI/gpt-5.4");
        Assert.Equal("Model override \"openai/gpt-5.4\" is not allowed by agents.defaults.modelPolicy.allow.", DirectiveReplies.ModelNotAllowed(model));
        Assert.Equal(ModelPolicy.RejectionMessage(model), DirectiveReplies.ModelNotAllowed(model));
        Assert.Equal("Model override \"openai/gpt-5.4\" is not allowed by agents.defaults.modelPolicy.allow.", DirectiveReplies.ModelNotAllowed("OpenAI/gpt-5.4"));
        Assert.Equal("Model override \"opus\" is not allowed by agents.defaults.modelPolicy.allow.", DirectiveReplies.ModelNotAllowed("opus"));
    }
}

public sealed class WireNamesSpecs
{
    [Theory]
    [InlineData(ThinkingLevel.Off, "off")]
    [InlineData(ThinkingLevel.Minimal, "minimal")]
    [InlineData(ThinkingLevel.Low, "low")]
    [InlineData(ThinkingLevel.Medium, "medium")]
    [InlineData(ThinkingLevel.High, "high")]
    [InlineData(ThinkingLevel.XHigh, "xhigh")]
    [InlineData(ThinkingLevel.Adaptive, "adaptive")]
    [InlineData(ThinkingLevel.Max, "max")]
    [InlineData(ThinkingLevel.Ultra, "ultra")]
    public void Should_round_trip_thinking_wire_names(ThinkingLevel level, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(level));
        Assert.True(WireNames.TryParseThinking(wire, out var parsed));
        Assert.Equal(level, parsed);
        Assert.True(WireNames.TryParseThinking($" {wire.ToUpperInvariant()} ", out parsed));
        Assert.Equal(level, parsed);
    }

    [Theory]
    [InlineData(FastMode.Auto, "auto")]
    [InlineData(FastMode.On, "on")]
    [InlineData(FastMode.Off, "off")]
    public void Should_round_trip_fast_wire_names(FastMode mode, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(mode));
        Assert.True(WireNames.TryParseFast(wire.ToUpperInvariant(), out var parsed));
        Assert.Equal(mode, parsed);
    }

    [Theory]
    [InlineData(ResponseUsageMode.Off, "off")]
    [InlineData(ResponseUsageMode.Tokens, "tokens")]
    [InlineData(ResponseUsageMode.Full, "full")]
    public void Should_round_trip_usage_wire_names(ResponseUsageMode mode, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(mode));
        Assert.True(WireNames.TryParseResponseUsage(wire, out var parsed));
        Assert.Equal(mode, parsed);
    }

    [Theory]
    [InlineData(QueueMode.Followup, "followup")]
    [InlineData(QueueMode.Collect, "collect")]
    [InlineData(QueueMode.Interrupt, "interrupt")]
    public void Should_round_trip_queue_wire_names(QueueMode mode, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(mode));
        Assert.True(WireNames.TryParseQueue(wire, out var parsed));
        Assert.Equal(mode, parsed);
    }

    [Theory]
    [InlineData(QueueDropPolicy.Old, "old")]
    [InlineData(QueueDropPolicy.New, "new")]
    [InlineData(QueueDropPolicy.Summarize, "summarize")]
    public void Should_round_trip_drop_policy_wire_names(QueueDropPolicy policy, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(policy));
        Assert.True(WireNames.TryParseQueueDrop(wire, out var parsed));
        Assert.Equal(policy, parsed);
    }

    [Theory]
    [InlineData(OverrideSource.User, "user")]
    [InlineData(OverrideSource.Auto, "auto")]
    public void Should_round_trip_override_source_wire_names(OverrideSource source, string wire)
    {
        Assert.Equal(wire, WireNames.ToWire(source));
        Assert.True(WireNames.TryParseOverrideSource(wire, out var parsed));
        Assert.Equal(source, parsed);
    }

    [Fact]
    public void Should_cover_every_enum_value_with_a_wire_name()
    {
        Assert.All(Enum.GetValues<ThinkingLevel>(), v => Assert.True(WireNames.TryParseThinking(WireNames.ToWire(v), out var p) && p == v));
        Assert.All(Enum.GetValues<FastMode>(), v => Assert.True(WireNames.TryParseFast(WireNames.ToWire(v), out var p) && p == v));
        Assert.All(Enum.GetValues<ResponseUsageMode>(), v => Assert.True(WireNames.TryParseResponseUsage(WireNames.ToWire(v), out var p) && p == v));
        Assert.All(Enum.GetValues<QueueMode>(), v => Assert.True(WireNames.TryParseQueue(WireNames.ToWire(v), out var p) && p == v));
        Assert.All(Enum.GetValues<QueueDropPolicy>(), v => Assert.True(WireNames.TryParseQueueDrop(WireNames.ToWire(v), out var p) && p == v));
        Assert.All(Enum.GetValues<OverrideSource>(), v => Assert.True(WireNames.TryParseOverrideSource(WireNames.ToWire(v), out var p) && p == v));
    }

    [Fact]
    public void Should_throw_for_undefined_enum_values() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WireNames.ToWire((ThinkingLevel)99));

    [Theory]
    [InlineData("x-high", ThinkingLevel.XHigh)]
    [InlineData("highest", ThinkingLevel.High)]
    public void Should_parse_thinking_aliases(string text, ThinkingLevel expected)
    {
        Assert.True(WireNames.TryParseThinking(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("steer")]
    [InlineData("queue")]
    [InlineData("steer-backlog")]
    [InlineData("steer+backlog")]
    public void Should_parse_legacy_queue_modes_as_followup(string text)
    {
        Assert.True(WireNames.TryParseQueue(text, out var mode));
        Assert.Equal(QueueMode.Followup, mode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("default")]
    [InlineData("medium-high")]
    public void Should_reject_unknown_or_clear_words_as_values(string? text)
    {
        Assert.False(WireNames.TryParseThinking(text, out _));
        Assert.False(WireNames.TryParseFast(text, out _));
        Assert.False(WireNames.TryParseResponseUsage(text, out _));
        Assert.False(WireNames.TryParseQueue(text, out _));
        Assert.False(WireNames.TryParseQueueDrop(text, out _));
        Assert.False(WireNames.TryParseOverrideSource(text, out _));
    }

    [Theory]
    [InlineData("default", true)]
    [InlineData("inherit", true)]
    [InlineData("inherited", true)]
    [InlineData("clear", true)]
    [InlineData("reset", true)]
    [InlineData("UNPIN", true)]
    [InlineData(" reset ", true)]
    [InlineData("off", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Should_recognize_clear_words(string? text, bool expected) => Assert.Equal(expected, WireNames.IsClearWord(text));
}
