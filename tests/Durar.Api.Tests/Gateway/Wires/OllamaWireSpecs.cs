using System.Net;
using System.Text.Json;
using Durar.Actors.Transports.Ollama;
using Durar.Api.Tests.Gateway.Fidelity;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// What the <c>ollama</c> wire does beyond the conformance suite: the native fields only <c>/api/chat</c> carries
/// (<c>options.num_ctx</c> from the model's context window, <c>keep_alive</c>, <c>think</c>), refusals of what Ollama cannot
/// take, and local discovery of installed models from <c>/api/tags</c> and <c>/api/show</c>.
/// </summary>
public sealed class OllamaWireSpecs
{
    private static string Config(string baseUrl, string extra = "") => $$"""
        models {
          providers {
            local { baseUrl = "{{baseUrl}}", api = "ollama", models = [{ id = "qwen3:8b", contextWindow = 40960, reasoning = true, input = ["text", "image"] }, { id = "gpt-oss:20b", contextWindow = 131072, contextTokens = 65536 }] }
          }
        }
        agents {
          defaults {
            model { primary = "local/qwen3:8b" }
            models { "local/qwen3:8b" { params { keep_alive = "30m" } } }
          }
        }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        {{extra}}
        """;

    [Fact]
    public async Task Should_send_num_ctx_keep_alive_think_and_the_sampling_options_as_ollama_takes_them()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync(Config(fake.OllamaBaseUrl), fake);
        gw.Fake.Enqueue(FakeResponse.Ok("ok"), FakeResponse.Ok("ok"));

