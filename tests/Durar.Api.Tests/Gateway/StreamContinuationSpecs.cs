using System.Net;
using System.Text.Json;
using Durar.Actors.Routing;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// Opt-in stream continuation end to end: an upstream that breaks after output (a cut connection, a mid-stream error event,
/// a stall) is continued on the next key or candidate with the text sent so far given back, and the client reads one
/// stream whose text is the whole answer, then a last chunk with <c>x-durar-continued</c>. Off, the same break ends the
/// stream with an error event and no <c>[DONE]</c>.
/// </summary>
public sealed class StreamContinuationSpecs
{
    private const string Answer =
        "Continuation keeps the answer whole: every word the first upstream wrote stays, and the next one picks up exactly where it stopped.";

    private const string KeyA = "sk-cont-aaaa-1111";
    private const string KeyB = "sk-cont-bbbb-2222";

    private static string Config(bool continueStreams, string extra = "") => $$"""
        models {
          providers {
            contoai { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m1" }] }
            contant { baseUrl = "{fake-anthropic}", apiKey = "sk-ant-cont-3333", api = "anthropic-messages", models = [{ id = "c1" }] }
          }
        }
        env { CONTOAI_API_KEYS = "{{KeyA}},{{KeyB}}" }
        agents { defaults { model { primary = "contoai/m1" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s, continueStreams = {{(continueStreams ? "true" : "false")}} } }
        {{extra}}
        """;

    /// <summary>The text the continuation request gives back: the assistant message before the last user one (OpenAI), or the prefill (Anthropic).</summary>
    private static string? PartialOf(RecordedRequest r)
    {
        var messages = r.Json.RootElement.GetProperty("messages");
        var n = messages.GetArrayLength();
        var last = messages[n - 1];
        if (r.Wire == "anthropic")
            return last.GetProperty("role").GetString() == "assistant" ? ContentText(last) : null;
        if (n >= 2 && last.GetProperty("role").GetString() == "user" && ContentText(last) == StreamContinuation.ContinuePrompt)
            return ContentText(messages[n - 2]);
        return null;
    }

