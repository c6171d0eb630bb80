using System.Net;
using System.Text.Json.Nodes;
using Durar.Api.Apis;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// The whole OpenAI chat-completions request surface, as a client sends it, captured where the upstream receives it: a native
/// OpenAI target gets the client's JSON with only the documented edits (the model id; on a stream, usage asked for), every
/// field, nested object, unknown field and number's text intact; an OpenAI-compatible proxy gets the same minus the compat
/// rules' edits, and the answer names every field it did not get (<c>x-durar-dropped</c>).
/// </summary>
public sealed class RequestSurfaceSpecs
{
    /// <summary>
    /// Every field of the current reference: every content part type, the developer role, tool and assistant messages with
    /// tool calls, refusals, audio and names, strict tools with a nested schema, a named tool choice, a strict JSON schema
    /// format, every sampling and output option, the native-only fields, and a future field with nested objects and numbers
    /// written as <c>1.0</c>, <c>1e3</c> and <c>0.1000</c>.
    /// </summary>
    private const string Surface = """
        {"model":"{model}",
         "messages":[
          {"role":"developer","content":"Answer in JSON.","name":"rules"},
          {"role":"system","content":[{"type":"text","text":"You are terse."}]},
          {"role":"user","name":"ada","content":[
            {"type":"text","text":"Describe these, please: é ü 日本 <b>&amp;</b>"},
            {"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"high"}},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
            {"type":"input_audio","input_audio":{"data":"UklGRiQAAABXQVZF","format":"wav"}},
            {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0xLjQK","filename":"doc.pdf"}},
            {"type":"file","file":{"file_id":"file-abc123"}}]},
          {"role":"assistant","content":null,"refusal":null,
           "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21.50}"},
          {"role":"assistant","name":"bot","content":[{"type":"text","text":"I can't."},{"type":"refusal","refusal":"Not allowed."}],
           "refusal":"Not allowed.","audio":{"id":"audio_abc"}},
          {"role":"user","content":"Now the weather."}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","strict":true,
           "parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]},
             "where":{"type":"object","properties":{"lat":{"type":"number","minimum":-90.0,"maximum":90.0}},"required":["lat"],"additionalProperties":false}},
           "required":["city","unit","where"],"additionalProperties":false}}}],
         "tool_choice":{"type":"function","function":{"name":"get_weather"}},
         "parallel_tool_calls":false,
         "response_format":{"type":"json_schema","json_schema":{"name":"answer","description":"The answer","strict":true,
           "schema":{"type":"object","properties":{"text":{"type":"string"},"score":{"type":"number","multipleOf":0.01}},
             "required":["text","score"],"additionalProperties":false}}},
         "reasoning_effort":"high",
         "n":2,
         "logprobs":true,
         "top_logprobs":5,
         "logit_bias":{"50256":-100,"1234":2.5},
         "metadata":{"tenant":"acme","trace":"t-1"},
         "prediction":{"type":"content","content":"The weather in Paris is"},
         "modalities":["text","audio"],
         "audio":{"voice":"alloy","format":"wav"},
         "service_tier":"flex",
         "store":true,
         "verbosity":"low",
         "web_search_options":{"search_context_size":"medium",
           "user_location":{"type":"approximate","approximate":{"country":"FR","city":"Paris","region":"IDF","timezone":"Europe/Paris"}}},
         "safety_identifier":"user-hash-1",
         "prompt_cache_key":"cache-1",
         "prompt_cache_retention":"24h",
         "seed":42,
         "stop":["END","\n\n"],
         "temperature":1.0,
         "top_p":0.1000,
         "presence_penalty":0.5,
         "frequency_penalty":-0.25,
         "max_completion_tokens":1000,
         "user":"legacy-user",
         {stream}
         "x_future_field":{"nested":{"deep":[1.0,1e3,0.1000,-0,12345678901234567890]},"flag":true,"nothing":null,"s":"\u00e9"}}
        """;

