using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Durability;

/// <summary>
/// Issue 4, "Durability": the gateway runs as a real process on a SQLite data directory, sessions talk to it concurrently
/// (streaming and not), the process is SIGKILLed in the middle of that, restarted on the same directory, and everything the
/// gateway had acknowledged is still there: user messages (a 200 or a first SSE byte), completed replies, overrides, auth
/// pins, usage totals and a key cooldown.
/// </summary>
public sealed class KillAndRestartSpecs(ITestOutputHelper output)
{
    private const string KeyA = "sk-dur-aaaa";
    private const string KeyB = "sk-dur-bbbb";
    private const string EchoPrefix = "Hello from fake: ";
    private const int SessionCount = 8;
    private const int TurnsPerSession = 10;
    private const int KillAfterCompletedTurns = SessionCount * TurnsPerSession * 3 / 10;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60); // a start-up on a 2-core machine under load can take over 30 s
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Tokens the fake reports for a turn, a function of the user's text so the test knows every turn's usage.</summary>
    private static (int Input, int Output) UsageOf(string userText) => (100 + 3 * userText.Length, 5 + userText.Length % 11);

    private static decimal CostOf(string model, (int Input, int Output) u) => model switch
    {
        "dur/m" => (u.Input * 3m + u.Output * 15m) / 1_000_000m,
        "dur/m2" => (u.Input * 1m + u.Output * 2m) / 1_000_000m,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    private static string Config(string fakeOpenAi, int snapshotEvery) => $$"""
        models {
          providers {
            dur {
              baseUrl = "{{fakeOpenAi}}"
              api = "openai-completions"
              models = [
                { id = "m", reasoning = true, cost = { input = 3, output = 15 } }
                { id = "m2", reasoning = true, cost = { input = 1, output = 2 } }
              ]
            }
          }
        }
        env { DUR_API_KEYS = "{{KeyA}},{{KeyB}}" }
        agents { defaults { model { primary = "dur/m" } } }
        gateway {
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s }
          sessions { snapshotEvery = {{snapshotEvery}} }
        }
        """;

    /// <summary>One conversation: what the test sent, what the gateway acknowledged and which replies came back whole.</summary>
    private sealed class Conversation(int index, string model, string? effort)
    {
        public int Index { get; } = index;
        public string Key { get; } = $"conv-{index}";
        /// <summary>The model that answers (the user override of session 3, the primary otherwise).</summary>
        public string Model { get; } = model;
        /// <summary>The <c>reasoning_effort</c> the session's turns must carry upstream.</summary>
        public string? Effort { get; } = effort;
        public List<string> Sent { get; } = [];
        public List<string> Acknowledged { get; } = [];
        /// <summary>User text → the reply text the client received in full (a 200 body, or a stream that reached [DONE]).</summary>
        public Dictionary<string, string> Completed { get; } = [];
        public string? Failure { get; set; }
        public JsonElement Before { get; set; }
    }

    private sealed class Load
    {
        private int _completed;
        private volatile bool _killed;
        public TaskCompletionSource KillNow { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Killed => _killed;
        public int CompletedTurns => Volatile.Read(ref _completed);
        public int InFlight;

        public void MarkKilled() => _killed = true;

        public void TurnCompleted()
        {
            if (Interlocked.Increment(ref _completed) >= KillAfterCompletedTurns) KillNow.TrySetResult();
        }
    }

    [Theory]
    [InlineData(50)] // the default: recovery replays the journal
    [InlineData(3)] // snapshots (and the journal deletions behind them) all through the load: recovery = snapshot + tail
    public async Task Should_keep_every_acknowledged_message_override_pin_usage_total_and_cooldown_after_a_sigkill_under_load(int snapshotEvery)
    {
        var total = Stopwatch.StartNew();
        var log = new GatewayLog();
        var root = Directory.CreateTempSubdirectory("durar-kill-").FullName;
        var dataDir = Path.Combine(root, "data");
        var configPath = Path.Combine(root, "durar.conf");
        GatewayProcess? gateway = null;
        await using var fake = await FakeProvider.StartAsync();
        try
        {
            await File.WriteAllTextAsync(configPath, Config(fake.OpenAiBaseUrl, snapshotEvery));
            // Key A is always rate limited for ten minutes; key B answers every turn with the echo, a little latency and a
            // chunk delay (so turns are in flight when the process dies) and a usage the test can recompute from the user text.
            fake.Script = request =>
            {
                if (request.ApiKey == KeyA) return FakeResponse.RateLimited("600");
                var (input, outputTokens) = UsageOf(LastUserText(request));
                return new FakeResponse
                {
                    Latency = TimeSpan.FromMilliseconds(15),
                    ChunkDelay = TimeSpan.FromMilliseconds(12),
                    PromptTokens = input,
                    CompletionTokens = outputTokens,
                };
            };

            gateway = await GatewayProcess.StartAsync("gw1", configPath, dataDir, root, log, ReadyTimeout);

            // 1. Key A cools down for ten minutes. Rate-limit cooldowns are model-scoped, so both models are cooled: round-robin
            // starts on A, the run fails over to B and answers, and A's window is journaled (its `until` then covers the 429).
            foreach (var model in new[] { "m", "m2" })
            {
                for (var i = 0; i < 4 && !fake.Requests.Any(r => r.ApiKey == KeyA && r.Model == model); i++)
                {
                    var probe = await PostAsync(gateway, "v1/chat/completions",
                        $$"""{"model":"dur/{{model}}","messages":[{"role":"user","content":"cool down probe {{model}} {{i}}"}]}""");
                    Assert.True(probe.Status == HttpStatusCode.OK, $"probe {model} {i}: {(int)probe.Status} {probe.Body}");
                }
                var limited = fake.Requests.LastOrDefault(r => r.ApiKey == KeyA && r.Model == model);
                Assert.True(limited is not null, $"key A was never tried for {model}");
                await WaitForKeyAsync(gateway, KeyA, k => k.GetProperty("state").GetString() == "cooling"
                    && Until(k) >= limited.ReceivedAt + TimeSpan.FromSeconds(599.5), $"cooling for {model} after the 429 at {limited.ReceivedAt:O}");
            }
            var cooling = await KeyAsync(gateway, KeyA);
            var until = Until(cooling);
            var lastCallToA = fake.RequestCount;
            var keyBId = (await KeyAsync(gateway, KeyB)).GetProperty("id").GetString()!;

            // 2. Overrides and pins: directive-only messages, PATCHes, a user pin; then one turn each, which sets the auto pins.
            var conversations = Enumerable.Range(0, SessionCount).Select(i => new Conversation(i,
                i == 3 ? "dur/m2" : "dur/m", i switch { 0 => "high", 4 => "low", _ => "medium" })).ToArray();
            await DirectiveAsync(gateway, conversations[0], "/think high", "Thinking level set to high.");
            await DirectiveAsync(gateway, conversations[1], "/fast on", null);
            await DirectiveAsync(gateway, conversations[2], "/usage tokens", "Usage display set to tokens.");
            await PatchAsync(gateway, conversations[3], """{"model":"dur/m2"}""");
            await DirectiveAsync(gateway, conversations[4], "/think low /fast off", null);
            await PatchAsync(gateway, conversations[5], """{"responseUsage":"full","queueMode":"followup"}""");
            await PatchAsync(gateway, conversations[6], $$"""{"authProfile":"{{keyBId}}"}""");
            await Task.WhenAll(conversations.Select(c => WarmUpAsync(gateway, c)));
            foreach (var c in conversations)
                c.Before = await GetJsonAsync(gateway, $"v1/sessions/{c.Key}");
            AssertOverrides(conversations, keyBId);
            Assert.InRange(until, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(580), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(605));
            log.Add("test", $"setup done after {total.Elapsed.TotalSeconds:0.0}s; key A cooling until {until:O}");

            // 3. Load: every session runs its turns in order, all sessions at once, streaming and not, until the kill.
            var load = new Load();
            var first = gateway;
            var workers = conversations.Select(c => Task.Run(() => ConverseAsync(first, c, load))).ToArray();
            var allDone = Task.WhenAll(workers);
            await Task.WhenAny(load.KillNow.Task, allDone, Task.Delay(LoadTimeout));
            Assert.True(load.KillNow.Task.IsCompleted,
                $"the load never reached {KillAfterCompletedTurns} completed turns ({load.CompletedTurns} done): {Failures(conversations)}");

            // 4. SIGKILL in the middle of it.
            load.MarkKilled();
            var completedAtKill = load.CompletedTurns;
            var inFlightAtKill = Volatile.Read(ref load.InFlight);
            await gateway.KillAsync();
            await allDone.WaitAsync(LoadTimeout);
            log.Add("test", $"killed with {completedAtKill} turns completed and {inFlightAtKill} in flight");
            Assert.True(conversations.All(c => c.Failure is null), "turns failed before the kill: " + Failures(conversations));
            Assert.DoesNotContain(fake.Requests.Skip(lastCallToA), r => r.ApiKey == KeyA); // A cools: sessions only ever reach B
            Assert.True(completedAtKill < SessionCount * TurnsPerSession, "the kill came after the load had finished");
            Assert.True(inFlightAtKill > 0, "no turn was in flight when the process was killed");
            var acknowledgedUnfinished = conversations.Sum(c => c.Acknowledged.Count - c.Completed.Count);
            log.Add("test", $"acknowledged {conversations.Sum(c => c.Acknowledged.Count)} messages, " +
                $"{conversations.Sum(c => c.Completed.Count)} replies complete, {acknowledgedUnfinished} acknowledged streams cut by the kill");

            // 5. Restart on the same data directory.
            await gateway.DisposeAsync();
            gateway = null;
            gateway = await GatewayProcess.StartAsync("gw2", configPath, dataDir, root, log, ReadyTimeout);

            foreach (var c in conversations)
                await AssertRecoveredAsync(gateway, c);

            var restored = await KeyAsync(gateway, KeyA);
            Assert.True(restored.GetProperty("state").GetString() == "cooling", $"key A after the restart: {restored.GetRawText()}");
            Assert.Equal("rate_limit", restored.GetProperty("reason").GetString());
            Assert.InRange(Until(restored), until - TimeSpan.FromSeconds(2), until + TimeSpan.FromSeconds(2));

            // 6. The restored cooldown and overrides still steer traffic: round-robin starts again on A, yet only B is called.
            var mark = fake.RequestCount;
            var probes = new[] { "m", "m2", "m", "m2" };
            for (var i = 0; i < probes.Length; i++)
            {
                var reply = await PostAsync(gateway, "v1/chat/completions",
                    $$"""{"model":"dur/{{probes[i]}}","messages":[{"role":"user","content":"after restart probe {{i}}"}]}""");
                Assert.True(reply.Status == HttpStatusCode.OK, $"stateless probe {i}: {(int)reply.Status} {reply.Body}");
            }
            var lengths = new Dictionary<string, int>();
            foreach (var c in conversations)
                lengths[c.Key] = (await GetJsonAsync(gateway, $"v1/sessions/{c.Key}")).GetProperty("transcriptLength").GetInt32();
            var next = await Task.WhenAll(conversations.Select(c => PostAsync(gateway, $"v1/sessions/{c.Key}/messages",
                JsonSerializer.Serialize(new { content = $"{c.Key} after the restart" }))));
            for (var i = 0; i < conversations.Length; i++)
                Assert.True(next[i].Status == HttpStatusCode.OK && ReplyText(next[i].Body).StartsWith(Echo($"{conversations[i].Key} after the restart"), StringComparison.Ordinal),
                    $"{conversations[i].Key} after the restart: {(int)next[i].Status} {next[i].Body}");
            var upstream = fake.Requests.Skip(mark).ToList();
            Assert.True(upstream.All(r => r.ApiKey == KeyB),
                $"the cooling key was called after the restart: {string.Join(", ", upstream.Select(r => $"{r.ApiKey?[^4..]}:{LastUserText(r)}"))}");
            Assert.Equal(probes.Length + SessionCount, upstream.Count);
            foreach (var c in conversations)
            {
                var request = upstream.Single(r => LastUserText(r) == $"{c.Key} after the restart");
                var body = request.Json.RootElement;
                Assert.Equal(c.Model["dur/".Length..], request.Model);
                Assert.Equal(c.Effort, body.GetProperty("reasoning_effort").GetString());
                // The recovered transcript is the history the model sees next: every entry, then the new message.
                Assert.Equal(lengths[c.Key] + 1, body.GetProperty("messages").GetArrayLength());
            }

            // The run really went through what it is named after: with a small snapshotEvery the sessions recovered from snapshots.
            var snapshots = await CountSessionSnapshotsAsync(dataDir);
            log.Add("test", $"{snapshots} session snapshot(s) in the journal database");
            if (snapshotEvery <= 3) Assert.True(snapshots > 0, "no session snapshot was written");
            else Assert.Equal(0, snapshots);
            log.Add("test", $"done after {total.Elapsed.TotalSeconds:0.0}s");
        }
        finally
        {
            if (gateway is not null) await gateway.DisposeAsync();
            foreach (var line in log.Lines.TakeLast(1500)) output.WriteLine(line);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                output.WriteLine($"could not delete {root}: {e.Message}");
            }
        }
    }

    private static void AssertOverrides(Conversation[] conversations, string keyBId)
    {
        static string? S(JsonElement view, string group, string name) => view.GetProperty(group).GetProperty(name).GetString();
        Assert.Equal("high", S(conversations[0].Before, "overrides", "thinkingLevel"));
        Assert.Equal("on", S(conversations[1].Before, "overrides", "fastMode"));
        Assert.Equal("tokens", S(conversations[2].Before, "overrides", "responseUsage"));
        Assert.Equal("dur/m2", S(conversations[3].Before, "overrides", "model"));
        Assert.Equal("user", S(conversations[3].Before, "overrides", "modelSource"));
        Assert.Equal("low", S(conversations[4].Before, "overrides", "thinkingLevel"));
        Assert.Equal("off", S(conversations[4].Before, "overrides", "fastMode"));
        Assert.Equal("full", S(conversations[5].Before, "overrides", "responseUsage"));
        Assert.Equal("followup", S(conversations[5].Before, "overrides", "queueMode"));
        Assert.Null(S(conversations[7].Before, "overrides", "thinkingLevel"));
        foreach (var c in conversations)
        {
            // Every session has a pin on B: the user pin of session 6, the automatic pin of the key that answered elsewhere.
            Assert.Equal(keyBId, S(c.Before, "authProfile", "id"));
            Assert.Equal(c.Index == 6 ? "user" : "auto", S(c.Before, "authProfile", "source"));
        }
    }

    private async Task AssertRecoveredAsync(GatewayProcess gateway, Conversation c)
    {
        var view = await GetJsonAsync(gateway, $"v1/sessions/{c.Key}");
        var page = await GetJsonAsync(gateway, $"v1/sessions/{c.Key}/messages?offset=0&limit=500");
        var entries = page.GetProperty("messages").EnumerateArray().ToList();
        var context = $"{c.Key}: sent {c.Sent.Count}, acknowledged {c.Acknowledged.Count}, completed {c.Completed.Count}; " +
            $"view {view.GetRawText()}; transcript {string.Join(" | ", entries.Select(e => $"{e.GetProperty("role")}: {e.GetProperty("content")}"))}";
        output.WriteLine(context.Length > 600 ? context[..600] + "…" : context);

        Assert.True(page.GetProperty("total").GetInt32() == entries.Count, context);
        Assert.True(view.GetProperty("transcriptLength").GetInt32() == entries.Count, context);
        Assert.True(entries.All(e => e.GetProperty("role").GetString() is "user" or "assistant"), "unexpected transcript entries: " + context);

        // Every acknowledged message is there, in order; at most the one in flight (journaled, not yet acknowledged) on top.
        var users = entries.Where(e => e.GetProperty("role").GetString() == "user").Select(e => e.GetProperty("content").GetString()!).ToList();
        Assert.True(users.Count >= c.Acknowledged.Count && users.Count <= c.Sent.Count, "acknowledged messages lost: " + context);
        Assert.True(c.Sent.Take(users.Count).SequenceEqual(users), "user messages differ: " + context);

        // Every reply in the transcript is whole and answers the message before it; every reply the client got is there.
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.GetProperty("role").GetString() != "assistant") continue;
            Assert.True(i > 0 && entries[i - 1].GetProperty("role").GetString() == "user", $"reply #{i} answers nothing: " + context);
            var question = entries[i - 1].GetProperty("content").GetString()!;
            Assert.True(e.GetProperty("content").GetString() == Echo(question), $"reply #{i} is not the answer to \"{question}\": " + context);
            Assert.True(e.GetProperty("model").GetString() == c.Model, $"reply #{i} model: " + context);
            var usage = UsageOf(question);
            Assert.True(e.GetProperty("usage").GetProperty("input").GetInt64() == usage.Input
                && e.GetProperty("usage").GetProperty("output").GetInt64() == usage.Output, $"reply #{i} usage: " + context);
            Assert.True(e.GetProperty("cost").GetDecimal() == CostOf(c.Model, usage), $"reply #{i} cost: " + context);
        }
        foreach (var (question, received) in c.Completed)
        {
            var at = users.IndexOf(question);
            Assert.True(at >= 0, $"completed turn \"{question}\" lost: " + context);
            var index = entries.FindIndex(e => e.GetProperty("role").GetString() == "user" && e.GetProperty("content").GetString() == question);
            Assert.True(index + 1 < entries.Count && entries[index + 1].GetProperty("role").GetString() == "assistant",
                $"the reply to \"{question}\" (received: \"{received}\") is lost: " + context);
            var stored = entries[index + 1].GetProperty("content").GetString()!;
            Assert.True(received.StartsWith(stored, StringComparison.Ordinal), $"received \"{received}\", stored \"{stored}\": " + context);
        }

        // Usage totals: the sum of the transcript's replies, so at least the sum of the replies the clients received.
        var replies = entries.Where(e => e.GetProperty("role").GetString() == "assistant").ToList();
        var usageView = view.GetProperty("usage");
        long input = replies.Sum(e => e.GetProperty("usage").GetProperty("input").GetInt64());
        long outputTokens = replies.Sum(e => e.GetProperty("usage").GetProperty("output").GetInt64());
        var cost = replies.Sum(e => e.GetProperty("cost").GetDecimal());
        Assert.True(usageView.GetProperty("input").GetInt64() == input && usageView.GetProperty("output").GetInt64() == outputTokens
            && usageView.GetProperty("total").GetInt64() == input + outputTokens && usageView.GetProperty("cost").GetDecimal() == cost,
            $"usage totals {usageView.GetRawText()} ≠ Σ transcript (in {input}, out {outputTokens}, cost {cost}): " + context);
        var observed = c.Completed.Keys.Select(UsageOf).ToList();
        Assert.True(input >= observed.Sum(u => u.Input) && outputTokens >= observed.Sum(u => u.Output), "usage below the completed turns: " + context);
        Assert.True(usageView.GetProperty("input").GetInt64() >= c.Before.GetProperty("usage").GetProperty("input").GetInt64(), context);
        if (replies.Count > 0) Assert.Equal(c.Model, view.GetProperty("lastModel").GetString());

        // Overrides and the auth pin are exactly what they were before the kill.
        Assert.True(c.Before.GetProperty("overrides").GetRawText() == view.GetProperty("overrides").GetRawText(),
            $"overrides before {c.Before.GetProperty("overrides").GetRawText()}, after {view.GetProperty("overrides").GetRawText()}");
        Assert.True(c.Before.GetProperty("authProfile").GetRawText() == view.GetProperty("authProfile").GetRawText(),
            $"auth pin before {c.Before.GetProperty("authProfile").GetRawText()}, after {view.GetProperty("authProfile").GetRawText()}");
    }

    /// <summary>One session's turns in order; stops at the kill. Even turns of even sessions (and odd of odd) stream.</summary>
    private static async Task ConverseAsync(GatewayProcess gateway, Conversation c, Load load)
    {
        for (var t = 0; t < TurnsPerSession && !load.Killed; t++)
        {
            var text = $"{c.Key} turn {t} alpha beta gamma delta epsilon";
            var stream = (c.Index + t) % 2 == 0;
            c.Sent.Add(text);
            Interlocked.Increment(ref load.InFlight);
            try
            {
                var failure = stream ? await StreamTurnAsync(gateway, c, text) : await PlainTurnAsync(gateway, c, text);
                if (failure is not null)
                {
                    if (!load.Killed) c.Failure = $"turn {t} ({(stream ? "stream" : "json")}): {failure}";
                    return;
                }
            }
            catch (Exception) when (load.Killed)
            {
                return; // the process died under this turn
            }
            catch (Exception e)
            {
                c.Failure = $"turn {t} ({(stream ? "stream" : "json")}): {e.GetType().Name}: {e.Message}";
                return;
            }
            finally
            {
                Interlocked.Decrement(ref load.InFlight);
            }
            load.TurnCompleted();
        }
    }

    /// <summary>A JSON turn: the 200 is both the acknowledgement and the reply. Null, or what went wrong.</summary>
    private static async Task<string?> PlainTurnAsync(GatewayProcess gateway, Conversation c, string text)
    {
        var reply = await PostAsync(gateway, $"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = text }));
        if (reply.Status != HttpStatusCode.OK) return $"{(int)reply.Status} {reply.Body}";
        c.Acknowledged.Add(text);
        var received = ReplyText(reply.Body);
        using var doc = JsonDocument.Parse(reply.Body);
        var usage = doc.RootElement.GetProperty("usage");
        var expected = UsageOf(text);
        if (usage.GetProperty("prompt_tokens").GetInt32() != expected.Input || usage.GetProperty("completion_tokens").GetInt32() != expected.Output)
            return "unexpected usage " + usage.GetRawText();
        if (!received.StartsWith(Echo(text), StringComparison.Ordinal)) return "unexpected reply " + received;
        c.Completed[text] = received;
        return null;
    }

    /// <summary>A streamed turn: the first SSE byte is the acknowledgement; [DONE] without an error frame completes it.</summary>
    private static async Task<string?> StreamTurnAsync(GatewayProcess gateway, Conversation c, string text)
    {
        using var request = Post($"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = text, stream = true }));
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK) return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream") return "not SSE: " + response.Content.Headers.ContentType;
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var received = new MemoryStream();
        var n = await body.ReadAsync(buffer);
        if (n == 0) return "empty stream";
        c.Acknowledged.Add(text);
        do
        {
            received.Write(buffer, 0, n);
        } while ((n = await body.ReadAsync(buffer)) > 0);
        var frames = DataFrames(Encoding.UTF8.GetString(received.ToArray()));
        if (frames.Count == 0 || frames[^1] != "[DONE]" || frames.Any(f => f.Contains("\"error\"", StringComparison.Ordinal)))
            return "incomplete stream: " + string.Join(" ", frames);
        var reply = new StringBuilder();
        foreach (var frame in frames.Take(frames.Count - 1))
        {
            using var doc = JsonDocument.Parse(frame);
            if (doc.RootElement.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
                reply.Append(piece.GetString());
        }
        if (!reply.ToString().StartsWith(Echo(text), StringComparison.Ordinal)) return "unexpected reply " + reply;
        c.Completed[text] = reply.ToString();
        return null;
    }

    private static async Task WarmUpAsync(GatewayProcess gateway, Conversation c)
    {
        var text = $"{c.Key} warm-up";
        c.Sent.Add(text);
        var reply = await PostAsync(gateway, $"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = text }));
        Assert.True(reply.Status == HttpStatusCode.OK, $"{c.Key} warm-up: {(int)reply.Status} {reply.Body}");
        c.Acknowledged.Add(text);
        c.Completed[text] = ReplyText(reply.Body);
    }

    private static async Task DirectiveAsync(GatewayProcess gateway, Conversation c, string directive, string? expectedAck)
    {
        var reply = await PostAsync(gateway, $"v1/sessions/{c.Key}/messages", JsonSerializer.Serialize(new { content = directive }));
        Assert.True(reply.Status == HttpStatusCode.OK, $"{c.Key} {directive}: {(int)reply.Status} {reply.Body}");
        if (expectedAck is not null) Assert.Equal(expectedAck, ReplyText(reply.Body));
    }

    private static async Task PatchAsync(GatewayProcess gateway, Conversation c, string json)
    {
        using var response = await gateway.Http.PatchAsync($"v1/sessions/{c.Key}", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PATCH {c.Key} {json}: {(int)response.StatusCode} {body}");
    }

    private static HttpRequestMessage Post(string path, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return request;
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(GatewayProcess gateway, string path, string json)
    {
        using var request = Post(path, json);
        using var response = await gateway.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> GetJsonAsync(GatewayProcess gateway, string path)
    {
        using var response = await gateway.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    /// <summary>The admin view of one of the provider's keys (keys are masked to their last four characters).</summary>
    private static async Task<JsonElement> KeyAsync(GatewayProcess gateway, string secret)
    {
        var providers = await GetJsonAsync(gateway, "v1/admin/providers");
        var provider = providers.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "dur");
        return provider.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("key").GetString() == "…" + secret[^4..]);
    }

    /// <summary>Outcomes reach the key actor by Tell and are journaled first: the key's new state shows a moment after the answer.</summary>
    private static Task WaitForKeyAsync(GatewayProcess gateway, string secret, Func<JsonElement, bool> condition, string what) =>
        Eventually.Until(() => KeyAsync(gateway, secret), condition, $"key …{secret[^4..]} {what}", describe: key => key.GetRawText());

    private static async Task<long> CountSessionSnapshotsAsync(string dataDir)
    {
        var connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDir, "durar.db"),
            Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection(connection.ToString());
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM snapshot WHERE persistence_id LIKE 'session-conv-%'";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static DateTimeOffset Until(JsonElement key) =>
        DateTimeOffset.Parse(key.GetProperty("until").GetString()!, CultureInfo.InvariantCulture);

    private static string Echo(string userText) => EchoPrefix + userText;

    private static string ReplyText(string completionJson)
    {
        using var doc = JsonDocument.Parse(completionJson);
        return doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
    }

    private static string LastUserText(RecordedRequest request) =>
        request.Json.RootElement.GetProperty("messages").EnumerateArray()
            .Last(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString() ?? "";

    private static List<string> DataFrames(string body) =>
        body.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(frame => string.Join("\n", frame.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..])))
            .Where(d => d.Length > 0)
            .ToList();

    private static string Failures(IEnumerable<Conversation> conversations) =>
        string.Join("; ", conversations.Where(c => c.Failure is not null).Select(c => $"{c.Key}: {c.Failure}"));
}
