using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using Durar.Testing;
using Durar.Actors.Chat;

namespace Durar.Api.Tests.Fakes;

/// <summary>
/// Self-tests of the fake upstream provider every integration test relies on: wire formats, streaming and
/// scripted faults, checked with a plain HttpClient and the inbox SSE parser.
/// </summary>
public sealed class FakeProviderSpecs
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Should_answer_openai_chat_completion_with_echo_text_and_usage()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake, bearer: "sk-test");

        using var response = await client.PostAsync("v1/chat/completions", OpenAiBody("hi there", system: "be brief"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await JsonAsync(response);
        Assert.StartsWith("chatcmpl-fake-", (string)json["id"]!);
        Assert.Equal("chat.completion", (string)json["object"]!);
        Assert.Equal("gpt-4o-mini", (string)json["model"]!);
        Assert.True((long)json["created"]! > 1_600_000_000);
        var choice = json["choices"]![0]!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Equal("assistant", (string)choice["message"]!["role"]!);
        Assert.Equal("Hello from fake: hi there", (string)choice["message"]!["content"]!);
        Assert.Equal("stop", (string)choice["finish_reason"]!);
        Assert.Equal(4, (int)json["usage"]!["prompt_tokens"]!);
        Assert.Equal(5, (int)json["usage"]!["completion_tokens"]!);
        Assert.Equal(9, (int)json["usage"]!["total_tokens"]!);

        var recorded = Assert.Single(fake.Requests);
        Assert.Equal("openai", recorded.Wire);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal("sk-test", recorded.ApiKey);
        Assert.Equal("gpt-4o-mini", recorded.Model);
        Assert.False(recorded.Stream);
        Assert.False(recorded.ClientAborted);
        Assert.Equal("Bearer sk-test", recorded.Headers["authorization"]);
        Assert.Equal("hi there", recorded.Json.RootElement.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_accept_chat_completions_without_v1_prefix_and_array_content()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);
        var body = """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"part one "},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"two"}]}]}""";

        using var response = await client.PostAsync("chat/completions", Json(body));

        var json = await JsonAsync(response);
        Assert.Equal("Hello from fake: part one two", (string)json["choices"]![0]!["message"]!["content"]!);
        Assert.Equal("/chat/completions", Assert.Single(fake.Requests).Path);
    }

    [Fact]
    public async Task Should_stream_openai_chunks_that_reassemble_text_exactly_without_usage_by_default()
    {
        await using var fake = await FakeProvider.StartAsync();
        const string text = "He said \"hi\"\nthen\tleft: ünïcödé 😀 \\ done";
        fake.Enqueue(FakeResponse.Ok(text));
        using var client = Client(fake);

        using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("q", stream: true));
        var events = await ReadEventsAsync(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.All(chunks, c => Assert.False(c.AsObject().ContainsKey("usage")));
        var first = chunks[0]["choices"]![0]!;
        Assert.Equal("assistant", (string)first["delta"]!["role"]!);
        Assert.Equal("", (string)first["delta"]!["content"]!);
        var pieces = chunks.Skip(1).SkipLast(1).Select(c => (string)c["choices"]![0]!["delta"]!["content"]!).ToList();
        Assert.Equal(["He", " said", " \"hi\"\nthen\tleft:", " ünïcödé", " 😀", " \\", " done"], pieces);
        Assert.Equal(text, string.Concat(pieces));
        var last = chunks[^1]["choices"]![0]!;
        Assert.Equal("stop", (string)last["finish_reason"]!);
        Assert.Empty(last["delta"]!.AsObject());
        Assert.True(Assert.Single(fake.Requests).Stream);
    }

    [Fact]
    public async Task Should_send_usage_chunk_before_done_when_openai_stream_requests_include_usage()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);

        using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("one two three", stream: true, includeUsage: true));
        var events = await ReadEventsAsync(response);

        Assert.Equal("[DONE]", events[^1].Data);
        var usageChunk = JsonNode.Parse(events[^2].Data)!;
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(3, (int)usageChunk["usage"]!["prompt_tokens"]!);
        Assert.Equal(6, (int)usageChunk["usage"]!["completion_tokens"]!);
        Assert.Equal(9, (int)usageChunk["usage"]!["total_tokens"]!);
        var finish = JsonNode.Parse(events[^3].Data)!;
        Assert.Equal("stop", (string)finish["choices"]![0]!["finish_reason"]!);
        Assert.Null(finish["usage"]);
        Assert.True(finish.AsObject().ContainsKey("usage"));
    }

    [Fact]
    public async Task Should_omit_usage_everywhere_when_scripted()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Default = new FakeResponse { OmitUsage = true };
        using var client = Client(fake);

        using var plain = await client.PostAsync("v1/chat/completions", OpenAiBody("x"));
        using var streamed = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true, includeUsage: true));
        var events = await ReadEventsAsync(streamed);

        Assert.False((await JsonAsync(plain)).AsObject().ContainsKey("usage"));
        Assert.DoesNotContain(events, e => e.Data.Contains("usage", StringComparison.Ordinal));
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Should_answer_anthropic_message_with_system_and_block_content()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);
        client.DefaultRequestHeaders.Add("x-api-key", "ak-test");
        var body = """{"model":"claude-x","max_tokens":10,"system":"you are terse","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"last question"}]}]}""";

        using var response = await client.PostAsync("v1/messages", Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.StartsWith("msg_fake_", (string)json["id"]!);
        Assert.Equal("message", (string)json["type"]!);
        Assert.Equal("assistant", (string)json["role"]!);
        Assert.Equal("claude-x", (string)json["model"]!);
        var block = Assert.Single(json["content"]!.AsArray())!;
        Assert.Equal("text", (string)block["type"]!);
        Assert.Equal("Hello from fake: last question", (string)block["text"]!);
        Assert.Equal("end_turn", (string)json["stop_reason"]!);
        Assert.Null(json["stop_sequence"]);
        Assert.Equal(7, (int)json["usage"]!["input_tokens"]!);
        Assert.Equal(5, (int)json["usage"]!["output_tokens"]!);
        Assert.Equal(0, (int)json["usage"]!["cache_read_input_tokens"]!);
        Assert.Equal(0, (int)json["usage"]!["cache_creation_input_tokens"]!);

        var recorded = Assert.Single(fake.Requests);
        Assert.Equal("anthropic", recorded.Wire);
        Assert.Equal("ak-test", recorded.ApiKey);
        Assert.Equal("claude-x", recorded.Model);
    }

    [Fact]
    public async Task Should_stream_anthropic_events_in_protocol_order()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.Ok("Bonjour \"le\"\nmonde ✓"));
        using var client = Client(fake);

        using var response = await PostStreamAsync(client, "v1/messages", AnthropicBody("a b", stream: true));
        var events = await ReadEventsAsync(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.EventType));
        var data = events.Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.All(events.Zip(data), p => Assert.Equal(p.Item1.EventType, (string)p.Item2["type"]!));
        var message = data[0]["message"]!;
        Assert.StartsWith("msg_fake_", (string)message["id"]!);
        Assert.Equal(2, (int)message["usage"]!["input_tokens"]!);
        Assert.Empty(message["content"]!.AsArray());
        Assert.Equal("text", (string)data[1]["content_block"]!["type"]!);
        Assert.All(data.Skip(3).Take(3), d => Assert.Equal("text_delta", (string)d["delta"]!["type"]!));
        Assert.Equal("Bonjour \"le\"\nmonde ✓", string.Concat(data.Skip(3).Take(3).Select(d => (string)d["delta"]!["text"]!)));
        Assert.Equal("end_turn", (string)data[7]["delta"]!["stop_reason"]!);
        Assert.Equal(3, (int)data[7]["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Should_return_openai_429_with_retry_after_and_extra_headers()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.RateLimited(retryAfter: "7") with
        {
            Headers = new Dictionary<string, string> { ["x-ratelimit-remaining-requests"] = "0", ["retry-after-ms"] = "7000" },
        });
        using var client = Client(fake);

        using var response = await client.PostAsync("v1/chat/completions", OpenAiBody("x", stream: true));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.Equal("0", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("7000", response.Headers.GetValues("retry-after-ms").Single());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await JsonAsync(response))["error"]!;
        Assert.Equal("requests", (string)error["type"]!);
        Assert.Equal("rate_limit_exceeded", (string)error["code"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        Assert.True(error.AsObject().ContainsKey("param"));
        Assert.Null(error["param"]);
    }

    [Fact]
    public async Task Should_return_anthropic_rate_limit_error_with_retry_after()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.RateLimited(retryAfter: "3", message: "slow down"));
        using var client = Client(fake);

        using var response = await client.PostAsync("v1/messages", AnthropicBody("x"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        var json = await JsonAsync(response);
        Assert.Equal("error", (string)json["type"]!);
        Assert.Equal("rate_limit_error", (string)json["error"]!["type"]!);
        Assert.Equal("slow down", (string)json["error"]!["message"]!);
    }

    [Fact]
    public async Task Should_use_each_wires_own_status_for_overloaded()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.Overloaded(), FakeResponse.Overloaded());
        using var client = Client(fake);

        using var openAi = await client.PostAsync("v1/chat/completions", OpenAiBody("x"));
        using var anthropic = await client.PostAsync("v1/messages", AnthropicBody("x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, openAi.StatusCode);
        Assert.Equal("server_error", (string)(await JsonAsync(openAi))["error"]!["type"]!);
        Assert.Equal(529, (int)anthropic.StatusCode);
        Assert.Equal("overloaded_error", (string)(await JsonAsync(anthropic))["error"]!["type"]!);
    }

    [Fact]
    public async Task Should_render_scripted_error_fields()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.Error(400, "context too long", "invalid_request_error", "context_length_exceeded"));
        using var client = Client(fake);

        using var response = await client.PostAsync("v1/chat/completions", OpenAiBody("x"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonAsync(response))["error"]!;
        Assert.Equal("context too long", (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal("context_length_exceeded", (string)error["code"]!);
    }

    [Fact]
    public async Task Should_cut_the_connection_after_the_scripted_number_of_chunks()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Text = "a b c d e", CutAfterChunks = 2 });
        using var client = Client(fake);

        using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true));
        var received = new List<SseItem<string>>();
        var failure = await Record(() => ReadEventsAsync(response, received));

        Assert.IsAssignableFrom<IOException>(failure);
        Assert.DoesNotContain(received, e => e.Data == "[DONE]");
        var pieces = received.Skip(1).Select(e => (string?)JsonNode.Parse(e.Data)!["choices"]![0]!["delta"]!["content"]).ToList();
        Assert.Equal(["a", " b"], pieces);
        Assert.False(Assert.Single(fake.Requests).ClientAborted);
    }

    [Fact]
    public async Task Should_flag_client_abort_when_the_client_gives_up_on_a_stalled_stream()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Text = "a b c", StallAfterChunks = 1 });
        using var client = Client(fake);
        using var cancel = new CancellationTokenSource();

        using var response = await PostStreamAsync(client, "v1/messages", AnthropicBody("x", stream: true), cancel.Token);
        var received = new List<SseItem<string>>();
        var failure = await Record(() => ReadEventsAsync(response, received, stopAfter: e =>
        {
            if (e.EventType == "content_block_delta")
            {
                cancel.Cancel();
            }
        }, cancel.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(failure);
        Assert.Single(received, e => e.EventType == "content_block_delta");
        await fake.WaitForClientAbortAsync(Wait);
        Assert.True(Assert.Single(fake.Requests).ClientAborted);
    }

    [Fact]
    public async Task Should_not_report_client_abort_for_completed_responses()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);

        using (var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true)))
        {
            await ReadEventsAsync(response);
        }

        client.Dispose(); // Closes the kept-alive connection after the response completed.
        var abort = await Record(() => fake.WaitForClientAbortAsync(TimeSpan.FromMilliseconds(300)));

        Assert.IsType<TimeoutException>(abort);
        Assert.False(Assert.Single(fake.Requests).ClientAborted);
    }

    [Fact]
    public async Task Should_replace_the_scripted_chunk_with_malformed_data_and_keep_streaming()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Text = "a b c", MalformedAtChunk = 2 }, new FakeResponse { Text = "a b c", MalformedAtChunk = 2 });
        using var client = Client(fake);

        using var openAi = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true));
        var openAiEvents = await ReadEventsAsync(openAi);
        using var anthropic = await PostStreamAsync(client, "v1/messages", AnthropicBody("x", stream: true));
        var anthropicEvents = await ReadEventsAsync(anthropic);

        Assert.Equal("{not json", openAiEvents[2].Data);
        Assert.Equal(" c", (string)JsonNode.Parse(openAiEvents[3].Data)!["choices"]![0]!["delta"]!["content"]!);
        Assert.Equal("[DONE]", openAiEvents[^1].Data);
        var malformed = Assert.Single(anthropicEvents, e => e.Data == "{not json");
        Assert.Equal("content_block_delta", malformed.EventType);
        Assert.Equal("message_stop", anthropicEvents[^1].EventType);
    }

    [Fact]
    public async Task Should_send_a_mid_stream_error_event_and_end_the_stream()
    {
        await using var fake = await FakeProvider.StartAsync();
        var scripted = new FakeResponse { Text = "a b c", ErrorEventAfterChunks = 1, ErrorMessage = "boom" };
        fake.Enqueue(scripted, scripted);
        using var client = Client(fake);

        using var openAi = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true));
        var openAiEvents = await ReadEventsAsync(openAi);
        using var anthropic = await PostStreamAsync(client, "v1/messages", AnthropicBody("x", stream: true));
        var anthropicEvents = await ReadEventsAsync(anthropic);

        Assert.Equal(3, openAiEvents.Count);
        var openAiError = JsonNode.Parse(openAiEvents[^1].Data)!["error"]!;
        Assert.Equal("boom", (string)openAiError["message"]!);
        Assert.Equal("server_error", (string)openAiError["type"]!);
        Assert.Equal("error", anthropicEvents[^1].EventType);
        var anthropicError = JsonNode.Parse(anthropicEvents[^1].Data)!;
        Assert.Equal("error", (string)anthropicError["type"]!);
        Assert.Equal("overloaded_error", (string)anthropicError["error"]!["type"]!);
        Assert.Equal("boom", (string)anthropicError["error"]!["message"]!);
        Assert.DoesNotContain(anthropicEvents, e => e.EventType == "message_stop");
    }

    [Fact]
    public async Task Should_answer_openai_tool_call_in_both_modes()
    {
        await using var fake = await FakeProvider.StartAsync();
        const string arguments = """{"city":"Paris","unit":"c"}""";
        fake.Default = new FakeResponse { ToolCall = new FakeToolCall("get_weather", arguments, "call_42"), Chunks = 3 };
        using var client = Client(fake);

        using var plain = await client.PostAsync("v1/chat/completions", OpenAiBody("weather?"));
        using var streamed = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("weather?", stream: true));
        var events = await ReadEventsAsync(streamed);

        var choice = (await JsonAsync(plain))["choices"]![0]!;
        Assert.Equal("tool_calls", (string)choice["finish_reason"]!);
        Assert.True(choice["message"]!.AsObject().ContainsKey("content"));
        Assert.Null(choice["message"]!["content"]);
        var call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
        Assert.Equal("call_42", (string)call["id"]!);
        Assert.Equal("function", (string)call["type"]!);
        Assert.Equal("get_weather", (string)call["function"]!["name"]!);
        Assert.Equal(arguments, (string)call["function"]!["arguments"]!);

        var deltas = events.SkipLast(1).Select(e => JsonNode.Parse(e.Data)!["choices"]![0]!).ToList();
        var header = Assert.Single(deltas[1]["delta"]!["tool_calls"]!.AsArray())!;
        Assert.Equal(0, (int)header["index"]!);
        Assert.Equal("call_42", (string)header["id"]!);
        Assert.Equal("function", (string)header["type"]!);
        Assert.Equal("get_weather", (string)header["function"]!["name"]!);
        Assert.Equal("", (string)header["function"]!["arguments"]!);
        var fragments = deltas.Skip(2).SkipLast(1).Select(d => (string)d["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!).ToList();
        Assert.Equal(3, fragments.Count);
        Assert.Equal(arguments, string.Concat(fragments));
        Assert.Equal("tool_calls", (string)deltas[^1]["finish_reason"]!);
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Should_answer_anthropic_tool_use_in_both_modes()
    {
        await using var fake = await FakeProvider.StartAsync();
        const string arguments = """{"city":"Paris"}""";
        fake.Default = new FakeResponse { ToolCall = new FakeToolCall("get_weather", arguments), Chunks = 2 };
        using var client = Client(fake);

        using var plain = await client.PostAsync("v1/messages", AnthropicBody("weather?"));
        using var streamed = await PostStreamAsync(client, "v1/messages", AnthropicBody("weather?", stream: true));
        var events = await ReadEventsAsync(streamed);

        var json = await JsonAsync(plain);
        Assert.Equal("tool_use", (string)json["stop_reason"]!);
        var block = Assert.Single(json["content"]!.AsArray())!;
        Assert.Equal("tool_use", (string)block["type"]!);
        Assert.Equal("toolu_fake_1", (string)block["id"]!);
        Assert.Equal("get_weather", (string)block["name"]!);
        Assert.Equal("Paris", (string)block["input"]!["city"]!);

        var start = JsonNode.Parse(events.Single(e => e.EventType == "content_block_start").Data)!["content_block"]!;
        Assert.Equal("tool_use", (string)start["type"]!);
        Assert.Equal("toolu_fake_1", (string)start["id"]!);
        var partials = events.Where(e => e.EventType == "content_block_delta").Select(e => JsonNode.Parse(e.Data)!["delta"]!).ToList();
        Assert.All(partials, d => Assert.Equal("input_json_delta", (string)d["type"]!));
        Assert.Equal(2, partials.Count);
        Assert.Equal(arguments, string.Concat(partials.Select(d => (string)d["partial_json"]!)));
        var messageDelta = JsonNode.Parse(events.Single(e => e.EventType == "message_delta").Data)!;
        Assert.Equal("tool_use", (string)messageDelta["delta"]!["stop_reason"]!);
    }

    [Fact]
    public async Task Should_translate_finish_reason_override_per_wire()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Default = new FakeResponse { FinishReason = "length", PromptTokens = 11, CompletionTokens = 22 };
        using var client = Client(fake);

        var openAi = await JsonAsync(await client.PostAsync("v1/chat/completions", OpenAiBody("x")));
        var anthropic = await JsonAsync(await client.PostAsync("v1/messages", AnthropicBody("x")));

        Assert.Equal("length", (string)openAi["choices"]![0]!["finish_reason"]!);
        Assert.Equal(11, (int)openAi["usage"]!["prompt_tokens"]!);
        Assert.Equal(33, (int)openAi["usage"]!["total_tokens"]!);
        Assert.Equal("max_tokens", (string)anthropic["stop_reason"]!);
        Assert.Equal(22, (int)anthropic["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Should_split_text_into_the_requested_number_of_chunks()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Text = "abcdefgh😀", Chunks = 3 });
        using var client = Client(fake);

        using var response = await PostStreamAsync(client, "v1/messages", AnthropicBody("x", stream: true));
        var events = await ReadEventsAsync(response);

        var pieces = events.Where(e => e.EventType == "content_block_delta").Select(e => (string)JsonNode.Parse(e.Data)!["delta"]!["text"]!).ToList();
        Assert.Equal(["abc", "def", "gh😀"], pieces);
    }

    [Fact]
    public async Task Should_delay_headers_by_latency_and_space_chunks_by_chunk_delay()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Text = "a b c", Latency = TimeSpan.FromMilliseconds(300), ChunkDelay = TimeSpan.FromMilliseconds(100) });
        using var client = Client(fake);

        var clock = Stopwatch.StartNew();
        using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true));
        var headersAfter = clock.Elapsed;
        await ReadEventsAsync(response);

        Assert.True(headersAfter >= TimeSpan.FromMilliseconds(290), $"headers after {headersAfter}");
        // Latency plus three chunk delays, measured from the start: when the headers reach the client is up to Kestrel's
        // flushing (under load they can arrive together with the first chunk), so it is not a reference point.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(580), $"stream ended after {clock.Elapsed}");
    }

    [Fact]
    public async Task Should_send_raw_body_verbatim()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(new FakeResponse { Status = 502, RawBody = "<html>bad gateway</html>", Headers = new Dictionary<string, string> { ["Content-Type"] = "text/html" } });
        using var client = Client(fake);

        using var response = await client.PostAsync("v1/chat/completions", OpenAiBody("x"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<html>bad gateway</html>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Should_consult_script_then_queue_then_default()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Script = r => r.Model == "scripted" ? FakeResponse.Ok("from script") : null;
        fake.Enqueue(FakeResponse.Ok("from queue"));
        fake.Default = FakeResponse.Ok("from default");
        using var client = Client(fake);

        var first = await ContentAsync(client, "scripted");
        var second = await ContentAsync(client, "other");
        var third = await ContentAsync(client, "other");
        var fourth = await ContentAsync(client, "scripted");

        Assert.Equal(new[] { "from script", "from queue", "from default", "from script" }, new[] { first, second, third, fourth });
        Assert.Equal(4, fake.RequestCount);
    }

    [Fact]
    public async Task Should_reset_queue_script_default_and_recorded_requests()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Script = _ => FakeResponse.Ok("script");
        fake.Enqueue(FakeResponse.Ok("queued"));
        fake.Default = FakeResponse.Ok("default");
        using var client = Client(fake);
        await ContentAsync(client, "m");

        fake.Reset();
        var afterReset = await ContentAsync(client, "m");

        Assert.Equal("Hello from fake: hello", afterReset);
        Assert.Equal(1, fake.RequestCount);
    }

    [Fact]
    public async Task Should_wait_for_matching_request_and_time_out_otherwise()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);
        var waiting = fake.WaitForRequestAsync(r => r.Model == "wanted", Wait);

        await ContentAsync(client, "other");
        await ContentAsync(client, "wanted");
        var matched = await waiting;
        var missing = await Record(() => fake.WaitForRequestAsync(r => r.Model == "never", TimeSpan.FromMilliseconds(100)));

        Assert.Equal("wanted", matched.Model);
        Assert.IsType<TimeoutException>(missing);
        Assert.Equal("other", (await fake.WaitForRequestAsync(r => r.Model == "other", Wait)).Model);
    }

    [Fact]
    public async Task Should_answer_invalid_json_with_400_without_consuming_the_queue()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Enqueue(FakeResponse.Ok("kept"));
        using var client = Client(fake);

        using var broken = await client.PostAsync("v1/chat/completions", Json("{not json"));
        var next = await ContentAsync(client, "m");

        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal("invalid_request_error", (string)(await JsonAsync(broken))["error"]!["type"]!);
        Assert.Equal("kept", next);
        Assert.Equal("{not json", fake.Requests[0].Body);
    }

    [Fact]
    public async Task Should_list_models()
    {
        await using var fake = await FakeProvider.StartAsync();
        using var client = Client(fake);

        var json = await JsonAsync(await client.GetAsync("v1/models"));

        Assert.Equal("list", (string)json["object"]!);
        Assert.Contains(json["data"]!.AsArray(), m => (string)m!["id"]! == "gpt-4o-mini");
        Assert.Equal(0, fake.RequestCount);
    }

    [Fact]
    public async Task Should_expose_base_urls_on_a_loopback_port()
    {
        await using var fake = await FakeProvider.StartAsync();

        Assert.Equal("127.0.0.1", fake.BaseUri.Host);
        Assert.NotEqual(0, fake.BaseUri.Port);
        Assert.Equal($"http://127.0.0.1:{fake.BaseUri.Port}/v1", fake.OpenAiBaseUrl);
        Assert.Equal($"http://127.0.0.1:{fake.BaseUri.Port}", fake.AnthropicBaseUrl);
    }

    [Fact]
    public async Task Should_serve_200_concurrent_requests()
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Default = new FakeResponse { ChunkDelay = TimeSpan.FromMilliseconds(5) };
        using var client = Client(fake);

        var texts = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var stream = i % 2 == 0;
            using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody($"request {i}", stream: stream));
            if (!stream)
            {
                return (string)(await JsonAsync(response))["choices"]![0]!["message"]!["content"]!;
            }

            var events = await ReadEventsAsync(response);
            return string.Concat(events.SkipLast(1).Select(e => (string?)JsonNode.Parse(e.Data)!["choices"]![0]!["delta"]!["content"]));
        }));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"Hello from fake: request {i}"), texts);
        Assert.Equal(200, fake.RequestCount);
        Assert.Equal(200, fake.Requests.Select(r => r.Body).Distinct().Count());
    }

    [Fact]
    public async Task Should_end_stalled_streams_quickly_on_dispose()
    {
        var fake = await FakeProvider.StartAsync();
        fake.Default = new FakeResponse { StallAfterChunks = 0 };
        using var client = Client(fake);
        using var response = await PostStreamAsync(client, "v1/chat/completions", OpenAiBody("x", stream: true));
        var reading = Record(() => ReadEventsAsync(response));

        var clock = Stopwatch.StartNew();
        await fake.DisposeAsync();
        await reading.WaitAsync(Wait);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {clock.Elapsed}");
        Assert.False(Assert.Single(fake.Requests).ClientAborted);
    }

    private static HttpClient Client(FakeProvider fake, string? bearer = null)
    {
        // No drain: by default an abandoned response is drained for up to 2 s before the socket closes,
        // which would delay the fake noticing a client abort by that much.
        var handler = new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.Zero };
        var client = new HttpClient(handler) { BaseAddress = fake.BaseUri, Timeout = Wait };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        }

        return client;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent OpenAiBody(string user, bool stream = false, bool includeUsage = false, string model = "gpt-4o-mini", string? system = null)
    {
        var messages = new JsonArray();
        if (system is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = user });
        var body = new JsonObject { ["model"] = model, ["messages"] = messages, ["stream"] = stream };
        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return Json(body.ToJsonString());
    }

    private static StringContent AnthropicBody(string user, bool stream = false) =>
        Json(new JsonObject
        {
            ["model"] = "claude-test",
            ["max_tokens"] = 100,
            ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }),
        }.ToJsonString());

    private static async Task<HttpResponseMessage> PostStreamAsync(HttpClient client, string path, HttpContent body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    private static async Task<string> ContentAsync(HttpClient client, string model)
    {
        using var response = await client.PostAsync("v1/chat/completions", OpenAiBody("hello", model: model));
        return (string)(await JsonAsync(response))["choices"]![0]!["message"]!["content"]!;
    }

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    private static async Task<List<SseItem<string>>> ReadEventsAsync(HttpResponseMessage response) =>
        await ReadEventsAsync(response, [], stopAfter: null, CancellationToken.None);

    private static Task<List<SseItem<string>>> ReadEventsAsync(HttpResponseMessage response, List<SseItem<string>> received) =>
        ReadEventsAsync(response, received, stopAfter: null, CancellationToken.None);

    /// <summary>Parses SSE into <paramref name="received"/> as events arrive, so a test can inspect what came before a failure.</summary>
    private static async Task<List<SseItem<string>>> ReadEventsAsync(
        HttpResponseMessage response, List<SseItem<string>> received, Action<SseItem<string>>? stopAfter, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct))
        {
            received.Add(item);
            stopAfter?.Invoke(item);
        }

        return received;
    }

    /// <summary>Runs <paramref name="action"/> and returns the exception it threw (null when it succeeded).</summary>
    private static async Task<Exception?> Record(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
