using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Hosting;
using Durar.Actors.Routing;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>
/// What the embedded IChatClient sends upstream for the options a Microsoft.Extensions.AI caller sets: each one on the
/// OpenAI wire as the gateway would send the same OpenAI field, dropped only by a documented compat rule (and then named in
/// the answer), or refused before anything leaves the process.
/// </summary>
public sealed class DurarChatClientWireSpecs
{
    /// <summary>The typed answer of the structured-output specs.</summary>
    public sealed record Forecast(string City, int TemperatureC, string[] Conditions);

    private static JsonElement Body(GatewayHarness gw) => Assert.Single(gw.Fake.Requests).Json.RootElement;

    [Fact]
    public async Task Should_return_a_typed_object_for_structured_output_sending_the_schema_it_generates()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(FakeResponse.Ok("""{"city":"Paris","temperatureC":21,"conditions":["sunny","dry"]}"""));
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync<Forecast>("Weather in Paris?", new ChatOptions { ModelId = "fakeoai/gpt-fake" });

        Assert.Equal(("Paris", 21), (response.Result.City, response.Result.TemperatureC));
        Assert.Equal(["sunny", "dry"], response.Result.Conditions);
        var expected = ChatResponseFormat.ForJsonSchema<Forecast>(AIJsonUtilities.DefaultOptions);
        var format = Body(gw).GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var schema = format.GetProperty("json_schema");
        Assert.Equal(expected.SchemaName, schema.GetProperty("name").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.Schema!.Value.GetRawText()), JsonNode.Parse(schema.GetProperty("schema").GetRawText())));
        Assert.False(schema.TryGetProperty("strict", out _));
    }

    [Fact]
    public async Task Should_send_a_strict_schema_when_asked_as_the_openai_adapter_is_asked()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(FakeResponse.Ok("""{"city":"Oslo","temperatureC":-3,"conditions":[]}"""));
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync<Forecast>("Weather in Oslo?",
            new ChatOptions { ModelId = "fakeoai/gpt-fake", AdditionalProperties = new() { ["strict"] = true } });

        Assert.Equal(-3, response.Result.TemperatureC);
        var body = Body(gw);
        var schema = body.GetProperty("response_format").GetProperty("json_schema");
        Assert.True(schema.GetProperty("strict").GetBoolean());
        Assert.False(schema.GetProperty("schema").GetProperty("additionalProperties").GetBoolean());
        Assert.False(body.TryGetProperty("strict", out _));
    }

    [Fact]
    public async Task Should_send_every_option_as_its_openai_field()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var client = gw.Services.GetRequiredService<IChatClient>();
        var weather = AIFunctionFactory.Create((string city) => city, "get_weather", "Weather by city.");

        var response = await client.GetResponseAsync("hi", new ChatOptions
        {
            ModelId = "fakeoai/gpt-fake", Instructions = "Answer briefly.", Temperature = 0.3f, TopP = 0.9f, TopK = 40, FrequencyPenalty = 0.5f,
            PresencePenalty = -0.25f, Seed = 7, StopSequences = ["END"], MaxOutputTokens = 99, ResponseFormat = ChatResponseFormat.Json,
            Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), AllowMultipleToolCalls = false,
            AdditionalProperties = new()
            {
                ["user"] = "user-1", ["metadata"] = new Dictionary<string, string> { ["team"] = "core" }, ["logprobs"] = true, ["top_logprobs"] = 2,
                ["prediction"] = new { type = "content", content = "draft" }, ["verbosity"] = "low", ["store"] = true,
            },
        });

        var body = Body(gw);
        string Raw(string name) => body.GetProperty(name).GetRawText();
        Assert.Equal(("0.3", "0.9", "40", "0.5", "-0.25", "7"), (Raw("temperature"), Raw("top_p"), Raw("top_k"), Raw("frequency_penalty"), Raw("presence_penalty"), Raw("seed")));
        Assert.Equal(("""["END"]""", "99", """{"type":"json_object"}"""), (Raw("stop"), Raw("max_tokens"), Raw("response_format")));
        Assert.Equal(("\"user-1\"", """{"team":"core"}""", "true", "2"), (Raw("user"), Raw("metadata"), Raw("logprobs"), Raw("top_logprobs")));
        Assert.Equal(("""{"type":"content","content":"draft"}""", "\"low\""), (Raw("prediction"), Raw("verbosity")));
        Assert.Equal(("""{"type":"function","function":{"name":"get_weather"}}""", "false"), (Raw("tool_choice"), Raw("parallel_tool_calls")));
        Assert.Equal("get_weather", body.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        var first = body.GetProperty("messages")[0];
        Assert.Equal(("system", "Answer briefly."), (first.GetProperty("role").GetString(), first.GetProperty("content").GetString()));
        // A proxy host takes no `store` (the compat rules): it stays home and the answer says so, as x-durar-dropped does.
        Assert.False(body.TryGetProperty("store", out _));
        Assert.Equal(["store"], (string[])response.AdditionalProperties![DurarChatClient.DroppedProperty]!);
    }

    [Fact]
    public async Task Should_send_the_reasoning_effort_to_a_reasoning_model_and_name_it_as_dropped_for_others()
    {
        const string hocon = """
            models { providers { fakeoai { baseUrl = "{fake-openai}", apiKey = "sk-1", api = "openai-completions",
              models = [{ id = "thinker", reasoning = true }, { id = "plain" }] } } }
            agents { defaults { model { primary = "fakeoai/thinker" } } }
            """;
        await using var gw = await GatewayHarness.StartAsync(hocon);
        var client = gw.Services.GetRequiredService<IChatClient>();
        var high = new ChatOptions { ModelId = "fakeoai/thinker", Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High } };

        await client.GetResponseAsync("think", high);
        var plain = await client.GetResponseAsync("think", new ChatOptions { ModelId = "fakeoai/plain", Reasoning = high.Reasoning });

        Assert.Equal("high", gw.Fake.Requests[0].Json.RootElement.GetProperty("reasoning_effort").GetString());
        Assert.False(gw.Fake.Requests[1].Json.RootElement.TryGetProperty("reasoning_effort", out _));
        Assert.Equal(["reasoning_effort"], (string[])plain.AdditionalProperties![DurarChatClient.DroppedProperty]!);
    }

    [Fact]
    public async Task Should_send_images_audio_and_pdfs_as_openai_content_parts()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var client = gw.Services.GetRequiredService<IChatClient>();

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, [
            new TextContent("What is in these?"),
            new DataContent(new byte[] { 1, 2 }, "image/png"),
            new UriContent("https://example.com/cat.jpg", "image/jpeg"),
            new DataContent(new byte[] { 3 }, "audio/wav"),
            new DataContent(new byte[] { 4 }, "application/pdf") { Name = "r.pdf" },
        ])], new ChatOptions { ModelId = "fakeoai/gpt-fake" });

        var content = Body(gw).GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("""{"type":"text","text":"What is in these?"}""", content[0].GetRawText());
        Assert.Equal("""{"type":"image_url","image_url":{"url":"data:image/png;base64,AQI="}}""", content[1].GetRawText());
        Assert.Equal("""{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}""", content[2].GetRawText());
        Assert.Equal("""{"type":"input_audio","input_audio":{"data":"Aw==","format":"wav"}}""", content[3].GetRawText());
        Assert.Equal("""{"type":"file","file":{"file_data":"data:application/pdf;base64,BA==","filename":"r.pdf"}}""", content[4].GetRawText());
    }

    [Fact]
    public async Task Should_refuse_before_anything_leaves_the_process()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var client = gw.Services.GetRequiredService<IChatClient>();
        object? factoryGot = null;

        var conversation = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.GetResponseAsync("x", new ChatOptions { ModelId = "fakeoai/gpt-fake", ConversationId = "c-1" }));
        var factory = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync("x",
            new ChatOptions { ModelId = "fakeoai/gpt-fake", RawRepresentationFactory = c => factoryGot = new { client = c } }));
        var content = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1 }, "video/mp4")])],
                               new ChatOptions { ModelId = "fakeoai/gpt-fake" })) { }
        });
        var model = await Assert.ThrowsAsync<PlanException>(() => client.GetResponseAsync("x", new ChatOptions { ModelId = "nope/none" }));

        Assert.Contains("ChatOptions.ConversationId", conversation.Message);
        Assert.Contains("ChatOptions.RawRepresentationFactory", factory.Message);
        Assert.Same(client, factoryGot!.GetType().GetProperty("client")!.GetValue(factoryGot));
        Assert.Contains("video/mp4", content.Message);
        Assert.Equal(404, model.Status);
        Assert.Empty(gw.Fake.Requests);
    }
}
