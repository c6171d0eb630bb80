using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Gateway.Fidelity;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// Amazon Bedrock's own rules on top of the conformance cases: every request SigV4-signed so that the AWS SDK's signer, run by
/// the fake on what it received, agrees; a Bedrock API key sent as bearer instead; Bedrock's exceptions classified (throttling
/// cools the key as a rate limit, model-not-ready is transient and leaves it ready); Claude's thinking asked for and read
/// back; a broken event-stream frame ends the stream in an error; a field Converse cannot carry refused before any call.
/// </summary>
public sealed class BedrockWireSpecs
{
    private const string Model = "br1/" + WireCase.BedrockModel;

    private static async Task<GatewayHarness> StartAsync(string apiKey = WireCase.BedrockKeyOne + ":" + WireCase.BedrockSecretOne)
    {
        var fake = await FakeProvider.StartAsync();
        fake.BedrockSecrets[WireCase.BedrockKeyOne] = WireCase.BedrockSecretOne;
        return await GatewayHarness.StartAsync($$"""
            models { providers { br1 { baseUrl = "{{fake.AnthropicBaseUrl}}", api = "bedrock-converse-stream", apiKey = "{{apiKey}}", models = [{ id = "{{WireCase.BedrockModel}}", reasoning = true }] } } }
            gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
            """, fake);
    }

    [Fact]
    public async Task Should_sign_every_request_so_that_the_sdk_signer_agrees()
    {
        await using var gw = await StartAsync();
        var chat = gw.OpenAiChat(Model);

        await chat.CompleteChatAsync([new UserChatMessage("whole")]);
        await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("streamed")]))
        {
        }

        var signatures = gw.Fake.BedrockSignatures;
        Assert.Equal(2, signatures.Count);
        Assert.All(signatures, s => Assert.True(s.Valid, s.Problem));
        Assert.All(signatures, s => Assert.Equal((WireCase.BedrockKeyOne, "us-east-1", "bedrock"), (s.AccessKey, s.Region, s.Service)));
        Assert.Equal(["/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse", "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse-stream"],
            gw.Fake.Requests.Select(r => r.Path));
        Assert.All(gw.Fake.Requests, r => Assert.True(r.Headers.ContainsKey("x-amz-date")));
    }

    [Fact]
    public async Task Should_refuse_a_request_signed_with_the_wrong_secret_as_an_auth_failure()
    {
        await using var gw = await StartAsync(WireCase.BedrockKeyOne + ":not-the-secret");

        var reply = await gw.ChatAsync(Model);

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.StartsWith("auth", reply.Response.Headers.GetValues("x-durar-failure-reason").Single());
        Assert.Contains("signature", reply.Body);
        Assert.False(Assert.Single(gw.Fake.BedrockSignatures).Valid);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_send_a_bedrock_api_key_as_bearer_without_signing()
    {
        await using var gw = await StartAsync("ABSKZmFrZS1iZWRyb2NrLWFwaS1rZXk=");

        var completion = (await gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.StartsWith("Hello from fake", completion.Content[0].Text);
        Assert.Equal("ABSKZmFrZS1iZWRyb2NrLWFwaS1rZXk=", Assert.Single(gw.Fake.Requests).ApiKey);
        Assert.Empty(gw.Fake.BedrockSignatures);
    }

    [Fact]
    public async Task Should_cool_the_key_as_rate_limited_on_a_throttling_exception_in_the_stream()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ErrorEventAfterChunks = 0, ErrorType = "throttlingException", ErrorMessage = "Too many tokens, please wait." });

        var reply = await gw.ChatAsync(Model, stream: true);

        Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
        var key = await gw.WaitForOnlyKeyAsync("br1", k => k.GetProperty("state").GetString() == "cooling", "cooling");
        Assert.Equal("rate_limit", key.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Should_retry_a_model_not_ready_answer_as_transient_and_leave_the_key_ready()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(FakeResponse.Error(429, "Model is not ready for inference.", type: "ModelNotReadyException"), FakeResponse.Ok("ready now"));

        var completion = (await gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("ready now", completion.Content[0].Text);
        Assert.Equal(2, gw.Fake.RequestCount);
        Assert.Equal("ready", Assert.Single(await gw.KeysAsync("br1")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Should_ask_claude_for_thinking_and_stream_its_reasoning_apart()
    {
        await using var gw = await StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "Four.", Reasoning = "Two plus two is four." });

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            $$"""{"model":"{{Model}}","stream":true,"reasoning_effort":"low","messages":[{"role":"user","content":"2+2?"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"reasoning_content\":\"Two plus two is four.\"", body);
        Assert.Contains("\"content\":\"Four.\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        var thinking = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("additionalModelRequestFields").GetProperty("thinking");
        Assert.Equal(("enabled", 2048), (thinking.GetProperty("type").GetString(), thinking.GetProperty("budget_tokens").GetInt32()));
    }

    [Fact]
    public async Task Should_end_the_stream_in_an_error_frame_at_a_broken_event_stream_frame()
    {
        await using var gw = await StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "one two three four", MalformedAtChunk = 3 };

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            $$"""{"model":"{{Model}}","stream":true,"messages":[{"role":"user","content":"go"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"content\":\"one\"", body);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("malformed", body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public async Task Should_send_system_inference_config_and_tools_in_converse_shape()
    {
        await using var gw = await StartAsync();

        await gw.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"MODEL","max_tokens":300,"temperature":0.2,"top_p":0.9,"stop":["END"],
             "tools":[{"type":"function","function":{"name":"lookup","description":"find","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"lookup"}},
             "messages":[{"role":"system","content":"be terse"},{"role":"user","content":"a"},{"role":"user","content":"b"}]}
            """.Replace("MODEL", Model)));

        var body = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("be terse", body.GetProperty("system")[0].GetProperty("text").GetString());
        var messages = body.GetProperty("messages");
        Assert.Equal(1, messages.GetArrayLength()); // two user turns merged: Converse requires alternation
        Assert.Equal(2, messages[0].GetProperty("content").GetArrayLength());
        JsonDiff.AssertEqual("""{"maxTokens":300,"temperature":0.2,"topP":0.9,"stopSequences":["END"]}""", body.GetProperty("inferenceConfig").GetRawText());
        var tools = body.GetProperty("toolConfig");
        Assert.Equal("lookup", tools.GetProperty("tools")[0].GetProperty("toolSpec").GetProperty("name").GetString());
        Assert.Equal("string", tools.GetProperty("tools")[0].GetProperty("toolSpec").GetProperty("inputSchema").GetProperty("json")
            .GetProperty("properties").GetProperty("q").GetProperty("type").GetString());
        Assert.Equal("lookup", tools.GetProperty("toolChoice").GetProperty("tool").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Should_refuse_a_field_converse_cannot_carry_before_any_call()
    {
        await using var gw = await StartAsync();

        var reply = await gw.SendAsync(gw.Post("/v1/chat/completions", $$"""{"model":"{{Model}}","n":2,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        using var error = JsonDocument.Parse(reply.Body);
        Assert.Equal(("unsupported_parameter", "n"), (error.RootElement.GetProperty("error").GetProperty("code").GetString(),
            error.RootElement.GetProperty("error").GetProperty("param").GetString()));
        Assert.Equal(0, gw.Fake.RequestCount);
        Assert.Empty(gw.Fake.BedrockSignatures);
    }
}
