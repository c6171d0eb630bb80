using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Gateway.Fidelity;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// What the <c>openai-responses</c> wire does beyond the conformance suite: the chat-completions request as Responses
/// input items, flat function tools, <c>text.format</c> and <c>reasoning</c>; the native-only fields kept for
/// <c>api.openai.com</c> and reported dropped elsewhere; refusals naming the field; cached and reasoning tokens from
/// <c>response.completed</c>; a <c>response.failed</c> rate limit moving to the next key.
/// </summary>
public sealed class ResponsesWireSpecs
{
    private const string Providers = """
        models {
          providers {
            native { baseUrl = "{fake-openai-native}", api = "openai-responses", models = [{ id = "gpt-r", reasoning = true }] }
            proxy { baseUrl = "{fake-openai}", api = "openai-responses", models = [{ id = "gpt-p", reasoning = true }] }
          }
        }
        env { NATIVE_API_KEYS = "sk-n-1,sk-n-2", PROXY_API_KEYS = "sk-p-1,sk-p-2" }
        agents { defaults { model { primary = "proxy/gpt-p" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    [Fact]
    public async Task Should_send_messages_tools_format_and_effort_as_responses_input_items()
    {
        await using var gw = await GatewayHarness.StartAsync(Providers);
        gw.Fake.Enqueue(FakeResponse.Ok("{}"));

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"proxy/gpt-p","max_completion_tokens":100,"reasoning_effort":"medium","parallel_tool_calls":false,
             "messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"weather?"},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"c\":\"Oslo\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"cold"}],
             "tools":[{"type":"function","function":{"name":"w","description":"weather","parameters":{"type":"object"},"strict":true}}],
             "tool_choice":{"type":"function","function":{"name":"w"}},
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}}}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1/responses", upstream.Path);
        JsonDiff.AssertEqual("""
            {"model":"gpt-p","input":[{"role":"system","content":"Be terse."},{"role":"user","content":"weather?"},
              {"type":"function_call","call_id":"call_1","name":"w","arguments":"{\"c\":\"Oslo\"}"},
              {"type":"function_call_output","call_id":"call_1","output":"cold"}],
             "max_output_tokens":100,
             "tools":[{"type":"function","name":"w","description":"weather","parameters":{"type":"object"},"strict":true}],
             "tool_choice":{"type":"function","name":"w"},"parallel_tool_calls":false,
             "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":true}},
             "reasoning":{"effort":"medium","summary":"auto"},"stream":false}
            """, upstream.Body);
    }

    [Fact]
    public async Task Should_keep_native_only_fields_for_api_openai_com_and_report_them_dropped_elsewhere()
    {
        await using var gw = await GatewayHarness.StartAsync(Providers);
        gw.Fake.Enqueue(FakeResponse.Ok("a"), FakeResponse.Ok("b"));
        const string Fields = """ "service_tier":"priority","prompt_cache_key":"tenant-1","store":true,"messages":[{"role":"user","content":"hi"}]} """;

        using var native = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """{"model":"native/gpt-r",""" + Fields));
        using var proxy = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """{"model":"proxy/gpt-p",""" + Fields));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (native.StatusCode, proxy.StatusCode));
        var n = gw.Fake.Requests[0].Json.RootElement;
        Assert.Equal(("priority", "tenant-1", true), (n.GetProperty("service_tier").GetString(), n.GetProperty("prompt_cache_key").GetString(), n.GetProperty("store").GetBoolean()));
        var p = gw.Fake.Requests[1].Json.RootElement;
        Assert.False(p.TryGetProperty("service_tier", out _) || p.TryGetProperty("prompt_cache_key", out _) || p.TryGetProperty("store", out _));
        Assert.Equal("service_tier,prompt_cache_key,store", string.Join(",", proxy.Headers.GetValues(Durar.Api.Apis.DurarHeaders.Dropped)));
    }

    [Fact]
    public async Task Should_refuse_a_field_the_responses_api_cannot_carry_with_a_400_naming_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Providers);

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            """{"model":"proxy/gpt-p","stop":["\n"],"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(("stop", "unsupported_parameter"), (error.GetProperty("param").GetString(), error.GetProperty("code").GetString()));
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_report_cached_and_reasoning_tokens_of_response_completed()
    {
        await using var gw = await GatewayHarness.StartAsync(Providers);
        gw.Fake.Enqueue(new FakeResponse { Text = "done", Reasoning = "think", PromptTokens = 10, CacheReadTokens = 30, CompletionTokens = 6 });

        var completion = (await gw.OpenAiChat("proxy/gpt-p").CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal((40, 6), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount));
        Assert.Equal(30, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
    }

    [Fact]
    public async Task Should_move_to_the_next_key_when_the_response_fails_with_a_rate_limit_before_output()
    {
        await using var gw = await GatewayHarness.StartAsync(Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = """
            event: response.created
            data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}

            event: response.failed
            data: {"type":"response.failed","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"failed","error":{"code":"rate_limit_exceeded","message":"Rate limit reached for gpt-p (fake)"},"output":[]}}


            """ }, FakeResponse.Ok("from the next key"));

        var text = new System.Text.StringBuilder();
        await foreach (var update in gw.OpenAiChat("proxy/gpt-p").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);

        Assert.Equal("from the next key", text.ToString());
        Assert.Equal(["sk-p-1", "sk-p-2"], gw.Fake.Requests.Select(r => r.ApiKey));
    }
}
