using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Durar.Testing.Fuzz;

namespace Durar.Api.Tests.Fuzzing;

/// <summary>
/// Every endpoint that reads a client body, fed thousands of broken and hostile variants of a valid body (see
/// <see cref="JsonMutator"/>) over real HTTP, against a gateway whose upstream is the fake provider: each answer is a 2xx, or
/// an error in its dialect's shape with a 4xx (or 502/503/504 for an upstream or journal fault), within a bound; a streamed
/// 2xx ends with its terminator or an error frame; never a 500, never a hang; and afterwards the node still serves a valid
/// request. Fixed cases run the same in every CI run; a random sample (CsCheck) adds new ones each run, and a failure
/// names the case number to replay (<c>DURAR_FUZZ_CASE</c>).
/// </summary>
public sealed class ClientBodyFuzzSpecs : IAsyncLifetime
{
    private const int FixedCases = 250, RandomCases = 150;

    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(30);

    private GatewayHarness _gw = null!;

    public async Task InitializeAsync() =>
        _gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + """
            models { providers { fakeemb { baseUrl = "{fake-openai}", apiKey = "sk-emb", api = "openai-completions", models = [{ id = "emb", kind = "embedding" }] } } }
            """);

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    public static TheoryData<string, string, string> Endpoints => new()
    {
        {
            "chat, OpenAI upstream", "v1/chat/completions", """
            {"model":"fakeoai/gpt-fake","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"max_tokens":16,"temperature":0.5,"stop":["\n"],"fallbacks":["fakeant/claude-fake"],"stream":false}
            """
        },
        {
            "chat, Anthropic upstream, streamed", "v1/chat/completions", """
            {"model":"fakeant/claude-fake","messages":[{"role":"developer","content":"be brief"},{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","reasoning_effort":"low","response_format":{"type":"json_object"},"max_completion_tokens":64,"stream":true,"stream_options":{"include_usage":true}}
            """
        },
        {
            "messages (Anthropic dialect), OpenAI upstream", "v1/messages", """
            {"model":"fakeoai/gpt-fake","max_tokens":32,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":"b"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}],"tools":[{"name":"f","input_schema":{"type":"object","properties":{"a":{"type":"string"}}}}],"tool_choice":{"type":"auto"},"stop_sequences":["\n"],"temperature":0.5,"top_k":5,"metadata":{"user_id":"u"},"stream":false}
            """
        },
        {
            "messages (Anthropic dialect), Anthropic upstream, streamed", "v1/messages", """
            {"model":"fakeant/claude-fake","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"yes"}]},{"role":"user","content":"go on"}],"stream":true}
            """
        },
        { "embeddings", "v1/embeddings", """{"model":"fakeemb/emb","input":["a","b"],"encoding_format":"float","dimensions":8}""" },
        { "session turn", "v1/sessions/fuzz-{n}/messages", """{"content":"hi","model":"fakeoai/gpt-fake","stream":false}""" },
        { "session abort", "v1/sessions/fuzz-{n}/abort", """{"runId":"run_000000000000000000000000","clearQueued":true}""" },
        { "auth profile", "v1/admin/auth-profiles", """{"provider":"fakeoai","type":"api_key","key":"sk-fuzz-0000"}""" },
        { "client token", "v1/admin/tokens", """{"name":"fuzz","scopes":["chat","sessions"],"models":["fakeoai/*"],"rpm":10,"tpm":1000,"budget":1.5,"budgetPeriod":"day"}""" },
        {
            "count tokens (Anthropic dialect)", "v1/messages/count_tokens", """
            {"model":"fakeoai/gpt-fake","system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}]}
            """
        },
        {
            "responses, stateless, OpenAI upstream", "v1/responses", """
            {"model":"fakeoai/gpt-fake","store":false,"instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"}],"tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}],"tool_choice":{"type":"function","name":"f"},"max_output_tokens":16,"temperature":0.5,"fallbacks":["fakeant/claude-fake"]}
            """
        },
        {
            "responses, stored, Anthropic upstream, streamed", "v1/responses", """
            {"model":"fakeant/claude-fake","input":"hi","reasoning":{"effort":"low","summary":"auto"},"text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}},"metadata":{"k":"v"},"stream":true}
            """
        },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task Should_answer_every_mutated_body_with_a_shaped_error_or_a_complete_answer(string name, string path, string seed)
    {
        _ = name;
        return FuzzCases.RunAsync(FixedCases, RandomCases,
            async i => await CheckAsync(path.Replace("{n}", (i % 4).ToString()), JsonMutator.Mutate(seed, i)),
            i => JsonMutator.MutateText(seed, i));
    }

    [Fact]
    public async Task Should_keep_serving_after_the_mutated_bodies()
    {
        foreach (var (_, path, seed) in Endpoints.Select(row => ((string)row[0], (string)row[1], (string)row[2])).Take(1))
            await FuzzCases.RunAsync(100, 0, async i => await CheckAsync(path, JsonMutator.Mutate(seed, i)), i => JsonMutator.MutateText(seed, i));

        using var reply = await _gw.Http.SendAsync(_gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"still there?"}]}"""));
        Assert.Equal(200, (int)reply.StatusCode);
        Assert.Contains("still there?", await reply.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Found by this suite: invalid UTF-8 inside a property name or string passed the JSON parser (which checks it only when
    /// a value is read) and failed deep in a transport as a 500. It is a 400 naming the offset, before anything reads it.
    /// </summary>
    [Theory]
    [InlineData("v1/chat/completions", "{\"model\":\"fakeoai/gpt-fake\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x\u00ff")]
    [InlineData("v1/embeddings", "{\"model\":\"fakeemb/emb\",\"input\":[\"a\"],\"dimensions\u00ff")]
    [InlineData("v1/sessions/utf8/messages", "{\"content\":\"hi\u00ff")]
    [InlineData("v1/admin/auth-profiles", "{\"provider\":\"fakeoai\",\"type\":\"api_key\",\"key\":\"sk-\u00ff")]
    [InlineData("v1/responses", "{\"model\":\"fakeoai/gpt-fake\",\"input\":\"hi\u00ff")]
    public async Task Should_refuse_a_body_that_is_not_valid_utf8_with_a_400(string path, string prefix)
    {
        // The prefix's last char marks where the bad bytes go: 0xC3 0x28 is a lead byte without its continuation.
        var body = Encoding.UTF8.GetBytes(prefix[..^1]).Concat(new byte[] { 0xC3, 0x28 }).Concat("\":1}"u8.ToArray()).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await _gw.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.Contains("not valid UTF-8", error.GetProperty("message").GetString());
    }

    private async Task CheckAsync(string path, byte[] body)
    {
        using var timeout = new CancellationTokenSource(PerRequest);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        string text;
        int status;
        string? mediaType;
        try
        {
            using var response = await _gw.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = (int)response.StatusCode;
            mediaType = response.Content.Headers.ContentType?.MediaType;
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new InvalidOperationException($"no complete answer within {PerRequest.TotalSeconds:0} s (a hang)");
        }

        if (status is >= 200 and < 300)
        {
            if (mediaType == "text/event-stream" && path.StartsWith("v1/responses", StringComparison.Ordinal))
                // The Responses API's events carry "error": null in every response object: its stream must end with a terminal event.
                Assert.Contains(Dialects.Responses.ResponseEventGrammar.Parse(text)[^1].Type, (string[])["response.completed", "response.incomplete", "response.failed"]);
            else if (mediaType == "text/event-stream")
                Assert.True(text.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal) || text.Contains("\"error\"", StringComparison.Ordinal)
                    || text.TrimEnd().EndsWith("data: {\"type\":\"message_stop\"}", StringComparison.Ordinal), // Anthropic's dialect
                    $"a streamed 2xx must end with [DONE] (message_stop) or an error frame:\n{Tail(text)}");
            return;
        }

        Assert.True(status is >= 400 and < 500 or 502 or 503 or 504, $"status {status}: {Tail(text)}");
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.Object, error.ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), text);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // no stack trace
    }

    private static string Tail(string s) => s.Length <= 600 ? s : "…" + s[^600..];
}