    private static string Body(string model, bool stream) => Surface.Replace("{model}", model).Replace("{stream}", stream
        ? "\"stream\":true,\"stream_options\":{\"include_usage\":false,\"include_obfuscation\":false},"
        : "\"stream\":false,");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_forward_the_whole_request_surface_to_native_openai_with_only_the_documented_edits(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        var client = Body("nativeoai/gpt-native", stream);

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", client));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal("api.openai.com", upstream.Headers["Host"].Split(':')[0]); // native by its host, as in production
        var expected = JsonDiff.Edit(client);
        expected["model"] = "gpt-native";
        if (stream) expected["stream_options"]!["include_usage"] = true; // the gateway always asks for usage
        JsonDiff.AssertEqual(expected.ToJsonString(), upstream.Body);
        AssertNumbersKeptTheirText(upstream.Body);
        Assert.False(response.Headers.Contains(DurarHeaders.Dropped));
    }

    [Theory]
    [InlineData("proxy-model", true)]
    [InlineData("proxy-model", false)]
    [InlineData("proxy-reasoner", true)]
    public async Task Should_apply_only_the_compat_rules_on_a_proxy_and_name_every_field_it_dropped(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        var client = Body("proxyoai/" + model, stream);

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", client));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(gw.Fake.Requests);
        var expected = JsonDiff.Edit(client);
        expected["model"] = model;
        if (stream) expected["stream_options"]!["include_usage"] = true;
        // Proxies get no developer role, max_tokens instead of max_completion_tokens, none of OpenAI's native-only fields,
        // and reasoning_effort only for a model marked as reasoning (compat supportsReasoningEffort defaults to it).
        expected["messages"]![0]!["role"] = "system";
        expected["max_tokens"] = expected["max_completion_tokens"]!.DeepClone();
        expected.Remove("max_completion_tokens");
        string[] dropped = model == "proxy-reasoner"
            ? ["service_tier", "store", "prompt_cache_key", "prompt_cache_retention"]
            : ["reasoning_effort", "service_tier", "store", "prompt_cache_key", "prompt_cache_retention"];
        foreach (var field in dropped) expected.Remove(field);
        JsonDiff.AssertEqual(expected.ToJsonString(), upstream.Body);
        AssertNumbersKeptTheirText(upstream.Body);
        Assert.Equal(string.Join(',', dropped), string.Join(',', response.Headers.GetValues(DurarHeaders.Dropped)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_name_the_dropped_fields_on_an_answer_inside_a_session_too(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        var request = gw.Post("v1/chat/completions",
            $$"""{"model":"proxyoai/proxy-model","stream":{{(stream ? "true" : "false")}},"store":true,"service_tier":"flex","messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add(DurarHeaders.SessionKey, "dropped-1");

        using var response = await gw.Http.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("store,service_tier", string.Join(',', response.Headers.GetValues(DurarHeaders.Dropped)));
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.False(upstream.TryGetProperty("store", out _));
        Assert.False(upstream.TryGetProperty("service_tier", out _));
    }

    [Fact]
    public async Task Should_forward_the_client_fields_of_a_minimal_request_without_adding_any()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        const string client = """{"model":"nativeoai/gpt-native","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","service_tier":"default"}""";

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", client));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = JsonDiff.Edit(client);
        expected["model"] = "gpt-native";
        JsonDiff.AssertEqual(expected.ToJsonString(), Assert.Single(gw.Fake.Requests).Body);
    }

    /// <summary>The raw text of the upstream body still holds the client's number spellings, not re-formatted values.</summary>
    private static void AssertNumbersKeptTheirText(string upstream)
    {
        Assert.Contains("\"temperature\":1.0", upstream);
        Assert.Contains("\"top_p\":0.1000", upstream);
        Assert.Contains("[1.0,1e3,0.1000,-0,12345678901234567890]", upstream);
        Assert.Contains("\"minimum\":-90.0", upstream);
        Assert.Contains("\"multipleOf\":0.01", upstream);
    }
}
