using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// The Responses dialect over an <c>openai-responses</c> upstream: the fields the neutral model has no counterpart for
/// (<c>truncation</c>, <c>prompt_cache_key</c>, <c>prompt_cache_retention</c>, <c>safety_identifier</c>,
/// <c>max_tool_calls</c>, <c>text.verbosity</c>, <c>reasoning.summary</c>) reach it as written, through the same run (keys,
/// failover); a candidate on another wire is skipped naming the field, and a request no candidate can carry is a 400
/// naming it.
/// </summary>
public sealed class ResponsesPassThroughSpecs
{
    private const string Config = """
        models {
          providers {
            rproxy { baseUrl = "{fake-openai}", api = "openai-responses", models = [{ id = "grok-fake", reasoning = true }] }
            rchat { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "gpt-fake" }] }
          }
        }
        env { RPROXY_API_KEYS = "sk-r-a,sk-r-b", RCHAT_API_KEYS = "sk-c-a" }
        agents { defaults { model { primary = "rproxy/grok-fake" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private const string Fields = """
        "truncation":"auto","prompt_cache_key":"conv-42","prompt_cache_retention":"24h","safety_identifier":"user-7","max_tool_calls":3,
        "text":{"verbosity":"low"},"reasoning":{"effort":"high","summary":"detailed"}
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_forward_the_responses_only_fields_as_written_to_an_openai_responses_upstream(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "passed", Reasoning = "thought it over" };

        using var response = await gw.Http.SendAsync(gw.Post("v1/responses",
            $$"""{"model":"rproxy/grok-fake","input":"hi","store":false,"stream":{{(stream ? "true" : "false")}},{{Fields}}}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1/responses", upstream.Path);
        var sent = upstream.Json.RootElement;
        Assert.Equal("auto", sent.GetProperty("truncation").GetString());
        Assert.Equal("conv-42", sent.GetProperty("prompt_cache_key").GetString());
        Assert.Equal("24h", sent.GetProperty("prompt_cache_retention").GetString());
        Assert.Equal("user-7", sent.GetProperty("safety_identifier").GetString());
        Assert.Equal(3, sent.GetProperty("max_tool_calls").GetInt32());
        Assert.Equal("low", sent.GetProperty("text").GetProperty("verbosity").GetString());
        Assert.Equal("high", sent.GetProperty("reasoning").GetProperty("effort").GetString());
        Assert.Equal("detailed", sent.GetProperty("reasoning").GetProperty("summary").GetString());
        Assert.False(response.Headers.Contains("x-durar-dropped"));
        if (stream)
        {
            var events = ResponseEventGrammar.Validate(body);
            Assert.Contains(events, e => e.Type == "response.reasoning_summary_text.delta");
            Assert.Equal("response.completed", events[^1].Type);
        }
        else
        {
            var output = JsonDocument.Parse(body).RootElement.GetProperty("output");
            Assert.Equal("reasoning", output[0].GetProperty("type").GetString());
            Assert.Equal("passed", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task Should_fail_over_between_keys_and_skip_a_candidate_on_another_wire_naming_the_field()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Status = 429, RetryAfter = "30" }); // key a of the Responses upstream
        gw.Fake.Enqueue(FakeResponse.Ok("through key b"));

        // The chat-completions model comes first: it cannot carry `truncation`, so the run goes on to the Responses model.
        using var response = await gw.Http.SendAsync(gw.Post("v1/responses",
            """{"model":"rchat/gpt-fake","fallbacks":["rproxy/grok-fake"],"input":"hi","store":false,"truncation":"auto"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("rproxy/grok-fake", response.Headers.GetValues("x-durar-model").Single());
        Assert.Equal(["/v1/responses", "/v1/responses"], gw.Fake.Requests.Select(r => r.Path));
        Assert.Equal(["sk-r-a", "sk-r-b"], gw.Fake.Requests.Select(r => r.ApiKey));
        Assert.All(gw.Fake.Requests, r => Assert.Equal("auto", r.Json.RootElement.GetProperty("truncation").GetString()));
    }

    [Theory]
    [InlineData("\"truncation\":\"auto\"", "truncation")]
    [InlineData("\"prompt_cache_key\":\"k\"", "prompt_cache_key")]
    [InlineData("\"text\":{\"verbosity\":\"high\"}", "text.verbosity")]
    public async Task Should_refuse_a_responses_only_field_no_candidate_can_carry_with_a_400_naming_it(string field, string param)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        using var response = await gw.Http.SendAsync(gw.Post("v1/responses", $$"""{"model":"rchat/gpt-fake","input":"hi","store":false,{{field}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = ResponsesStateSpecs.Error(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains("openai-responses", error.GetProperty("message").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_carry_the_fields_through_a_stored_turn_and_still_refuse_include()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = FakeResponse.Ok("stored");

        using var response = await gw.Http.SendAsync(gw.Post("v1/responses", $$"""{"model":"rproxy/grok-fake","input":"hi",{{Fields}}}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("conv-42", sent.GetProperty("prompt_cache_key").GetString());
        Assert.Equal("detailed", sent.GetProperty("reasoning").GetProperty("summary").GetString());

        using var include = await gw.Http.SendAsync(gw.Post("v1/responses",
            """{"model":"rproxy/grok-fake","input":"hi","include":["reasoning.encrypted_content"]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, include.StatusCode);
        Assert.Equal("include", ResponsesStateSpecs.Error(await include.Content.ReadAsStringAsync()).GetProperty("param").GetString());
    }
}
