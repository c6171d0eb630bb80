using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>
/// The Messages fields the Anthropic SDK no longer types (sampling) and the details of the answer, sent as raw JSON: what each
/// upstream wire receives for them, and the answer's stop sequence and cache usage as Anthropic reports them.
/// </summary>
public sealed class MessagesTranslationSpecs
{
    private const string Body = """
        {"model":"MODEL","max_tokens":300,"temperature":0.5,"top_p":0.9,"top_k":7,"metadata":{"user_id":"user-42"},
         "stop_sequences":["HALT"],"service_tier":"auto",
         "tools":[{"name":"lookup","description":"Look it up","input_schema":{"type":"object","properties":{"q":{"type":"string"}}},
                   "cache_control":{"type":"ephemeral"}}],
         "tool_choice":{"type":"any","disable_parallel_tool_use":true},
         "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],
         "messages":[{"role":"user","content":[{"type":"text","text":"look up durar","cache_control":{"type":"ephemeral"}}]},
                     {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"durar"}}]},
                     {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"lookup failed: timeout","is_error":true}]}]}
        """;

    private static async Task<(HttpResponseMessage Response, JsonElement Answer)> PostAsync(GatewayHarness gw, string model)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent(Body.Replace("MODEL", model), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await gw.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Should_translate_sampling_tools_and_metadata_for_an_OpenAI_compatible_upstream()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var (response, _) = await PostAsync(gw, "fakeoai/gpt-fake");

        var sent = gw.Fake.Requests.Single().Json.RootElement;
        Assert.Equal(0.5, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, sent.GetProperty("top_p").GetDouble());
        Assert.Equal(7, sent.GetProperty("top_k").GetInt32());
        Assert.Equal(300, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("user-42", sent.GetProperty("user").GetString());
        Assert.Equal("HALT", sent.GetProperty("stop")[0].GetString());
        Assert.Equal("required", sent.GetProperty("tool_choice").GetString());
        Assert.False(sent.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal("lookup", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("object", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("parameters").GetProperty("type").GetString());
        Assert.Equal("You are terse.", sent.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
        // The breakpoints have nothing to mark on this wire: named, not silently lost (service_tier: a proxy takes none).
        var dropped = response.Headers.GetValues("x-durar-dropped").Single().Split(',');
        Assert.Contains("cache_control", dropped);
        Assert.Contains("service_tier", dropped);
        Assert.Contains("is_error", dropped);
        Assert.Equal("lookup failed: timeout", sent.GetProperty("messages")[3].GetProperty("content").GetString());
        Assert.Equal("toolu_1", sent.GetProperty("messages")[3].GetProperty("tool_call_id").GetString());
        Assert.False(sent.TryGetProperty("service_tier", out _));
        Assert.False(sent.GetProperty("messages")[1].GetProperty("content")[0].TryGetProperty("cache_control", out _));
    }

    [Fact]
    public async Task Should_send_the_request_as_written_to_an_Anthropic_upstream_and_report_stop_sequence_and_cache_usage()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse
        {
            Text = "durar is a gateway", FinishReason = "stop_sequence", StopSequence = "HALT", CacheReadTokens = 40, CacheWriteTokens = 9,
            PromptTokens = 11, CompletionTokens = 5,
        };

        var (_, answer) = await PostAsync(gw, "fakeant/claude-fake");

        var sent = gw.Fake.Requests.Single().Json.RootElement;
        Assert.Equal(0.5, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(7, sent.GetProperty("top_k").GetInt32());
        Assert.Equal("user-42", sent.GetProperty("metadata").GetProperty("user_id").GetString());
        Assert.Equal("any", sent.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(sent.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());
        Assert.Equal("ephemeral", sent.GetProperty("tools")[0].GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal("ephemeral", sent.GetProperty("system")[0].GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal("ephemeral", sent.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("cache_control").GetProperty("type").GetString());
        var result = sent.GetProperty("messages")[2].GetProperty("content")[0];
        Assert.Equal("tool_result", result.GetProperty("type").GetString());
        Assert.True(result.GetProperty("is_error").GetBoolean());

        Assert.Equal("stop_sequence", answer.GetProperty("stop_reason").GetString());
        Assert.Equal("HALT", answer.GetProperty("stop_sequence").GetString());
        var usage = answer.GetProperty("usage");
        Assert.Equal(11, usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(40, usage.GetProperty("cache_read_input_tokens").GetInt64());
        Assert.Equal(9, usage.GetProperty("cache_creation_input_tokens").GetInt64());
        Assert.Equal(5, usage.GetProperty("output_tokens").GetInt64());
    }
}
