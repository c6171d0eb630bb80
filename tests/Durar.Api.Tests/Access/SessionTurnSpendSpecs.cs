using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Sessions.Context;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// Session turns are charged to the client token that sent them, as stateless chat is: their tokens and cost show in the
/// token's usage, count against its budget (a spent budget answers the next turn 429 <c>budget_exceeded</c>), streamed or not.
/// The session charges each run once, whatever it took: several collect-mode messages merged into one run are one run's
/// spend (not one per message waiting for the reply), and the summarising calls of a compaction are the token's too.
/// </summary>
public sealed class SessionTurnSpendSpecs
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_charge_a_session_turn_to_the_client_token_and_its_budget(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config + "\ngateway.askTimeout = 60s\n");
        var created = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions"), ["budget"] = 0.004m, ["budgetPeriod"] = "day" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 }); // 1000 × 3 + 100 × 15 per million = 0.0045

        var streamField = stream ? ""","stream":true""" : "";
        var (status, body, response) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/spend-1/messages", $$"""{"content":"hi"{{streamField}}}""", secret);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        if (stream) Assert.Contains("data:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The request counts itself when it ends; the session reports the run's spend: two reports, in either order.
        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1
            && t.GetProperty("usage").GetProperty("promptTokens").GetInt64() > 0, "the turn counted");
        Assert.Equal(1000, read.GetProperty("usage").GetProperty("promptTokens").GetInt64());
        Assert.Equal(100, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(0.0045m, read.GetProperty("usage").GetProperty("cost").GetDecimal());
        await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("period").GetProperty("spend").GetDecimal() > 0, "the spend recorded");

        var (refused, error, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/spend-1/messages", """{"content":"again"}""", secret);
        Assert.Equal((HttpStatusCode)429, refused);
        Assert.Equal("budget_exceeded", Code(error));
        Assert.Single(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_charge_a_merged_collect_mode_run_once_to_the_client_token_that_sent_its_messages()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + "\ngateway.askTimeout = 60s\ngateway.sessions.queueDebounce = 2s\n");
        // Budget 0.01: one run (0.0045) leaves room for another turn; charged once per merged message (3 × 0.0045) it would not.
        var created = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions"), ["budget"] = 0.01m, ["budgetPeriod"] = "day" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "merged", PromptTokens = 1000, CompletionTokens = 100 }); // 0.0045

        var sends = Enumerable.Range(1, 3).Select(i =>
            SendAsync(gw, HttpMethod.Post, "v1/sessions/collect-1/messages", $$"""{"content":"part {{i}}","queueMode":"collect"}""", secret)).ToList();
        var answers = await Task.WhenAll(sends);
        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, $"{a.Status}: {a.Body}"));
        Assert.Single(gw.Fake.Requests); // the three messages went up as one merged turn
        var upstream = gw.Fake.Requests[0].Json.RootElement.GetProperty("messages").ToString();
        Assert.All(new[] { "part 1", "part 2", "part 3" }, part => Assert.Contains(part, upstream, StringComparison.Ordinal));

        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 3
            && t.GetProperty("usage").GetProperty("promptTokens").GetInt64() > 0, "the three requests and the run counted");
        Assert.Equal(1000, read.GetProperty("usage").GetProperty("promptTokens").GetInt64());
        Assert.Equal(100, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(0.0045m, read.GetProperty("usage").GetProperty("cost").GetDecimal());
        Assert.Equal(0.0045m, read.GetProperty("period").GetProperty("spend").GetDecimal());

        gw.Fake.Enqueue(new FakeResponse { Text = "next", PromptTokens = 10, CompletionTokens = 1 });
        var (next, body, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/collect-1/messages", """{"content":"next"}""", secret);
        Assert.True(next == HttpStatusCode.OK, $"the budget has room after one run's spend: {next} {body}");
    }

    /// <summary>A priced model with 1,024 tokens of context (128 for the answer): a session compacts after a few dozen turns.</summary>
    private const string SmallContextConfig = """
        models { providers { tok { baseUrl = "{fake-openai}", apiKey = "sk-tok-aaaa", api = "openai-completions",
          models = [{ id = "m", contextTokens = 1024, maxTokens = 128, cost = { input = 3, output = 15 } }] } } }
        agents { defaults { model { primary = "tok/m" } } }
        gateway { auth { token = "operator-token-0123456789abcdef0123456789" }
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        gateway.askTimeout = 60s
        """;

    [Fact]
    public async Task Should_charge_a_compaction_s_summarising_calls_to_the_client_token_whose_session_compacted()
    {
        await using var gw = await GatewayHarness.StartAsync(SmallContextConfig);
        var created = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions"), ["budget"] = 100m, ["budgetPeriod"] = "day" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        // Summaries are expensive and easy to tell apart: 5,000 + 500 tokens (0.0225) against 20 + 2 (0.00009) per answer.
        gw.Fake.Script = r => r.Json.RootElement.GetProperty("messages")[0].GetProperty("content").GetString() == Compactor.Instruction
            ? new FakeResponse { Text = "The user counted harbours; every turn was acknowledged.", PromptTokens = 5000, CompletionTokens = 500 }
            : new FakeResponse { Text = "Noted, with thanks for the harbour and its tide table.", PromptTokens = 20, CompletionTokens = 2 };

        var turns = 0;
        while (!gw.Fake.Requests.Any(IsSummary))
        {
            Assert.True(++turns <= 80, "no compaction after 80 turns");
            var (status, body, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/long-1/messages",
                JsonSerializer.Serialize(new { content = $"Turn {turns}: the tide table for harbour {turns} reads high water at {turns % 12 + 1} o'clock." }), secret);
            Assert.True(status == HttpStatusCode.OK, $"turn {turns}: {status} {body}");
        }
        var summaries = gw.Fake.Requests.Count(IsSummary);
        var answers = gw.Fake.Requests.Count - summaries;
        Assert.Equal(turns, answers);

        long prompt = 5000L * summaries + 20L * answers, completion = 500L * summaries + 2L * answers;
        var cost = (prompt * 3m + completion * 15m) / 1_000_000m;
        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == turns
            && t.GetProperty("usage").GetProperty("promptTokens").GetInt64() == prompt, $"{turns} turns and {summaries} summaries charged ({prompt} prompt tokens)");
        Assert.Equal(completion, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(cost, read.GetProperty("usage").GetProperty("cost").GetDecimal());
        Assert.Equal(cost, read.GetProperty("period").GetProperty("spend").GetDecimal());

        static bool IsSummary(RecordedRequest r) =>
            r.Json.RootElement.GetProperty("messages")[0].GetProperty("content").GetString() == Compactor.Instruction;
    }
}