        using var first = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"local/qwen3:8b","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"hi"}],
             "max_tokens":64,"temperature":0.2,"top_p":0.9,"top_k":40,"seed":7,"stop":["END"],"reasoning_effort":"high",
             "response_format":{"type":"json_object"}}
            """));
        using var second = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"local/gpt-oss:20b","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","keep_alive":"1h"}
            """));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        var a = gw.Fake.Requests[0].Json.RootElement;
        Assert.Equal("/api/chat", gw.Fake.Requests[0].Path);
        Assert.Equal("qwen3:8b", a.GetProperty("model").GetString());
        Assert.Equal("system", a.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("30m", a.GetProperty("keep_alive").GetString());
        Assert.True(a.GetProperty("think").GetBoolean());
        Assert.Equal("json", a.GetProperty("format").GetString());
        JsonDiff.AssertEqual("""{"num_ctx":40960,"num_predict":64,"temperature":0.2,"top_p":0.9,"top_k":40,"seed":7,"stop":["END"]}""",
            a.GetProperty("options").GetRawText());
        var b = gw.Fake.Requests[1].Json.RootElement;
        Assert.Equal(65536, b.GetProperty("options").GetProperty("num_ctx").GetInt64()); // contextTokens caps the window
        Assert.Equal("low", b.GetProperty("think").GetString()); // gpt-oss takes the level itself
        Assert.Equal("1h", b.GetProperty("keep_alive").GetString()); // the client's own wins
    }

    [Fact]
    public async Task Should_leave_num_ctx_to_ollama_for_a_model_whose_window_nobody_stated()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync(Config(fake.OllamaBaseUrl), fake);
        gw.Fake.Enqueue(FakeResponse.Ok("ok"));

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """{"model":"local/phi4","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("phi4", upstream.GetProperty("model").GetString());
        Assert.False(upstream.GetProperty("options").TryGetProperty("num_ctx", out _)); // not the catalog's 200k default
    }

    [Fact]
    public async Task Should_refuse_what_ollama_cannot_take_with_a_400_naming_it_and_send_nothing()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync(Config(fake.OllamaBaseUrl), fake);

        using var image = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"local/qwen3:8b","messages":[{"role":"user","content":[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
            """));
        using var forced = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"local/qwen3:8b","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required"}
            """));

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (image.StatusCode, forced.StatusCode));
        var error = JsonDocument.Parse(await image.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("messages[0].content[1].image_url", error.GetProperty("param").GetString());
        Assert.Equal("tool_choice", JsonDocument.Parse(await forced.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_list_installed_models_from_api_tags_and_serve_them_with_their_own_context_window()
    {
        var fake = await FakeProvider.StartAsync();
        fake.OllamaModels =
        [
            new FakeOllamaModel("llava:latest", 4096, "completion", "vision"),
            new FakeOllamaModel("deepseek-r1:14b", 65536, "completion", "tools", "thinking"),
        ];
        // Configured without a models list: the operator opted in to discovery.
        await using var gw = await GatewayHarness.StartAsync($$"""
            models { providers { ollama { baseUrl = "{{fake.OllamaBaseUrl}}" } } }
            agents { defaults { model { primary = "ollama/llama3.3" } } }
            """, fake);

        var listed = await Eventually.Until(async () => await gw.Http.GetStringAsync("/v1/models"),
            body => body.Contains("\"ollama/deepseek-r1:14b\"", StringComparison.Ordinal), "the discovered models are listed");
        Assert.Contains("\"ollama/llava\"", listed, StringComparison.Ordinal); // Ollama's implicit :latest left out
        fake.Enqueue(FakeResponse.Ok("hello"), FakeResponse.Ok("hello"));

        var completion = (await gw.OpenAiChat("deepseek-r1:14b").CompleteChatAsync([new UserChatMessage("hi")])).Value; // a bare id resolves
        using var vision = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """{"model":"ollama/llava","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal("hello", completion.Content[0].Text);
        Assert.Equal(HttpStatusCode.OK, vision.StatusCode);
        var upstream = fake.Requests[0].Json.RootElement;
        Assert.Equal("deepseek-r1:14b", upstream.GetProperty("model").GetString());
        Assert.Equal(65536, upstream.GetProperty("options").GetProperty("num_ctx").GetInt64());
        Assert.Equal(4096, fake.Requests[1].Json.RootElement.GetProperty("options").GetProperty("num_ctx").GetInt64());
        Assert.Equal(1, fake.OllamaTagsRequests); // listed on its interval, not at every request
    }

    [Fact]
    public async Task Should_discover_only_for_an_ollama_the_operator_opted_in()
    {
        var fake = await FakeProvider.StartAsync();
        await using (var listed = await GatewayHarness.StartAsync($$"""
            models { providers { ollama { baseUrl = "{{fake.OllamaBaseUrl}}", models = [{ id = "x" }] } } }
            env { OLLAMA_API_KEY = "ollama-local" }
            """, fake))
        {
            Assert.Equal(["ollama"], Discovery(listed).Providers.Select(p => p.Id));
        }

        await using var quiet = await GatewayHarness.StartAsync($$"""
            models { providers { ollama { baseUrl = "{{fake.OllamaBaseUrl}}", models = [{ id = "x" }] } } }
            """);
        Assert.Empty(Discovery(quiet).Providers);
    }

    [Fact]
    public async Task Should_fail_over_to_the_next_key_on_an_ollama_error_line_before_any_output()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync(Config(fake.OllamaBaseUrl, """env { LOCAL_API_KEYS = "k-one,k-two" }"""), fake);
        fake.Enqueue(new FakeResponse { ErrorEventAfterChunks = 0, ErrorMessage = "server busy, please try again. maximum pending requests exceeded" },
            FakeResponse.Ok("second time lucky"));

        var text = new System.Text.StringBuilder();
        await foreach (var update in gw.OpenAiChat("local/qwen3:8b").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);

        Assert.Equal("second time lucky", text.ToString());
        Assert.Equal(["k-one", "k-two"], fake.Requests.Select(r => r.ApiKey));
    }

    private static OllamaDiscovery Discovery(GatewayHarness gw) =>
        gw.Services.GetServices<IHostedService>().OfType<OllamaDiscovery>().Single();
}
