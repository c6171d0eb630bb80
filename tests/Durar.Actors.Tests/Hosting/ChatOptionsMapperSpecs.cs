using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Hosting;
using Microsoft.Extensions.AI;

namespace Durar.Actors.Tests.Hosting;

/// <summary>
/// Every <see cref="ChatOptions"/> field onto the canonical request: carried, translated, or refused with an exception that
/// names it (the in-process client's version of the gateway's "forwarded, translated or 400").
/// </summary>
public sealed class ChatOptionsMapperSpecs
{
    private static readonly ChatMessage[] Hi = [new(ChatRole.User, "hi")];

    private static ChatClientCall Map(ChatOptions? options, bool stream = false) => ChatOptionsMapper.Map(Hi, options, stream, null!);

    private static string Json(JsonElement? e) => e!.Value.GetRawText();

    private static ArgumentException Refused(ChatOptions options) => Assert.ThrowsAny<ArgumentException>(() => Map(options));

    [Fact]
    public void Should_carry_the_sampling_options_with_the_decimals_the_caller_wrote()
    {
        var call = Map(new ChatOptions
        {
            ModelId = "fakeoai/gpt-fake", Temperature = 0.3f, TopP = 0.9f, FrequencyPenalty = 0.1f, PresencePenalty = -0.7f, Seed = 42,
            MaxOutputTokens = 77, StopSequences = ["END", "STOP"], Instructions = "be brief",
        });

        var r = call.Request;
        Assert.Equal("fakeoai/gpt-fake", call.Model);
        Assert.Equal(0.3, r.Temperature);
        Assert.Equal(0.9, r.TopP);
        Assert.Equal(0.1, r.FrequencyPenalty);
        Assert.Equal(-0.7, r.PresencePenalty);
        Assert.Equal(42, r.Seed);
        Assert.Equal(77, r.MaxTokens);
        Assert.Equal(["END", "STOP"], r.Stop.ToArray());
        Assert.Equal(("system", "be brief"), (r.Messages[0].Role, r.Messages[0].Text));
        Assert.Equal(("user", "hi"), (r.Messages[1].Role, r.Messages[1].Text));
        Assert.True(r.IncludeUsage);
        Assert.Null(r.Original);
    }

    [Fact]
    public void Should_default_to_the_configured_chain()
    {
        var call = Map(null, stream: true);
        Assert.Equal("durar", call.Model);
        Assert.Null(call.Fallbacks);
        Assert.True(call.Request.Stream);
    }

    [Fact]
    public void Should_send_top_k_as_a_body_field()
    {
        var r = Map(new ChatOptions { TopK = 40 }).Request;
        Assert.Equal("40", r.Extra["top_k"].GetRawText());
    }

