using System.Text.Json.Nodes;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions;

public sealed class EffectiveSettingsSpecs
{
    private static JsonObject Params(string json) => JsonNode.Parse(json)!.AsObject();

    // ---- thinking: every combination of the four layers, with distinct values, for reasoning and plain models ----

    public static TheoryData<bool, bool, bool, bool, bool> ThinkingCombinations()
    {
        var data = new TheoryData<bool, bool, bool, bool, bool>();
        for (var mask = 0; mask < 16; mask++)
            foreach (var reasoning in new[] { true, false })
                data.Add((mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0, (mask & 8) != 0, reasoning);
        return data;
    }

    [Theory]
    [MemberData(nameof(ThinkingCombinations))]
    public void Should_resolve_thinking_inline_then_session_then_agent_default_then_model_params_then_provider_default(
        bool hasInline, bool hasSession, bool hasAgent, bool hasParams, bool reasoning)
    {
        ThinkingLevel? inline = hasInline ? ThinkingLevel.High : null;
        ThinkingLevel? session = hasSession ? ThinkingLevel.Low : null;
        ThinkingLevel? agent = hasAgent ? ThinkingLevel.Minimal : null;
        var prms = hasParams ? Params("""{"thinking":"max"}""") : null;
        var expected = hasInline ? ThinkingLevel.High
            : hasSession ? ThinkingLevel.Low
            : hasAgent ? ThinkingLevel.Minimal
            : hasParams ? ThinkingLevel.Max
            : reasoning ? ThinkingLevel.Medium : ThinkingLevel.Off;
        Assert.Equal(expected, EffectiveSettings.Thinking(inline, session, agent, prms, reasoning));
    }

    [Fact]
    public void Should_keep_an_explicit_thinking_off_over_lower_layers() =>
        Assert.Equal(ThinkingLevel.Off, EffectiveSettings.Thinking(null, ThinkingLevel.Off, ThinkingLevel.High, Params("""{"thinking":"max"}"""), true));

    [Theory]
    [InlineData("""{"thinking":"x-high"}""", ThinkingLevel.XHigh)]
    [InlineData("""{"thinking":"HIGH"}""", ThinkingLevel.High)]
    [InlineData("""{"thinking":"off"}""", ThinkingLevel.Off)]
    [InlineData("""{"thinking":"banana"}""", ThinkingLevel.Medium)]
    [InlineData("""{"thinking":3}""", ThinkingLevel.Medium)]
    [InlineData("""{"thinking":true}""", ThinkingLevel.Medium)]
    [InlineData("""{"fastMode":true}""", ThinkingLevel.Medium)]
    [InlineData("""{}""", ThinkingLevel.Medium)]
    public void Should_read_thinking_from_model_params_and_ignore_invalid_values(string json, ThinkingLevel expected) =>
        Assert.Equal(expected, EffectiveSettings.Thinking(null, null, null, Params(json), reasoningModel: true));

    // ---- fast ----

    public static TheoryData<bool, bool, bool, bool> FourLayers()
    {
        var data = new TheoryData<bool, bool, bool, bool>();
        for (var mask = 0; mask < 16; mask++) data.Add((mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0, (mask & 8) != 0);
        return data;
    }

    /// <summary>Each layer's value differs from the value of the first present layer below it, so every ordering mistake fails.</summary>
    [Theory]
    [MemberData(nameof(FourLayers))]
    public void Should_resolve_fast_inline_then_session_then_agent_default_then_model_params_then_off(bool hasInline, bool hasSession, bool hasAgent, bool hasParams)
    {
        // Alternate On/Auto down the present layers, starting from the bottom (the default is Off).
        var present = new[] { hasInline, hasSession, hasAgent, hasParams };
        var values = new FastMode?[4];
        var next = FastMode.On;
        for (var i = 3; i >= 0; i--)
        {
            if (!present[i]) continue;
            values[i] = next;
            next = next == FastMode.On ? FastMode.Auto : FastMode.On;
        }
        var prms = values[3] is { } p ? Params($$"""{"fastMode":"{{(p == FastMode.On ? "on" : "auto")}}"}""") : null;
        var expected = values.FirstOrDefault(v => v is not null) ?? FastMode.Off;
        Assert.Equal(expected, EffectiveSettings.Fast(values[0], values[1], values[2], prms));
    }

    [Fact]
    public void Should_keep_an_explicit_fast_off_over_lower_layers()
    {
        Assert.Equal(FastMode.Off, EffectiveSettings.Fast(FastMode.Off, FastMode.On, FastMode.On, Params("""{"fastMode":true}""")));
        Assert.Equal(FastMode.Off, EffectiveSettings.Fast(null, null, FastMode.Off, Params("""{"fastMode":true}""")));
    }

    [Theory]
    [InlineData("""{"fastMode":true}""", FastMode.On)]
    [InlineData("""{"fastMode":false}""", FastMode.Off)]
    [InlineData("""{"fastMode":"auto"}""", FastMode.Auto)]
    [InlineData("""{"fastMode":"on"}""", FastMode.On)]
    [InlineData("""{"fastMode":"OFF"}""", FastMode.Off)]
    [InlineData("""{"fastMode":"true"}""", FastMode.On)]
    [InlineData("""{"fastMode":"false"}""", FastMode.Off)]
    [InlineData("""{"fastMode":"turbo"}""", null)]
    [InlineData("""{"fastMode":1}""", null)]
    [InlineData("""{"fastMode":null}""", null)]
    [InlineData("""{"fastMode":{"on":true}}""", null)]
    [InlineData("""{}""", null)]
    public void Should_read_fast_mode_from_model_params(string json, FastMode? expected) =>
        Assert.Equal(expected, EffectiveSettings.FastFromParams(Params(json)));

    [Fact]
    public void Should_read_fast_mode_from_params_built_in_code()
    {
        Assert.Equal(FastMode.On, EffectiveSettings.FastFromParams(new JsonObject { ["fastMode"] = JsonValue.Create(true) }));
        Assert.Equal(FastMode.Auto, EffectiveSettings.FastFromParams(new JsonObject { ["fastMode"] = JsonValue.Create("auto") }));
        Assert.Null(EffectiveSettings.FastFromParams(null));
        Assert.Null(EffectiveSettings.ThinkingFromParams(null));
    }

    [Fact]
    public void Should_default_fast_to_off() => Assert.Equal(FastMode.Off, EffectiveSettings.Fast(null, null, null, null));

    // ---- usage ----

    public static TheoryData<bool, bool, bool> ThreeLayers()
    {
        var data = new TheoryData<bool, bool, bool>();
        for (var mask = 0; mask < 8; mask++) data.Add((mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(ThreeLayers))]
    public void Should_resolve_response_usage_inline_then_session_then_agent_default_then_off(bool hasInline, bool hasSession, bool hasAgent)
    {
        var present = new[] { hasInline, hasSession, hasAgent };
        var values = new ResponseUsageMode?[3];
        var next = ResponseUsageMode.Tokens;
        for (var i = 2; i >= 0; i--)
        {
            if (!present[i]) continue;
            values[i] = next;
            next = next == ResponseUsageMode.Tokens ? ResponseUsageMode.Full : ResponseUsageMode.Tokens;
        }
        var expected = values.FirstOrDefault(v => v is not null) ?? ResponseUsageMode.Off;
        Assert.Equal(expected, EffectiveSettings.ResponseUsage(values[0], values[1], values[2]));
    }

    [Fact]
    public void Should_keep_an_explicit_usage_off_distinct_from_unset() =>
        Assert.Equal(ResponseUsageMode.Off, EffectiveSettings.ResponseUsage(null, ResponseUsageMode.Off, ResponseUsageMode.Full));

    // ---- queue ----

    [Theory]
    [MemberData(nameof(ThreeLayers))]
    public void Should_resolve_queue_inline_then_session_then_agent_default_then_followup(bool hasInline, bool hasSession, bool hasAgent)
    {
        var present = new[] { hasInline, hasSession, hasAgent };
        var values = new QueueMode?[3];
        var next = QueueMode.Collect;
        for (var i = 2; i >= 0; i--)
        {
            if (!present[i]) continue;
            values[i] = next;
            next = next == QueueMode.Collect ? QueueMode.Interrupt : QueueMode.Collect;
        }
        var expected = values.FirstOrDefault(v => v is not null) ?? QueueMode.Followup;
        Assert.Equal(expected, EffectiveSettings.Queue(values[0], values[1], values[2]));
    }

    [Fact]
    public void Should_keep_an_explicit_followup_over_lower_layers() =>
        Assert.Equal(QueueMode.Followup, EffectiveSettings.Queue(null, QueueMode.Followup, QueueMode.Interrupt));

    // ---- upstream mapping ----

    [Theory]
    [InlineData(ThinkingLevel.Off, null)]
    [InlineData(ThinkingLevel.Minimal, "minimal")]
    [InlineData(ThinkingLevel.Low, "low")]
    [InlineData(ThinkingLevel.Medium, "medium")]
    [InlineData(ThinkingLevel.Adaptive, "medium")]
    [InlineData(ThinkingLevel.High, "high")]
    [InlineData(ThinkingLevel.XHigh, "xhigh")]
    [InlineData(ThinkingLevel.Max, "xhigh")]
    [InlineData(ThinkingLevel.Ultra, "xhigh")]
    public void Should_map_thinking_to_openai_reasoning_effort(ThinkingLevel level, string? effort) =>
        Assert.Equal(effort, EffectiveSettings.ToReasoningEffort(level));

    [Theory]
    [InlineData(ThinkingLevel.Off, null)]
    [InlineData(ThinkingLevel.Minimal, 1024)]
    [InlineData(ThinkingLevel.Low, 2048)]
    [InlineData(ThinkingLevel.Medium, 8192)]
    [InlineData(ThinkingLevel.Adaptive, 8192)]
    [InlineData(ThinkingLevel.High, 16384)]
    [InlineData(ThinkingLevel.XHigh, 24576)]
    [InlineData(ThinkingLevel.Max, 32000)]
    [InlineData(ThinkingLevel.Ultra, 64000)]
    public void Should_map_thinking_to_anthropic_budget_tokens(ThinkingLevel level, int? budget) =>
        Assert.Equal(budget, EffectiveSettings.ToAnthropicBudgetTokens(level));

    [Fact]
    public void Should_map_every_thinking_level_without_throwing_and_grow_budgets_monotonically()
    {
        var ordered = new[] { ThinkingLevel.Minimal, ThinkingLevel.Low, ThinkingLevel.Medium, ThinkingLevel.High, ThinkingLevel.XHigh, ThinkingLevel.Max, ThinkingLevel.Ultra };
        var budgets = ordered.Select(l => EffectiveSettings.ToAnthropicBudgetTokens(l)!.Value).ToArray();
        Assert.Equal(budgets.OrderBy(b => b), budgets);
        Assert.All(Enum.GetValues<ThinkingLevel>(), l => EffectiveSettings.ToReasoningEffort(l));
        Assert.Throws<ArgumentOutOfRangeException>(() => EffectiveSettings.ToReasoningEffort((ThinkingLevel)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => EffectiveSettings.ToAnthropicBudgetTokens((ThinkingLevel)42));
    }

    [Theory]
    [InlineData(FastMode.On, 0, true)]
    [InlineData(FastMode.On, 3600_000, true)]
    [InlineData(FastMode.Off, 0, false)]
    [InlineData(FastMode.Off, 3600_000, false)]
    [InlineData(FastMode.Auto, 0, true)]
    [InlineData(FastMode.Auto, 59_999, true)]
    [InlineData(FastMode.Auto, 60_000, false)]
    [InlineData(FastMode.Auto, 90_000, false)]
    public void Should_turn_fast_on_for_auto_only_within_the_first_minute(FastMode mode, int elapsedMs, bool expected)
    {
        var elapsed = TimeSpan.FromMilliseconds(elapsedMs);
        Assert.Equal(expected, EffectiveSettings.ToFastFlag(mode, elapsed, TimeSpan.FromSeconds(60)));
        Assert.Equal(expected, EffectiveSettings.ToFastFlag(mode, elapsed));
    }

    [Theory]
    [InlineData(9_999, true)]
    [InlineData(10_000, false)]
    public void Should_honour_a_custom_fast_auto_window(int elapsedMs, bool expected) =>
        Assert.Equal(expected, EffectiveSettings.ToFastFlag(FastMode.Auto, TimeSpan.FromMilliseconds(elapsedMs), TimeSpan.FromSeconds(10)));

    [Fact]
    public void Should_never_turn_auto_fast_on_with_a_zero_window() =>
        Assert.Equal(false, EffectiveSettings.ToFastFlag(FastMode.Auto, TimeSpan.Zero, TimeSpan.Zero));

    [Theory]
    [InlineData("""{}""", 60_000)]
    [InlineData("""{"fastAutoOnSeconds":30}""", 30_000)]
    [InlineData("""{"fastAutoOnSeconds":1.5}""", 1_500)]
    [InlineData("""{"fastAutoOnSeconds":0}""", 0)]
    [InlineData("""{"fastAutoOnSeconds":-1}""", 60_000)]
    [InlineData("""{"fastAutoOnSeconds":"30"}""", 60_000)]
    public void Should_read_the_fast_auto_window_from_model_params(string json, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), EffectiveSettings.FastAutoOnFor(Params(json)));

    [Fact]
    public void Should_read_the_fast_auto_window_from_params_built_in_code()
    {
        Assert.Equal(TimeSpan.FromSeconds(45), EffectiveSettings.FastAutoOnFor(new JsonObject { ["fastAutoOnSeconds"] = JsonValue.Create(45L) }));
        Assert.Equal(TimeSpan.FromSeconds(60), EffectiveSettings.FastAutoOnFor(null));
        Assert.Equal(TimeSpan.FromSeconds(60), EffectiveSettings.DefaultFastAutoOnFor);
    }

    // ---- /fast auto as a window the run checks per call ----

    private static (ResolvedModel Target, AgentDefaults Agents) FastTarget(string prms)
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText($$"""
            models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "m" }] } } }
            agents { defaults { models { "mine/m" { params { {{prms}} } } } } }
            """));
        return (new ModelResolver(new ProviderCatalog(settings), settings.Agents).Resolve("mine/m").Model!, settings.Agents);
    }

    [Fact]
    public void Should_give_fast_auto_a_window_from_the_run_start_and_the_model_fast_auto_on_seconds()
    {
        var start = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        var request = new ChatRequest { Messages = [new ChatMessage("user", "hi")] };
        var (target, agents) = FastTarget("fastAutoOnSeconds = 5");
        var auto = new SessionOverrides { Fast = FastMode.Auto };

        var applied = EffectiveSettings.ApplyTo(request, SessionOverrides.None, auto, agents, target, start);
        Assert.True(applied.FastMode);
        Assert.Equal(start + TimeSpan.FromSeconds(5), applied.FastUntil);
        Assert.Null(request.FastMode); // a copy: the request given is left as it was
        // Applied to what it produced, nothing changes: the same request back, not a copy (issue 17).
        Assert.Same(applied, EffectiveSettings.ApplyTo(applied, SessionOverrides.None, auto, agents, target, start));

        // on and off hold for every call: no window.
        var on = EffectiveSettings.ApplyTo(request, SessionOverrides.None, new SessionOverrides { Fast = FastMode.On }, agents, target, start);
        Assert.Equal((true, (DateTimeOffset?)null), (on.FastMode, on.FastUntil));
        var off = EffectiveSettings.ApplyTo(request, SessionOverrides.None, new SessionOverrides { Fast = FastMode.Off }, agents, target, start);
        Assert.Equal((false, (DateTimeOffset?)null), (off.FastMode, off.FastUntil));

        // The client's own service_tier wins: no fast flag, no window.
        var tiered = EffectiveSettings.ApplyTo(request with { ServiceTier = "flex" }, SessionOverrides.None, auto, agents, target, start);
        Assert.Equal(((bool?)null, (DateTimeOffset?)null), (tiered.FastMode, tiered.FastUntil));

        // The default window is 60 s; a zero window is never fast.
        var (plain, plainAgents) = FastTarget("");
        Assert.Equal(start + TimeSpan.FromSeconds(60), EffectiveSettings.ApplyTo(request, SessionOverrides.None, auto, plainAgents, plain, start).FastUntil);
        var (zero, zeroAgents) = FastTarget("fastAutoOnSeconds = 0");
        Assert.False(EffectiveSettings.ApplyTo(request, SessionOverrides.None, auto, zeroAgents, zero, start).FastMode);
    }
}
