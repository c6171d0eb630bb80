using System.Net;
using System.Text.Json;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Context;
using Durar.Testing;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// Context budget and compaction end to end (issue 18): a session in front of a fake upstream with a small context that
/// answers 400 "context length exceeded", as OpenAI does, to any input over it. The fake counts each request from its wire
/// body with o200k_base (the encoding of the model id, pinned against tiktoken by <c>TokenCounterSpecs</c>) and the
/// chat framing of 4 tokens a message and 3 a request.
/// </summary>
public sealed class SessionCompactionSpecs
{
    /// <summary>1,024 tokens of context, 128 kept for the answer: a turn's input may count 896.</summary>
    private const string Config = """
        models {
          providers {
            ctxoai { baseUrl = "{fake-openai}", apiKey = "sk-ctx-openai-0001", api = "openai-completions",
              models = [{ id = "gpt-4o-mini", contextTokens = 1024, maxTokens = 128 }] }
          }
        }
        agents { defaults { model { primary = "ctxoai/gpt-4o-mini" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private const int Budget = 1024 - 128;

    /// <summary>The input tokens of an upstream request, counted from what went over the wire.</summary>
    private static int InputTokens(RecordedRequest r) =>
        TokenCounter.PerRequest + r.Json.RootElement.GetProperty("messages").EnumerateArray()
            .Sum(m => TokenCounter.PerMessage + TokenCounter.O200kBase.Count(m.GetProperty("content").GetString()));

    private static bool IsSummaryRequest(RecordedRequest r) =>
        r.Json.RootElement.GetProperty("messages")[0].GetProperty("content").GetString() == Compactor.Instruction;

    private static string Said(int turn) => $"Turn {turn}: the tide table for harbour {turn} reads high water at {turn % 12 + 1} o'clock.";

    private static string Answer(int turn) => $"Noted, turn {turn}: harbour {turn} has high water at {turn % 12 + 1} o'clock.";

    /// <summary>
    /// The upstream: 400 context overflow over <paramref name="limit"/> tokens; a summary for a summary request; else the
    /// answer to the last user message's turn number.
    /// </summary>
    private static Func<RecordedRequest, FakeResponse?> Upstream(int limit) => r =>
    {
        var tokens = InputTokens(r);
        if (tokens > limit)
            return FakeResponse.Error(400, $"This model's maximum context length is {limit} tokens. However, your messages resulted in {tokens} tokens.",
                "invalid_request_error", "context_length_exceeded");
        if (IsSummaryRequest(r)) return FakeResponse.Ok("The user read out harbour tide tables; every turn was acknowledged.");
        var last = r.Json.RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;
        var turn = int.Parse(last["Turn ".Length..last.IndexOf(':')]);
        return FakeResponse.Ok(Answer(turn));
    };

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Send(GatewayHarness gw, string key, string content)
    {
        using var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", JsonSerializer.Serialize(new { content })));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<JsonElement> Get(GatewayHarness gw, string path) =>
        JsonDocument.Parse(await gw.Http.GetStringAsync(path)).RootElement.Clone();

    private static string Content(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    private static async Task<List<(string Role, string Content)>> Transcript(GatewayHarness gw, string key)
    {
        var all = new List<(string, string)>();
        for (var offset = 0; ; offset += 500)
        {
            var page = await Get(gw, $"v1/sessions/{key}/messages?offset={offset}&limit=500");
            var messages = page.GetProperty("messages").EnumerateArray().ToList();
            all.AddRange(messages.Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)));
            if (all.Count >= page.GetProperty("total").GetInt32() || messages.Count == 0) return all;
        }
    }

    [Fact]
    public async Task Should_keep_every_upstream_request_of_a_200_turn_conversation_within_budget_by_compacting()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Script = Upstream(Budget);

        for (var turn = 1; turn <= 200; turn++)
        {
            var (status, body) = await Send(gw, "tides", Said(turn));
            Assert.True(status == HttpStatusCode.OK, $"turn {turn}: {(int)status} {body}");
            Assert.Equal(Answer(turn), Content(body));
        }

        var requests = gw.Fake.Requests;
        Assert.All(requests, r => Assert.True(InputTokens(r) <= Budget, $"{InputTokens(r)} tokens sent, budget {Budget}"));
        var summaries = requests.Count(IsSummaryRequest);
        Assert.Equal(200 + summaries, requests.Count); // no turn was refused and retried: each fit the first time

        var view = await Get(gw, "v1/sessions/tides");
        var compactions = view.GetProperty("compactionCount").GetInt32();
        Assert.InRange(compactions, 5, summaries);
        var context = view.GetProperty("context");
        Assert.Equal(1024, context.GetProperty("contextTokens").GetInt64());
        Assert.Equal(Budget, context.GetProperty("inputBudget").GetInt64());
        Assert.Equal("o200k_base", context.GetProperty("tokenizer").GetString());
        Assert.Equal(InputTokens(requests[^1]), context.GetProperty("lastInputTokens").GetInt32());
        Assert.Equal(400, view.GetProperty("transcriptLength").GetInt32());

        // The full transcript stays: every message, in order, word for word.
        var transcript = await Transcript(gw, "tides");
        Assert.Equal(Enumerable.Range(1, 200).SelectMany(t => new[] { ("user", Said(t)), ("assistant", Answer(t)) }), transcript);

        // What was sent last: the system summary in place of the early turns, then recent turns only.
        var sent = requests[^1].Json.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal("system", sent[0].GetProperty("role").GetString());
        Assert.StartsWith(ContextSummary.Header + "The user read out harbour tide tables", sent[0].GetProperty("content").GetString());
        Assert.Equal(Said(200), sent[^1].GetProperty("content").GetString());
        Assert.DoesNotContain(sent, m => m.GetProperty("content").GetString() == Said(1));
    }

    [Fact]
    public async Task Should_compact_and_retry_once_when_the_upstream_answers_context_overflow()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        // The model really takes less than its catalog entry says: the gateway's budget lets the turn through, the upstream refuses it.
        const int realLimit = 400;
        gw.Fake.Script = Upstream(realLimit);

        var turn = 0;
        while (gw.Fake.Requests.All(r => IsSummaryRequest(r) || InputTokens(r) <= realLimit))
        {
            turn++;
            Assert.True(turn <= 40, "the conversation never outgrew the upstream's real limit");
            var (status, body) = await Send(gw, "overflow", Said(turn));
            Assert.True(status == HttpStatusCode.OK, $"turn {turn}: {(int)status} {body}");
            Assert.Equal(Answer(turn), Content(body));
        }

        // The refused turn, then summary requests only (the fake refuses those over its limit too: they are split until
        // they fit), then one retry of the turn that fits; no other key or model was tried for the refused turn.
        var requests = gw.Fake.Requests;
        var refused = requests.Select((r, i) => (r, i)).Single(x => !IsSummaryRequest(x.r) && InputTokens(x.r) > realLimit).i;
        var between = requests.Skip(refused + 1).SkipLast(1).ToList();
        Assert.NotEmpty(between);
        Assert.All(between, r => Assert.True(IsSummaryRequest(r)));
        Assert.Contains(between, r => InputTokens(r) <= realLimit);
        Assert.False(IsSummaryRequest(requests[^1]));
        Assert.True(InputTokens(requests[^1]) <= realLimit * 2 / 3, $"retried with {InputTokens(requests[^1])} tokens");
        Assert.Equal(requests[refused].ApiKey, requests[^1].ApiKey);

        var view = await Get(gw, "v1/sessions/overflow");
        Assert.Equal(1, view.GetProperty("compactionCount").GetInt32());
        Assert.Equal(2 * turn, view.GetProperty("transcriptLength").GetInt32());
        Assert.DoesNotContain(await Transcript(gw, "overflow"), e => e.Role == "error");
    }

    [Fact]
    public async Task Should_refuse_a_message_that_alone_exceeds_the_budget_without_calling_the_upstream()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Script = Upstream(Budget);

        var (status, body) = await Send(gw, "huge", string.Join(' ', Enumerable.Repeat("harbour", 2000)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_overflow", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("896", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_keep_a_compaction_across_a_gateway_restart()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Script = Upstream(Budget);
            var turn = 0;
            while (!gw.Fake.Requests.Any(IsSummaryRequest))
            {
                turn++;
                Assert.True(turn <= 60, "the session never compacted");
                Assert.Equal(HttpStatusCode.OK, (await Send(gw, "restart", Said(turn))).Status);
            }
            var sentBefore = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => m.GetProperty("content").GetString()).ToList();

            gw = await gw.RestartAsync();
            gw.Fake.Reset();
            gw.Fake.Script = Upstream(Budget);

            var view = await Get(gw, "v1/sessions/restart");
            Assert.Equal(1, view.GetProperty("compactionCount").GetInt32());
            Assert.Equal(2 * turn, view.GetProperty("transcriptLength").GetInt32());

            turn++;
            Assert.Equal(HttpStatusCode.OK, (await Send(gw, "restart", Said(turn))).Status);
            var sentAfter = gw.Fake.Requests.Single().Json.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => m.GetProperty("content").GetString()).ToList();
            // The same summary and the same kept turns as before the restart, then the previous answer and the new message.
            Assert.Equal([.. sentBefore, Answer(turn - 1), Said(turn)], sentAfter);
            Assert.DoesNotContain(gw.Fake.Requests, IsSummaryRequest);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