    [Fact]
    public void Should_map_the_response_formats()
    {
        Assert.Equal("""{"type":"text"}""", Json(Map(new ChatOptions { ResponseFormat = ChatResponseFormat.Text }).Request.ResponseFormat));
        Assert.Equal("""{"type":"json_object"}""", Json(Map(new ChatOptions { ResponseFormat = ChatResponseFormat.Json }).Request.ResponseFormat));
        Assert.Null(Map(new ChatOptions()).Request.ResponseFormat);

        var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}}}""").RootElement;
        var format = Map(new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "weather", "The weather.") }).Request.ResponseFormat!.Value;
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var js = format.GetProperty("json_schema");
        Assert.Equal("weather", js.GetProperty("name").GetString());
        Assert.Equal("The weather.", js.GetProperty("description").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(schema.GetRawText()), JsonNode.Parse(js.GetProperty("schema").GetRawText())));
        Assert.False(js.TryGetProperty("strict", out _)); // not asked for: the provider's default
    }

    [Fact]
    public void Should_make_the_schema_strict_as_the_openai_adapter_does_when_asked()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}""").RootElement;
        var r = Map(new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "weather"), AdditionalProperties = new() { ["strict"] = true } }).Request;

        var js = r.ResponseFormat!.Value.GetProperty("json_schema");
        Assert.True(js.GetProperty("strict").GetBoolean());
        Assert.False(js.GetProperty("schema").GetProperty("additionalProperties").GetBoolean());
        Assert.Equal(["city", "days"], js.GetProperty("schema").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(r.Extra.ContainsKey("strict")); // consumed, never a body field
    }

    [Fact]
    public void Should_map_every_tool_mode_only_with_function_tools()
    {
        var weather = AIFunctionFactory.Create((string city) => city, "get_weather", "Weather by city.");
        JsonElement? Choice(ChatToolMode? mode) => Map(new ChatOptions { Tools = [weather], ToolMode = mode }).Request.ToolChoice;

        Assert.Null(Choice(null));
        Assert.Equal("\"auto\"", Json(Choice(ChatToolMode.Auto)));
        Assert.Equal("\"none\"", Json(Choice(ChatToolMode.None)));
        Assert.Equal("\"required\"", Json(Choice(ChatToolMode.RequireAny)));
        Assert.Equal("""{"type":"function","function":{"name":"get_weather"}}""", Json(Choice(ChatToolMode.RequireSpecific("get_weather"))));

        Assert.Contains("\"nope\"", Refused(new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("nope") }).Message);
        Assert.Contains("ChatOptions.ToolMode", Refused(new ChatOptions { ToolMode = ChatToolMode.RequireAny }).Message);
        // Without tools, auto and none already hold and parallel calls are moot: nothing goes upstream for them.
        var plain = Map(new ChatOptions { ToolMode = ChatToolMode.None, AllowMultipleToolCalls = false }).Request;
        Assert.Null(plain.ToolChoice);
        Assert.Null(plain.ParallelToolCalls);
    }

    [Fact]
    public void Should_write_function_tools_with_their_schema_and_strictness()
    {
        var loose = AIFunctionFactory.Create((string city) => city, "get_weather", "Weather by city.");
        var strict = AIFunctionFactory.Create((int n) => n, new AIFunctionFactoryOptions
            { Name = "count", AdditionalProperties = new Dictionary<string, object?> { ["strict"] = true } });
        var r = Map(new ChatOptions { Tools = [loose, strict], AllowMultipleToolCalls = false }).Request;

        var tools = r.Tools!.Value.EnumerateArray().ToList();
        Assert.Equal(2, tools.Count);
        var first = tools[0].GetProperty("function");
        Assert.Equal("function", tools[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", first.GetProperty("name").GetString());
        Assert.Equal("Weather by city.", first.GetProperty("description").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(loose.JsonSchema.GetRawText()), JsonNode.Parse(first.GetProperty("parameters").GetRawText())));
        Assert.False(first.TryGetProperty("strict", out _));
        var second = tools[1].GetProperty("function");
        Assert.True(second.GetProperty("strict").GetBoolean());
        Assert.False(second.GetProperty("parameters").GetProperty("additionalProperties").GetBoolean());
        Assert.False(r.ParallelToolCalls);
    }

    [Fact]
    public void Should_turn_web_search_into_web_search_options_and_refuse_other_hosted_tools()
    {
        Assert.Equal("{}", Map(new ChatOptions { Tools = [new HostedWebSearchTool()] }).Request.Extra["web_search_options"].GetRawText());
        var e = Refused(new ChatOptions { Tools = [new HostedCodeInterpreterTool()] });
        Assert.Contains("ChatOptions.Tools[0] is a HostedCodeInterpreterTool", e.Message);
    }

    [Theory]
    [InlineData(ReasoningEffort.None, "none")]
    [InlineData(ReasoningEffort.Low, "low")]
    [InlineData(ReasoningEffort.Medium, "medium")]
    [InlineData(ReasoningEffort.High, "high")]
    [InlineData(ReasoningEffort.ExtraHigh, "xhigh")]
    public void Should_map_the_reasoning_effort(ReasoningEffort effort, string wire) =>
        Assert.Equal(wire, Map(new ChatOptions { Reasoning = new ReasoningOptions { Effort = effort } }).Request.ReasoningEffort);

    [Fact]
    public void Should_take_efforts_the_enum_lacks_from_additional_properties_and_honour_no_reasoning_output()
    {
        Assert.Equal("minimal", Map(new ChatOptions { AdditionalProperties = new() { ["reasoning_effort"] = "minimal" } }).Request.ReasoningEffort);
        Assert.True(Map(new ChatOptions { Reasoning = new ReasoningOptions { Output = ReasoningOutput.None } }).OmitReasoning);
        Assert.False(Map(new ChatOptions { Reasoning = new ReasoningOptions { Output = ReasoningOutput.Full } }).OmitReasoning);
        Assert.Contains("both set", Refused(new ChatOptions
            { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low }, AdditionalProperties = new() { ["reasoning_effort"] = "high" } }).Message);
        Assert.Contains("reasoning_effort", Refused(new ChatOptions { AdditionalProperties = new() { ["reasoning_effort"] = "max" } }).Message);
    }

    [Fact]
    public void Should_lift_the_typed_body_fields_and_forward_the_rest_as_written()
    {
        var call = Map(new ChatOptions
        {
            AdditionalProperties = new()
            {
                ["user"] = "u-1", ["service_tier"] = "flex", ["n"] = 1, ["logprobs"] = true, ["top_logprobs"] = 3,
                ["metadata"] = new Dictionary<string, string> { ["team"] = "core" },
                ["fallbacks"] = new[] { "fakeant/claude-fake" },
                ["prediction"] = new { type = "content", content = "draft" },
                ["verbosity"] = "low",
                ["logit_bias"] = JsonDocument.Parse("""{"50256":-100}""").RootElement,
            },
        });

        var r = call.Request;
        Assert.Equal("u-1", r.User);
        Assert.Equal("flex", r.ServiceTier);
        Assert.Equal(1, r.N);
        Assert.True(r.Logprobs);
        Assert.Equal(3, r.TopLogprobs);
        Assert.Equal("""{"team":"core"}""", Json(r.Metadata));
        Assert.Equal(["fakeant/claude-fake"], call.Fallbacks);
        Assert.Equal(["logit_bias", "prediction", "verbosity"], r.Extra.Keys.Order());
        Assert.Equal("""{"type":"content","content":"draft"}""", r.Extra["prediction"].GetRawText());
        Assert.Equal("\"low\"", r.Extra["verbosity"].GetRawText());
        Assert.Equal("""{"50256":-100}""", r.Extra["logit_bias"].GetRawText());
    }

    [Theory]
    [InlineData("temperature", "ChatOptions.Temperature")]
    [InlineData("max_completion_tokens", "ChatOptions.MaxOutputTokens")]
    [InlineData("tool_choice", "ChatOptions.ToolMode")]
    [InlineData("response_format", "ChatOptions.ResponseFormat")]
    [InlineData("stream", "GetStreamingResponseAsync")]
    public void Should_refuse_body_fields_that_have_an_option_of_their_own(string key, string option)
    {
        var e = Refused(new ChatOptions { AdditionalProperties = new() { [key] = 1 } });
        Assert.Contains($"AdditionalProperties[\"{key}\"]", e.Message);
        Assert.Contains(option, e.Message);
    }

    [Fact]
    public void Should_refuse_what_the_run_has_no_place_for_by_name()
    {
        Assert.Contains("ChatOptions.ConversationId", Refused(new ChatOptions { ConversationId = "conv-1" }).Message);
        Assert.Contains("ChatOptions.ContinuationToken", Refused(new ChatOptions { ContinuationToken = ResponseContinuationToken.FromBytes(new byte[] { 1 }) }).Message);
        Assert.Contains("ChatOptions.RawRepresentationFactory", Refused(new ChatOptions { RawRepresentationFactory = _ => new object() }).Message);
        Assert.Contains("\"n\"", Refused(new ChatOptions { AdditionalProperties = new() { ["n"] = 2 } }).Message);
        Assert.Contains("\"strict\"", Refused(new ChatOptions { AdditionalProperties = new() { ["strict"] = "yes" } }).Message);
        Assert.Contains("\"fallbacks\"", Refused(new ChatOptions { AdditionalProperties = new() { ["fallbacks"] = 3 } }).Message);
        Assert.Contains("ChatOptions.Temperature", Refused(new ChatOptions { Temperature = 2.5f }).Message);
        Assert.Contains("ChatOptions.TopK", Refused(new ChatOptions { TopK = 0 }).Message);
        Assert.Contains("ChatOptions.StopSequences", Refused(new ChatOptions { StopSequences = ["a", "b", "c", "d", "e"] }).Message);
        // A factory that has nothing to add is fine, and background permission is answered in the foreground.
        Assert.NotNull(Map(new ChatOptions { RawRepresentationFactory = _ => null, AllowBackgroundResponses = true }));
    }
}
