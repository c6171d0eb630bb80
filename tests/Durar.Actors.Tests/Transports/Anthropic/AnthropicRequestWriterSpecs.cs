using System.Buffers;
using System.Text.Json;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Actors.Transports.Anthropic;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports.Anthropic;

/// <summary>
/// What the translated rows of the Anthropic table write (<see cref="AnthropicRequestWriter"/>,
/// <see cref="AnthropicMessageWriter"/>), one spec per row, read back from the body the fake provider received over a real
/// socket; and how a JSON answer comes back (the forced tool's input unwrapped into the answer text).
/// </summary>
public sealed class AnthropicRequestWriterSpecs : IAsyncLifetime
{
    private const string Api = ApiKinds.AnthropicMessages;
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"]}""";
    private UpstreamHarness _h = null!;

    public async Task InitializeAsync() => _h = await UpstreamHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Should_force_one_tool_with_the_client_schema_and_answer_with_its_input_as_json_text()
    {
        _h.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("weather", """{"city":"Paris","celsius":21}""") });

        var answer = await CompleteAsync(Request() with { ResponseFormat = JsonSchemaFormat(strict: true) });

        var body = Sent();
        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("weather", tool.GetProperty("name").GetString());
        Assert.True(JsonElement.DeepEquals(Json(Schema), tool.GetProperty("input_schema")));
        Assert.True(tool.GetProperty("strict").GetBoolean());
        Assert.Equal("""{"type":"tool","name":"weather"}""", body.GetProperty("tool_choice").GetRawText());
        Assert.Equal("""{"city":"Paris","celsius":21}""", answer.Text);
        Assert.Empty(answer.ToolCalls);
        Assert.Equal("stop", answer.FinishReason);
    }

    [Fact]
    public async Task Should_stream_the_forced_tool_input_as_text_deltas_that_finish_with_stop()
    {
        _h.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("weather", """{"city":"Paris","celsius":21}"""), Chunks = 4 });

        var events = await StreamAsync(Request() with { ResponseFormat = JsonSchemaFormat(strict: false) });

        Assert.Equal("""{"city":"Paris","celsius":21}""", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
        Assert.Equal(4, events.OfType<TextDelta>().Count());
        Assert.Empty(events.OfType<ToolCallDelta>());
        Assert.Equal("stop", Assert.Single(events.OfType<Finished>()).Reason);
        Assert.False(Sent().GetProperty("tools")[0].TryGetProperty("strict", out _));
    }

    [Fact]
    public async Task Should_answer_json_mode_through_a_tool_taking_any_object()
    {
        _h.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall(JsonAnswerTool.JsonObjectName, """{"ok":true}""") });

        var answer = await CompleteAsync(Request() with { ResponseFormat = Json("""{"type":"json_object"}""") });

        var tool = Assert.Single(Sent().GetProperty("tools").EnumerateArray());
        Assert.Equal("json_object", tool.GetProperty("name").GetString());
        Assert.Equal("""{"type":"object","additionalProperties":true}""", tool.GetProperty("input_schema").GetRawText());
        Assert.Equal("""{"ok":true}""", answer.Text);
        Assert.Equal("stop", answer.FinishReason);
    }

    [Fact]
    public async Task Should_let_the_client_tools_be_called_instead_of_the_json_answer()
    {
        _h.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("lookup", """{"q":"x"}""") });

        var answer = await CompleteAsync(Request() with { ResponseFormat = JsonSchemaFormat(strict: false), Tools = Tools("lookup") });

        var body = Sent();
        Assert.Equal(["lookup", "weather"], body.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("""{"type":"any"}""", body.GetProperty("tool_choice").GetRawText());
        Assert.Equal("lookup", Assert.Single(answer.ToolCalls).Name);
        Assert.Equal("tool_calls", answer.FinishReason);
    }

    [Fact]
    public async Task Should_offer_the_json_tool_with_an_instruction_when_the_client_also_asks_for_thinking()
    {
        await CompleteAsync(Request() with { ResponseFormat = JsonSchemaFormat(strict: false), ReasoningEffort = "low" });

        var body = Sent();
        Assert.Equal("""{"type":"auto"}""", body.GetProperty("tool_choice").GetRawText());
        Assert.Contains("calling the tool `weather`", body.GetProperty("system").GetString(), StringComparison.Ordinal);
        Assert.Equal(2048, body.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    [Theory]
    [InlineData("minimal", 1024)]
    [InlineData("low", 2048)]
    [InlineData("medium", 8192)]
    [InlineData("high", 16384)]
    [InlineData("xhigh", 24576)]
    public async Task Should_turn_reasoning_effort_into_a_thinking_budget_by_the_session_table(string effort, int budget)
    {
        await CompleteAsync(Request() with { ReasoningEffort = effort, MaxTokens = 1000 });

        var body = Sent();
        Assert.Equal("""{"type":"enabled","budget_tokens":__}""".Replace("__", budget.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            body.GetProperty("thinking").GetRawText());
        Assert.Equal(1000 + budget, body.GetProperty("max_tokens").GetInt32()); // max_tokens must stay above the budget
        Assert.Equal(budget, Durar.Actors.Sessions.EffectiveSettings.ToAnthropicBudgetTokens(Enum.Parse<Durar.Actors.Sessions.ThinkingLevel>(effort, ignoreCase: true)));
    }

    [Fact]
    public async Task Should_send_no_thinking_for_effort_none_even_over_a_session_level()
    {
        await CompleteAsync(Request() with { ReasoningEffort = "none", ThinkingBudgetTokens = 8192, MaxTokens = 500 });

        Assert.False(Sent().TryGetProperty("thinking", out _));
        Assert.Equal(500, Sent().GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task Should_let_a_configured_thinking_level_give_way_to_the_client_temperature()
    {
        await CompleteAsync(Request() with { ThinkingBudgetTokens = 8192, Temperature = 0.3 });

        Assert.False(Sent().TryGetProperty("thinking", out _));
        Assert.Equal(0.3, Sent().GetProperty("temperature").GetDouble());
    }

    [Theory]
    [InlineData("\"none\"", """{"type":"none"}""")]
    [InlineData("\"auto\"", """{"type":"auto"}""")]
    [InlineData("\"required\"", """{"type":"any"}""")]
    [InlineData("""{"type":"function","function":{"name":"lookup"}}""", """{"type":"tool","name":"lookup"}""")]
    public async Task Should_translate_tool_choice(string choice, string expected)
    {
        await CompleteAsync(Request() with { Tools = Tools("lookup"), ToolChoice = Json(choice) });

        Assert.Equal(expected, Sent().GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public async Task Should_disable_parallel_tool_use_when_parallel_tool_calls_is_false()
    {
        await CompleteAsync(Request() with { Tools = Tools("lookup"), ParallelToolCalls = false });

        Assert.Equal("""{"type":"auto","disable_parallel_tool_use":true}""", Sent().GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public async Task Should_send_stop_as_stop_sequences_and_the_user_as_metadata_user_id()
    {
        await CompleteAsync(Request() with { Stop = ["END", "\n\n"], User = "user-7" });

        var body = Sent();
        Assert.Equal(["END", "\n\n"], body.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("""{"user_id":"user-7"}""", body.GetProperty("metadata").GetRawText());
    }

    [Fact]
    public async Task Should_prefer_metadata_user_id_then_safety_identifier_over_user()
    {
        await CompleteAsync(Request() with { User = "u", Original = Json("""{"safety_identifier":"safe-1"}""") });
        await CompleteAsync(Request() with { User = "u", Metadata = Json("""{"user_id":"meta-1"}""") });

        Assert.Equal("safe-1", _h.Fake.Requests[0].Json.RootElement.GetProperty("metadata").GetProperty("user_id").GetString());
        Assert.Equal("meta-1", _h.Fake.Requests[1].Json.RootElement.GetProperty("metadata").GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task Should_cap_temperature_at_one_and_pass_top_p_and_top_k()
    {
        await CompleteAsync(Request() with { Temperature = 1.5, TopP = 0.9, Original = Json("""{"top_k":40}""") });

        var body = Sent();
        Assert.Equal(1.0, body.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble());
        Assert.Equal(40, body.GetProperty("top_k").GetInt32());
    }

    [Theory]
    [InlineData("auto", null, "auto")]
    [InlineData("priority", null, "auto")]
    [InlineData("default", null, "standard_only")]
    [InlineData(null, true, "auto")]
    [InlineData(null, false, "standard_only")]
    public void Should_send_a_service_tier_to_anthropic_itself(string? tier, bool? fast, string expected)
    {
        var native = Written(Request() with { ServiceTier = tier, FastMode = fast }, "https://api.anthropic.com");
        var proxy = Written(Request() with { ServiceTier = tier, FastMode = fast }, "https://proxy.example");

        Assert.Equal(expected, native.GetProperty("service_tier").GetString());
        Assert.False(proxy.TryGetProperty("service_tier", out _));
    }

    [Fact]
    public async Task Should_refuse_to_write_a_request_with_a_field_it_cannot_carry_instead_of_dropping_it()
    {
        var e = await Assert.ThrowsAsync<UpstreamException>(() => CompleteAsync(Request() with { N = 2 }));

        Assert.Equal("n", e.Failure.Param);
        Assert.Equal(UnsupportedField.Code, e.Failure.Code);
        Assert.Equal(0, _h.Fake.RequestCount);
    }

    private static ChatRequest Request() => new() { Messages = [new ChatMessage("user", "weather in Paris?")] };

    private static JsonElement JsonSchemaFormat(bool strict) =>
        Json($$$"""{"type":"json_schema","json_schema":{"name":"weather","schema":{{{Schema}}},"strict":{{{(strict ? "true" : "false")}}}}}""");

    private static JsonElement Tools(string name) => Json("""[{"type":"function","function":{"name":"NAME","parameters":{"type":"object"}}}]""".Replace("NAME", name));

    private async Task<ChatCompletion> CompleteAsync(ChatRequest request)
    {
        var call = _h.Call(Api, stream: false);
        return await _h.Transport(Api).CompleteAsync(call with { Request = request }, default);
    }

    private async Task<List<ChatEvent>> StreamAsync(ChatRequest request)
    {
        var call = _h.Call(Api, stream: true);
        var (events, failure) = await UpstreamHarness.DrainAsync(_h.Transport(Api).StreamAsync(call with { Request = request with { Stream = true } }, default));
        Assert.Null(failure);
        return events;
    }

    private JsonElement Sent() => _h.Fake.Requests[^1].Json.RootElement;

    /// <summary>The body written for a target at <paramref name="baseUrl"/>, without sending it (for hosts the fake cannot be).</summary>
    private static JsonElement Written(ChatRequest request, string baseUrl)
    {
        var provider = new ProviderDefinition { Id = "ant", Name = "Ant", Api = Api, BaseUrl = baseUrl, Auth = "api-key" };
        var call = new UpstreamCall(new ResolvedModel(provider, ModelDefinition.PassThrough("claude-x"), null), "k", request, TimeSpan.FromSeconds(5));
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) AnthropicRequestWriter.Write(w, call, stream: false);
        return Json(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