    private static string ContentText(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String ? content.GetString()!
            : string.Concat(content.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : ""));
    }

    private static async Task<GatewayReply> StreamAsync(GatewayHarness gw, string model = "contoai/m1", string? continueHeader = null, bool usage = false)
    {
        var body = $$"""{"model":"{{model}}","stream":true,{{(usage ? "\"stream_options\":{\"include_usage\":true}," : "")}}"messages":[{"role":"user","content":"write it"}]}""";
        var request = gw.Post("v1/chat/completions", body);
        if (continueHeader is not null) request.Headers.Add("x-durar-continue", continueHeader);
        return await gw.SendAsync(request);
    }

    private static JsonElement ContinuedNote(GatewayReply reply)
    {
        var frames = reply.DataFrames;
        Assert.Equal("[DONE]", frames[^1]);
        using var last = JsonDocument.Parse(frames[^2]);
        Assert.True(last.RootElement.TryGetProperty("x-durar-continued", out var note), "no x-durar-continued on the last chunk: " + frames[^2]);
        Assert.Equal(0, last.RootElement.GetProperty("choices").GetArrayLength());
        return note.Clone();
    }

    [Fact]
    public async Task Should_give_the_whole_answer_when_the_upstream_is_cut_at_a_random_chunk()
    {
        // Every round cuts the key that starts it; three cut streams in a row would (rightly) cool key A from the transient
        // threshold on, and the last round would then start and continue on B. Keep both keys ready: this spec is about
        // where a continuation goes, KeyHealthPolicySpecs about the threshold.
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: true, "auth { cooldowns { transientThreshold = 100 } }"));
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var pieces = Answer.Split(' ').Length;
        for (var round = 0; round < 4; round++)
        {
            var cutAt = random.Next(1, pieces - 1);
            var firstOfRound = gw.Fake.RequestCount;
            gw.Fake.Script = r => PartialOf(r) is { } partial
                ? FakeResponse.Ok(Answer[partial.Length..])
                : new FakeResponse { Text = Answer, CutAfterChunks = cutAt };

            var reply = await StreamAsync(gw);

            Assert.True(reply.Status == HttpStatusCode.OK, $"seed {seed}, cut at {cutAt}: {(int)reply.Status} {reply.Body}");
            Assert.True(Answer == reply.Content, $"seed {seed}, cut at {cutAt}: the client read \"{reply.Content}\"");
            var note = ContinuedNote(reply);
            Assert.Equal(1, note.GetProperty("count").GetInt32());
            var point = note.GetProperty("points")[0];
            Assert.Equal("contoai/m1", point.GetProperty("model").GetString());
            Assert.Equal("contoai/m1", point.GetProperty("continued_with").GetString());
            var requests = gw.Fake.Requests.Skip(firstOfRound).ToList();
            Assert.Equal(2, requests.Count);
            // The continuation went to the other key, carrying exactly what the client had already read.
            Assert.NotEqual(requests[0].ApiKey, requests[1].ApiKey);
            Assert.Equal(point.GetProperty("at_chars").GetInt32(), PartialOf(requests[1])!.Length);
            Assert.StartsWith(PartialOf(requests[1])!, Answer, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Should_continue_after_a_mid_stream_error_event_and_note_it_in_the_usage_chunk()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: true));
        gw.Fake.Script = r => PartialOf(r) is { } partial
            ? FakeResponse.Ok(Answer[partial.Length..])
            : new FakeResponse { Text = Answer, ErrorEventAfterChunks = 5 };

        var reply = await StreamAsync(gw, usage: true);

        Assert.Equal(Answer, reply.Content);
        var note = ContinuedNote(reply);
        Assert.Equal(1, note.GetProperty("count").GetInt32());
        using var last = JsonDocument.Parse(reply.DataFrames[^2]);
        Assert.Equal(JsonValueKind.Object, last.RootElement.GetProperty("usage").ValueKind); // the usage chunk carries the note
        Assert.DoesNotContain(reply.DataFrames, f => f.StartsWith("{\"error\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_drop_a_restart_and_a_repeated_seam_so_no_text_arrives_twice()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: true));
        // First continuation starts the whole answer over; the client must still read it once.
        gw.Fake.Script = r => PartialOf(r) is not null ? FakeResponse.Ok(Answer) : new FakeResponse { Text = Answer, CutAfterChunks = 6 };
        var restarted = await StreamAsync(gw);
        Assert.Equal(Answer, restarted.Content);

        // Then one that repeats the last 30 characters it had written before going on.
        gw.Fake.Script = r => PartialOf(r) is { } partial
            ? FakeResponse.Ok(Answer[Math.Max(0, partial.Length - 30)..])
            : new FakeResponse { Text = Answer, CutAfterChunks = 9 };
        var repeated = await StreamAsync(gw);
        Assert.Equal(Answer, repeated.Content);
    }

    [Fact]
    public async Task Should_continue_on_the_next_candidate_with_an_anthropic_prefill()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: true,
            "agents { defaults { model { fallbacks = [\"contant/c1\"] } } }\nenv { CONTOAI_API_KEYS = \"" + KeyA + "\" }"));
        // The OpenAI model cannot take the continuation (overloaded): the fallback chain carries it to the Anthropic candidate.
        gw.Fake.Script = r => r.Wire == "anthropic"
            ? (PartialOf(r) is { } prefill ? FakeResponse.Ok(Answer[prefill.Length..]) : FakeResponse.Error(500, "no"))
            : PartialOf(r) is not null ? FakeResponse.Error(503, "overloaded") : new FakeResponse { Text = Answer, CutAfterChunks = 7 };

        var reply = await StreamAsync(gw, model: "durar");

        Assert.True(Answer == reply.Content, reply.Body);
        var point = ContinuedNote(reply).GetProperty("points")[0];
        Assert.Equal("contoai/m1", point.GetProperty("model").GetString());
        Assert.Equal("contant/c1", point.GetProperty("continued_with").GetString());
        var prefillRequest = gw.Fake.Requests.Last(r => r.Wire == "anthropic");
        var prefillText = PartialOf(prefillRequest)!;
        Assert.False(char.IsWhiteSpace(prefillText[^1]), "an Anthropic prefill may not end in whitespace");
        Assert.False(prefillRequest.Json.RootElement.TryGetProperty("thinking", out _), "prefill with thinking is refused by Anthropic");
    }

    [Fact]
    public async Task Should_end_with_an_error_event_and_no_done_when_continuation_is_off()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: false));
        gw.Fake.Script = _ => new FakeResponse { Text = Answer, CutAfterChunks = 4 };

        var reply = await StreamAsync(gw);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var frames = reply.DataFrames;
        Assert.DoesNotContain("[DONE]", frames);
        using var error = JsonDocument.Parse(frames[^1]);
        Assert.Equal("upstream_stream_error", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, gw.Fake.RequestCount);
        Assert.True(Answer.StartsWith(reply.Content, StringComparison.Ordinal) && reply.Content.Length < Answer.Length);
    }

    [Fact]
    public async Task Should_follow_the_request_header_over_the_node_setting()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: false));
        gw.Fake.Script = r => PartialOf(r) is { } partial
            ? FakeResponse.Ok(Answer[partial.Length..])
            : new FakeResponse { Text = Answer, CutAfterChunks = 3 };

        var on = await StreamAsync(gw, continueHeader: "true");
        Assert.Equal(Answer, on.Content);

        var bad = await StreamAsync(gw, continueHeader: "sometimes");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("x-durar-continue", bad.Error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Should_not_continue_a_tool_call()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(continueStreams: true));
        gw.Fake.Script = _ => new FakeResponse { ToolCall = new FakeToolCall("lookup", """{"query":"a long enough query to be cut"}"""), Chunks = 6, CutAfterChunks = 3 };

        var reply = await StreamAsync(gw);

        Assert.True(reply.Status == HttpStatusCode.OK && reply.DataFrames.Count > 1, $"{(int)reply.Status}: {reply.Body}");
        using var error = JsonDocument.Parse(reply.DataFrames[^1]);
        Assert.True(error.RootElement.TryGetProperty("error", out _), "a cut tool call must end with an error event: " + reply.Body);
        Assert.Equal(1, gw.Fake.RequestCount);
    }
}
