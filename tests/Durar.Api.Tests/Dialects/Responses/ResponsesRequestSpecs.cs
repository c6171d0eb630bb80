using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// What <c>POST /v1/responses</c> refuses, always before any upstream call and in OpenAI's error shape with the field named
/// in <c>param</c>: unknown fields, hosted tools, unsupported items and parts, bad values; and the run's own errors
/// (unknown model, an upstream that fails on every key) with the status chat completions answers.
/// </summary>
public sealed class ResponsesRequestSpecs
{
    [Theory]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","frequency_penalty":1}""", 400, "unknown_parameter", "frequency_penalty")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","tools":[{"type":"web_search"}]}""", 400, "unsupported_parameter", "tools[0].type")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":[{"type":"item_reference","id":"msg_1"}]}""", 400, "unsupported_parameter", "input[0].type")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":[{"role":"user","content":[{"type":"input_audio","data":"x"}]}]}""", 400, "unsupported_parameter", "input[0].content[0].type")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","text":{"verbosity":"low"}}""", 400, "unsupported_parameter", "text.verbosity")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","truncation":"auto"}""", 400, "unsupported_parameter", "truncation")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","reasoning":{"effort":"huge"}}""", 400, "invalid_value", "reasoning.effort")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","temperature":3}""", 400, "invalid_value", "temperature")]
    [InlineData("""{"model":"rspoai/gpt-fake"}""", 400, "missing_required_parameter", "input")]
    [InlineData("""{"input":"x"}""", 400, "missing_required_parameter", "model")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","store":false,"previous_response_id":"resp_1"}""", 400, "invalid_value", "store")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","previous_response_id":"resp_nope"}""", 404, "previous_response_not_found", "previous_response_id")]
    [InlineData("""{"model":"nobody/none","input":"x"}""", 404, "model_not_found", "model")]
    [InlineData("""{"model":"rspoai/gpt-fake","input":"x","fallbacks":["rspant/claude-fake"]}""", 400, "unsupported_parameter", "fallbacks")]
    public async Task Should_refuse_what_it_cannot_honour_naming_the_field(string body, int status, string code, string param)
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);

        using var response = await gw.Http.PostAsync("v1/responses", ResponsesStateSpecs.Json(body));

        Assert.Equal(status, (int)response.StatusCode);
        var error = ResponsesStateSpecs.Error(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_answer_an_upstream_failure_on_every_key_with_chat_completions_status(bool store)
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.RateLimited("30");

        using var response = await gw.Http.PostAsync("v1/responses", ResponsesStateSpecs.Json(
            $$"""{"model":"rspoai/gpt-fake","input":"x","store":{{(store ? "true" : "false")}},"stream":true}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = ResponsesStateSpecs.Error(await response.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal(2, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_stream_a_raw_response_in_openai_event_names_and_shapes()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = new FakeResponse { Text = "hi there", PromptTokens = 2, CompletionTokens = 2 };

        using var response = await gw.Http.PostAsync("v1/responses", ResponsesStateSpecs.Json(
            """{"model":"rspoai/gpt-fake","input":"hello","stream":true,"metadata":{"trace":"t-1"},"store":false}"""));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ResponseEventGrammar.Validate(await response.Content.ReadAsStringAsync());
        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed",
        ], events.Select(e => e.Type));
        var created = events[0].Data.GetProperty("response");
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);
        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal(created.GetProperty("id").GetString(), completed.GetProperty("id").GetString());
        Assert.Equal("t-1", completed.GetProperty("metadata").GetProperty("trace").GetString());
        Assert.Equal(4, completed.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("hi there", completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.False(Assert.Single(gw.Fake.Requests).Json.RootElement.TryGetProperty("metadata", out _));
    }
}
