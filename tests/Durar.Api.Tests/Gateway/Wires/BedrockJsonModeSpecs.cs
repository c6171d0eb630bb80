using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// <c>response_format</c> on Bedrock: <c>json_schema</c> becomes a forced tool whose input schema is the schema, and the
/// tool's input comes back as the message's text with finish reason <c>stop</c>, whole and streamed; <c>json_object</c> forces
/// the same tool with a permissive object schema; JSON mode together with client tools is refused before any call.
/// </summary>
public sealed class BedrockJsonModeSpecs
{
    private const string Model = "br1/" + AwsWireCase.BedrockModel;
    private const string Answer = """{"city":"Paris","temp":21}""";

    private static async Task<GatewayHarness> StartAsync()
    {
        var fake = await FakeProvider.StartAsync();
        fake.BedrockSecrets[AwsWireCase.BedrockKeyOne] = AwsWireCase.BedrockSecretOne;
        return await GatewayHarness.StartAsync($$"""
            models { providers { br1 { baseUrl = "{{fake.AnthropicBaseUrl}}", api = "bedrock-converse-stream", apiKey = "{{AwsWireCase.BedrockKeyOne}}:{{AwsWireCase.BedrockSecretOne}}", models = [{ id = "{{AwsWireCase.BedrockModel}}" }] } } }
            gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
            """, fake);
    }

    private static string Request(string format, bool stream) => $$"""
        {"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"response_format":{{format}},"messages":[{"role":"user","content":"weather?"}]}
        """;

    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"number"}},"required":["city","temp"]}""";

    [Fact]
    public async Task Should_force_a_tool_with_the_json_schema_and_answer_its_input_as_the_message_text()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("weather", Answer) });

        var reply = await gw.SendAsync(gw.Post("/v1/chat/completions",
            Request("""{"type":"json_schema","json_schema":{"name":"weather","schema":SCHEMA,"strict":true}}""".Replace("SCHEMA", Schema), stream: false)));

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Body);
        var choice = JsonDocument.Parse(reply.Body).RootElement.GetProperty("choices")[0];
        Assert.Equal(Answer, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var tools = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("toolConfig");
        var spec = Assert.Single(tools.GetProperty("tools").EnumerateArray()).GetProperty("toolSpec");
        Assert.Equal("weather", spec.GetProperty("name").GetString());
        Assert.Equal(Schema, spec.GetProperty("inputSchema").GetProperty("json").GetRawText());
        Assert.Equal("weather", tools.GetProperty("toolChoice").GetProperty("tool").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Should_stream_the_forced_tools_input_as_text_deltas_for_json_object()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("json_response", Answer) });

        var reply = await gw.SendAsync(gw.Post("/v1/chat/completions", Request("""{"type":"json_object"}""", stream: true)));

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Body);
        var text = new StringBuilder();
        string? finish = null;
        var toolCalls = 0;
        foreach (var line in reply.Body.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)))
        {
            var choices = JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("choices");
            if (choices.GetArrayLength() == 0) continue;
            var delta = choices[0].GetProperty("delta");
            if (delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) text.Append(c.GetString());
            if (delta.TryGetProperty("tool_calls", out _)) toolCalls++;
            if (choices[0].TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
        }
        Assert.Equal((Answer, "stop", 0), (text.ToString(), finish, toolCalls));
        Assert.Contains("data: [DONE]", reply.Body);
        var spec = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("toolConfig").GetProperty("tools")[0].GetProperty("toolSpec");
        Assert.Equal(("json_response", """{"type":"object"}"""), (spec.GetProperty("name").GetString(), spec.GetProperty("inputSchema").GetProperty("json").GetRawText()));
    }

    [Fact]
    public async Task Should_refuse_json_mode_together_with_client_tools_before_any_call()
    {
        await using var gw = await StartAsync();

        var reply = await gw.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"MODEL","response_format":{"type":"json_object"},
             "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],
             "messages":[{"role":"user","content":"hi"}]}
            """.Replace("MODEL", Model)));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        var error = JsonDocument.Parse(reply.Body).RootElement.GetProperty("error");
        Assert.Equal(("unsupported_parameter", "response_format"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Contains("together with tools", error.GetProperty("message").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }
}
