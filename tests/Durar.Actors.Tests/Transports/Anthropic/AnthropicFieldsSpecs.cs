using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Tests.Transports.Anthropic;

/// <summary>
/// The translation table of the OpenAI request onto the Anthropic wire (<see cref="AnthropicFields"/>,
/// <see cref="AnthropicContentRules"/>, the combinations of <see cref="AnthropicRequestShape"/>): one case per refused field, the
/// values that ask for nothing, and every field of the current OpenAI reference having a row. What a translated row writes is
/// pinned against the fake provider in <see cref="AnthropicRequestWriterSpecs"/>.
/// </summary>
public sealed class AnthropicFieldsSpecs
{
    private static readonly ResolvedModel Native = Target("https://api.anthropic.com");
    private static readonly ResolvedModel Proxy = Target("https://anthropic-proxy.example");

    /// <summary>Every top-level field of the current OpenAI chat-completions request reference.</summary>
    public static readonly TheoryData<string> OpenAiFields = new(
        "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
        "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort", "response_format",
        "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice",
        "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options");

    [Theory]
    [MemberData(nameof(OpenAiFields))]
    public void Should_have_a_row_for_every_field_of_the_openai_reference(string field)
    {
        var row = Assert.Contains(field, (IReadOnlyDictionary<string, FieldRow>)AnthropicFields.Rows);
        Assert.False(string.IsNullOrWhiteSpace(row.Note));
    }

    [Theory]
    [InlineData("n", "2")]
    [InlineData("logprobs", "true")]
    [InlineData("top_logprobs", "3")]
    [InlineData("logit_bias", """{"50256":-100}""")]
    [InlineData("frequency_penalty", "0.5")]
    [InlineData("presence_penalty", "-1")]
    [InlineData("seed", "42")]
    [InlineData("prediction", """{"type":"content","content":"draft"}""")]
    [InlineData("audio", """{"voice":"alloy","format":"wav"}""")]
    [InlineData("modalities", """["text","audio"]""")]
    [InlineData("store", "true")]
    [InlineData("verbosity", "\"low\"")]
    [InlineData("web_search_options", "{}")]
    [InlineData("functions", """[{"name":"f"}]""")]
    [InlineData("function_call", "\"auto\"")]
    [InlineData("service_tier", "\"flex\"")]
    [InlineData("metadata", """{"user_id":"u-1","team":"blue"}""")]
    [InlineData("a_future_field", "1")]
    public void Should_refuse_a_field_with_no_anthropic_counterpart_naming_it_and_the_model(string field, string value)
    {
        var refused = Assert.IsType<UnsupportedField>(AnthropicFields.Unsupported(Body($$"""{"{{field}}":{{value}}}"""), Native));

        Assert.Equal(field, refused.Param);
        Assert.Contains($"`{field}`", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ant/claude-x", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"n":1,"logprobs":false,"top_logprobs":0,"logit_bias":{},"frequency_penalty":0,"presence_penalty":0}""")]
    [InlineData("""{"store":false,"modalities":["text"],"parallel_tool_calls":true,"seed":null,"audio":null}""")]
    [InlineData("""{"stream_options":{"include_usage":true},"fallbacks":["a/b"],"models":["a/b"],"prompt_cache_key":"k"}""")]
    [InlineData("""{"metadata":{"user_id":"u-1"},"safety_identifier":"s","user":"u","top_k":5,"service_tier":"priority"}""")]
    public void Should_accept_fields_it_translates_or_ignores_and_values_that_ask_for_nothing(string body) =>
        Assert.Null(AnthropicFields.Unsupported(Body(body), Native));

    [Fact]
    public void Should_report_ignored_cache_hints_and_a_service_tier_for_another_host_as_dropped()
    {
        var body = Body("""{"prompt_cache_key":"k","service_tier":"flex","stream_options":{"include_usage":true},"user":"u"}""");

        Assert.Null(AnthropicFields.Unsupported(body, Proxy)); // no service tier on other hosts: not sent, not refused
        Assert.Equal<string>(["prompt_cache_key", "service_tier"], AnthropicFields.Dropped(body, Proxy));
        Assert.Equal<string>(["prompt_cache_key"], AnthropicFields.Dropped(body with { Original = Json("""{"prompt_cache_key":"k","service_tier":"auto"}""") }, Native));
    }

    [Fact]
    public void Should_refuse_the_typed_fields_of_a_request_built_without_a_body()
    {
        var request = new ChatRequest { Messages = [new ChatMessage("user", "hi")], Seed = 7 };

        Assert.Equal("seed", AnthropicFields.Unsupported(request, Native)?.Param);
        Assert.Equal("n", AnthropicFields.Unsupported(request with { Seed = null, N = 3 }, Native)?.Param);
        Assert.Null(AnthropicFields.Unsupported(request with { Seed = null, N = 1, Logprobs = false }, Native));
    }

    [Fact]
    public void Should_refuse_an_additional_property_with_no_counterpart()
    {
        var request = new ChatRequest
        {
            Messages = [new ChatMessage("user", "hi")],
            Extra = ImmutableDictionary<string, JsonElement>.Empty.Add("repetition_penalty", Json("1.1")),
        };

        Assert.Equal("repetition_penalty", AnthropicFields.Unsupported(request, Native)?.Param);
    }

    [Theory]
    [InlineData("temperature", 0.2, null, null, null)]
    [InlineData("top_p", null, 0.5, null, null)]
    [InlineData("top_k", null, null, "{\"top_k\":10}", null)]
    [InlineData("tool_choice", null, null, null, "required")]
    public void Should_refuse_what_anthropic_thinking_cannot_run_with_when_the_client_asks_for_reasoning(
        string param, double? temperature, double? topP, string? body, string? toolChoice)
    {
        var request = new ChatRequest
        {
            Messages = [new ChatMessage("user", "hi")],
            ReasoningEffort = "high",
            Temperature = temperature,
            TopP = topP,
            Original = body is null ? null : Json(body),
            ToolChoice = toolChoice is null ? null : Json($"\"{toolChoice}\""),
        };

        var refused = AnthropicFields.Unsupported(request, Native);

        Assert.Equal(param, refused?.Param);
        Assert.Contains("reasoning_effort", refused!.Message, StringComparison.Ordinal);
        // A thinking level from configuration gives way instead (no refusal): the client's explicit values win.
        Assert.Null(AnthropicFields.Unsupported(request with { ReasoningEffort = null, ThinkingBudgetTokens = 8192 }, Native));
    }

    [Fact]
    public void Should_refuse_a_json_schema_named_like_one_of_the_client_tools()
    {
        var request = new ChatRequest
        {
            Messages = [new ChatMessage("user", "hi")],
            Tools = Json("""[{"type":"function","function":{"name":"weather"}}]"""),
            ResponseFormat = Json("""{"type":"json_schema","json_schema":{"name":"weather","schema":{"type":"object"}}}"""),
        };

        Assert.Equal("response_format.json_schema.name", AnthropicFields.Unsupported(request, Native)?.Param);
    }

    [Theory]
    [InlineData("messages[0].content[1]", "input_audio")]
    [InlineData("messages[0].content[1].file.file_id", "file_id")]
    [InlineData("messages[0].content[1].file.file_data", "docx")]
    [InlineData("messages[0].content[1].image_url", "svg")]
    [InlineData("messages[0].content[1].image_url", "ftp")]
    [InlineData("messages[1].content[0]", "system image")]
    [InlineData("messages[0].name", "name")]
    public void Should_refuse_content_anthropic_cannot_read_naming_the_part(string param, string what)
    {
        var text = new ContentPart(ContentPartTypes.Text, "look");
        var part = what switch
        {
            "input_audio" => new ContentPart(ContentPartTypes.InputAudio) { Data = "UklGRg==", Format = "wav" },
            "file_id" => new ContentPart(ContentPartTypes.File) { FileId = "file-abc" },
            "docx" => new ContentPart(ContentPartTypes.File) { Data = "data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,UEs=" },
            "svg" => new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "data:image/svg+xml;base64,PHN2Zz4="),
            "ftp" => new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "ftp://example.com/cat.png"),
            _ => text,
        };
        var user = new ChatMessage("user", null) { Parts = [text, part], Name = what == "name" ? "alice" : null };
        var messages = what == "system image"
            ? ImmutableArray.Create(new ChatMessage("user", "hi"), new ChatMessage("system", null) { Parts = [new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "https://example.com/a.png")] })
            : [user];

        var refused = AnthropicFields.Unsupported(new ChatRequest { Messages = messages }, Native);

        Assert.Equal(param, refused?.Param);
        Assert.Contains(param, refused!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"role":"user","content":"hi","cache_control":{"type":"ephemeral"}}""", "messages[0].cache_control")]
    [InlineData("""{"role":"user","content":[{"type":"text","text":"hi","annotations":[]}]}""", "messages[0].content[0].annotations")]
    [InlineData("""{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x.example/a.png","crop":1}}]}""", "messages[0].content[0].image_url.crop")]
    public void Should_refuse_keys_of_the_client_messages_that_have_no_counterpart(string message, string param)
    {
        var original = Json($$"""{"messages":[{{message}}]}""");
        var part = original.GetProperty("messages")[0].GetProperty("content") is { ValueKind: JsonValueKind.Array } parts
            && parts[0].GetProperty("type").ValueEquals("image_url")
            ? new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "https://x.example/a.png")
            : new ContentPart(ContentPartTypes.Text, "hi");
        ImmutableArray<ChatMessage> messages = [new ChatMessage("user", "hi") { Parts = [part] }];

        var refused = AnthropicFields.Unsupported(new ChatRequest { Messages = messages, OriginalMessages = messages, Original = original }, Native);

        Assert.Equal(param, refused?.Param);
    }

    [Fact]
    public void Should_accept_the_content_it_translates()
    {
        var original = Json("""{"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}},{"type":"image_url","image_url":{"url":"https://x.example/a.png","detail":"high"}}]}]}""");
        ImmutableArray<ChatMessage> messages =
        [
            new ChatMessage("user", null)
            {
                Parts =
                [
                    new ContentPart(ContentPartTypes.Text, "hi"),
                    new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "https://x.example/a.png", Detail: "high"),
                    new ContentPart(ContentPartTypes.File) { Data = "data:application/pdf;base64,JVBERi0=", FileName = "a.pdf" },
                    new ContentPart(ContentPartTypes.File) { Data = "data:text/plain;base64,aGVsbG8=" },
                ],
            },
            new ChatMessage("tool", "42") { ToolCallId = "toolu_1", Name = "calc" },
        ];

        Assert.Null(AnthropicFields.Unsupported(new ChatRequest { Messages = messages }, Native));
        Assert.Null(AnthropicFields.Unsupported(new ChatRequest { Messages = messages[..1], OriginalMessages = messages[..1], Original = original }, Native));
    }

    private static ChatRequest Body(string json) => new() { Messages = [new ChatMessage("user", "hi")], Original = Json(json) };

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static ResolvedModel Target(string baseUrl) => new(
        new ProviderDefinition { Id = "ant", Name = "Ant", Api = ApiKinds.AnthropicMessages, BaseUrl = baseUrl, Auth = "api-key" },
        ModelDefinition.PassThrough("claude-x"), null);
}
