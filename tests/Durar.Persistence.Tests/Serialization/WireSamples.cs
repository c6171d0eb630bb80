using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Streams;
using Durar.Actors;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Catalog;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Chat;

namespace Durar.Persistence.Tests.Serialization;

/// <summary>What a sample that holds live references is built from: an actor and a stream of chat events.</summary>
public sealed record WireSampleRefs(IActorRef Actor, ISourceRef<ChatEvent> Events);

/// <summary>
/// At least one sample of every <see cref="IDurarWireMessage"/> type of Durar.Actors, every field set where the type allows
/// it (plus the all-null shapes). <see cref="Plain"/> holds samples without live references; <see cref="WithRefs"/> builds
/// those that carry an <see cref="IActorRef"/> or a stream ref. A reflection spec fails when a wire type has no sample.
/// </summary>
internal static class WireSamples
{
    // Non-UTC offsets and sub-millisecond ticks: both must survive the round trip.
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567);

    /// <summary>An OpenAI <c>tools</c> array with nesting, unicode, numbers and a literal that looks like a type name.</summary>
    public const string ToolsJson = """
        [{"type":"function","function":{"name":"get_weather","description":"Wetter für \"heute\" ✓","parameters":{"type":"object","properties":{"city":{"type":"string","enum":["Köln","Zürich"]},"days":{"type":"integer","minimum":1,"maximum":14.5}},"required":["city"],"additionalProperties":false,"$type":"System.Object"}}},{"type":"function","function":{"name":"noop","parameters":{}}}]
        """;

    public static JsonElement Tools => JsonDocument.Parse(ToolsJson).RootElement.Clone();

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static ChatRequest FullRequest => new()
    {
        Messages =
        [
            new ChatMessage("system", "Be brief."),
            new ChatMessage("user", null)
            {
                Parts = [new ContentPart("text", "What is this?"), new ContentPart("image_url", ImageUrl: "data:image/png;base64,iVBORw0KGgo=", Detail: "low")],
            },
            new ChatMessage("assistant", null)
            {
                ToolCalls = [new ToolCall("call_1", "get_weather", """{"city":"Köln"}""")], Refusal = "partly", Reasoning = "because", ReasoningSignature = "sig",
            },
            new ChatMessage("user", null)
            {
                Parts =
                [
                    new ContentPart(ContentPartTypes.InputAudio) { Data = "UklGRg==", Format = "wav" },
                    new ContentPart(ContentPartTypes.File) { Data = "data:application/pdf;base64,JVBERi0=", FileName = "a.pdf" },
                    new ContentPart(ContentPartTypes.File) { FileId = "file-1" },
                ],
            },
            new ChatMessage("tool", "{\"temp\":21.5}") { ToolCallId = "call_1", Name = "get_weather" },
        ],
        Tools = Tools,
        ToolChoice = JsonDocument.Parse("""{"type":"function","function":{"name":"get_weather"}}""").RootElement.Clone(),
        MaxTokens = 512,
        Temperature = 0.7,
        TopP = 0.95,
        FrequencyPenalty = -0.5,
        PresencePenalty = 1.25,
        Seed = 9_007_199_254_740_993,
        Stop = ["\n\n", "END"],
        User = "user-42",
        Stream = true,
        IncludeUsage = true,
        ReasoningEffort = "high",
        ThinkingBudgetTokens = 16_000,
        FastMode = false,
        ParallelToolCalls = false,
        ResponseFormat = Element("""{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object"},"strict":true}}"""),
        Metadata = Element("""{"user_id":"u-1"}"""),
        N = 2,
        Logprobs = true,
        TopLogprobs = 3,
        ServiceTier = "flex",
        Original = Element("""{"model":"m","messages":[],"future_field":{"x":1.50}}"""),
        Extra = ImmutableDictionary<string, JsonElement>.Empty.Add("verbosity", Element("\"low\"")),
        ResponsesOnly = ImmutableDictionary<string, JsonElement>.Empty.Add("truncation", Element("\"auto\"")).Add("text.verbosity", Element("\"low\"")),
        ReasoningSummary = "detailed",
    };

    public static SessionOverrides FullOverrides => new()
    {
        Model = "anthropic/claude-opus-4-6",
        ModelSource = OverrideSource.User,
        AuthProfile = "anthropic:default",
        AuthProfileSource = OverrideSource.Auto,
        AuthProfileCompactionCount = 2,
        Thinking = ThinkingLevel.XHigh,
        Fast = FastMode.Auto,
        ResponseUsage = ResponseUsageMode.Off,
        Queue = QueueMode.Collect,
        QueueDebounce = TimeSpan.FromMilliseconds(1500),
        QueueCap = 7,
        QueueDrop = QueueDropPolicy.Summarize,
    };

    public static SessionView FullView => new("s-1", FullOverrides, new UsageTotals(1200, 340, 100, 7, 0.0123456m), "openai/gpt-5.4", 17, true, 3, T0)
    {
        CompactionCount = 3,
        ContextTokens = 128_000,
        OutputCap = 16_384,
        InputBudget = 111_616,
        Tokenizer = "o200k_base",
        LastInputTokens = 90_210,
    };

    public static ApiKeyCredential SampleCredential => new("openai:oauth", "openai", "secret-access-1", "auth-profile")
    {
        Type = CredentialTypes.OAuth,
        ExpiresAt = T0.AddHours(1),
        OAuth = new OAuthGrant("secret-refresh-1", "https://127.0.0.1/oauth/token", "client-1"),
    };

    public static KeyStateView SampleKeyView => new("openai:key-1", "…abcd", "OPENAI_API_KEYS", "cooling", T0.AddSeconds(30), "rate_limit", 2,
        ImmutableDictionary<string, int>.Empty.Add("rate_limit", 2), T0, 17, 2) { Usage = new TokenUsage(100, 200, 3, 4), Cost = 0.5m };

    public static KeyHealth SampleKeyHealth => KeyHealth.Healthy with
    {
        CooldownUntil = T0.AddSeconds(30),
        CooldownReason = FailoverReason.RateLimit,
        ModelCooldowns = ImmutableDictionary<string, DateTimeOffset>.Empty.Add("gpt-5.4", T0.AddMinutes(1)),
        ErrorCount = 2,
        FailureCounts = ImmutableDictionary<string, int>.Empty.Add("rate_limit", 2),
        LastFailureAt = T0,
        UsageTotal = new TokenUsage(1, 2),
        CostTotal = 0.25m,
    };

    public static AuthProfileRevision SampleRevision => new("3f2b9c0d1e4a4b5c8d7e6f5a4b3c2d1e", 42);

    public static AuthProfileView SampleProfileView => new("openai:ops@example.com", "openai", "oauth", "ops@example.com", "…key1", "…tok1",
        "…acc1", "…ref1", 1_767_225_600_000, "https://127.0.0.1/oauth/token", "client-1", true, null, T0, T0.AddMinutes(5));

    public static IReadOnlyList<IDurarWireMessage> Plain { get; } =
    [
        // Session commands (Sessions/Messages/SessionCommands.cs)
        new SessionCommands.SendMessage("s-1", "Hello, \"world\" — ünïcode ✓", QueueMode.Interrupt, "openai/gpt-5.4",
            new List<ChatMessage> { new("user", "u1"), new("assistant", "a1"), new("user", "Hello") }, FullRequest),
        new SessionCommands.SendMessage("s-2", "/think high"),
        // A Responses API turn: its own messages (a tool result, an image) and the reply it continues.
        new SessionCommands.SendMessage("resp-0123456789abcdef0123456789abcdef", "look", null, "openai/gpt-5.4", null, FullRequest)
        {
            Input =
            [
                new ChatMessage("tool", "18C") { ToolCallId = "call_1" },
                new ChatMessage("user", null) { Parts = [new ContentPart(ContentPartTypes.Text, "look"), new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "data:image/png;base64,AAAA")] },
            ],
            After = 3,
        },
        new SessionCommands.GetSession("s-1"),
        new SessionCommands.GetMessages("s-1", 10, 500),
        new SessionCommands.PatchSession("s-1", "openai/gpt-5.4", "openai:default", ThinkingLevel.Max, FastMode.On, ResponseUsageMode.Full,
            QueueMode.Followup, ["authProfile", "queueMode"]),
        new SessionCommands.PatchSession("s-1", null, null, null, null, null, null, []),
        new SessionCommands.ResetSession("s-1"),
        new SessionCommands.DeleteSession("s-1"),
        new SessionCommands.CancelTurn("resp-0123456789abcdef0123456789abcdef", 3),
        new SessionCommands.SendMessage("s-3", "again") { IdempotencyKey = "retry-1" },
        new SessionCommands.GetRun("s-1", "run_0123456789abcdef01234567", TimeSpan.FromSeconds(30)),
        new SessionCommands.GetRun("s-1", "run_a", TimeSpan.Zero),
        new SessionCommands.AbortRun("s-1", "run_a", true),
        new SessionCommands.AbortRun("s-1", null, false),

        // Session replies
        new DirectivesApplied("s-1", "Thinking level set to high.\nModel reset to default.", FullView),
        new TurnRejected("s-1", 429, "The session queue is full (20 messages waiting).", "queue_full"),
        FullView,
        new SessionView("s-2", SessionOverrides.None, UsageTotals.Zero, null, 0, false, 0, null),
        new SessionView("s-3", SessionOverrides.None, UsageTotals.Zero, null, 0, false, 0, null)
            { Fallback = new FallbackNotice("openai/gpt-5.4", "anthropic/claude-opus-4-6", "rate_limit", T0) },
        new WatchSessionEvents("s-1"),
        new SessionView("s-4", SessionOverrides.None, UsageTotals.Zero, null, 1, false, 0, T0)
            { Failure = "The event at sequence number 2 cannot be read", FailedSequenceNr = 2 },
        new TranscriptPage("s-1", 0, 3,
        [
            new TranscriptEntry(1, "user", "Hi ✓", T0),
            new TranscriptEntry(2, "assistant", "Hello.", T0.AddSeconds(2), "openai/gpt-5.4", new TokenUsage(10, 5, 2, 1), 0.000123m) { ReplyTo = 1 },
            new TranscriptEntry(3, "error", "All models failed (2): ...", T0.ToOffset(TimeSpan.Zero)),
            new TranscriptEntry(4, "user", "", T0) { Messages = [new ChatMessage("tool", "18C") { ToolCallId = "call_1" }] },
            new TranscriptEntry(5, "assistant", "", T0, "openai/gpt-5.4") { ReplyTo = 4, ToolCalls = [new ToolCall("call_2", "get_weather", "{}")] },
        ]),
        new TranscriptPage("s-1", 40, 3, []),
        new SessionDeleted("s-1"),
        new TurnCancelled("resp-0123456789abcdef0123456789abcdef", 3, true),
        new RunView("s-1", "run_a", "done", T0, T0.AddSeconds(3), "openai/gpt-5.4", new TokenUsage(10, 5, 2, 1), null, null, null),
        new RunView("s-1", "run_b", "failed", T0, null, null, null, 503, "run_lost", "The session stopped before this run ended."),
        new AbortResult("s-1", true, ["run_a", "run_b"]),
        new AbortResult("s-1", false, []),
        new TranscriptPage("s-1", 0, 1, [new TranscriptEntry(2, "assistant", "part", T0, "openai/gpt-5.4") { ReplyTo = 1, Aborted = true }]),

        // The request model (Transports/ChatModel.cs)
        FullRequest,
        new ChatRequest { Messages = [] },
        new ChatMessage("user", "plain"),
        new ChatMessage("user", null) { Parts = default, ToolCalls = default },

        // Events on a session's reply stream (Transports/ChatModel.cs, Sessions/SessionRunEvents.cs)
        new StreamOpened(new RateLimitHints(TimeSpan.FromSeconds(1.5), true, TimeSpan.FromMinutes(1).Add(TimeSpan.FromTicks(7)))),
        new StreamOpened(RateLimitHints.None),
        new TextDelta("Hel"),
        new TextDelta(""),
        new ToolCallDelta(0, "call_1", "get_weather", "{\"ci"),
        new ToolCallDelta(1, null, null, null),
        new UsageReport(new TokenUsage(1200, 340, 100, 7)),
        new Finished("tool_calls"),
        new Finished("stop") { Choice = 2 },
        new TextDelta("two") { Choice = 1, Logprobs = Element("""{"content":[{"token":"two","logprob":-0.25}]}""") },
        new ReasoningDelta("thinking") { Signature = "sig-1" },
        new ReasoningDelta("") { Redacted = "opaque" },
        new RefusalDelta("no") { Choice = 1 },
        new DeltaExtra(Element("""{"annotations":[{"type":"url_citation"}]}""")) { ChoiceFields = Element("""{"native_finish_reason":"STOP"}""") },
        new StreamMeta(null, null, "fp_1", "default") { Extra = Element("""{"provider":"x"}""") },
        new StreamContinued([new ContinuationPoint("openai/gpt-5.4", "timeout", 120, "anthropic/claude-opus-4-6")]),
        new StreamOpened(RateLimitHints.None) { Headers = new UpstreamHeaders([new("x-request-id", "req_1")]) },
        new UpstreamHeaders([new("x-ratelimit-remaining-requests", "9")]),
        new UsageReport(new TokenUsage(1, 2) { Reasoning = 1 }) { Raw = Element("""{"prompt_tokens":1,"completion_tokens":2}""") },
        new SessionRunError(429, "Rate limited.", "rate_limit_error", "rate_limited", TimeSpan.FromSeconds(30)),
        new SessionRunError(409, "The run was interrupted by a newer message.", "conflict_error", "interrupted"),
        new RunModel("openai/gpt-5.4"),
        new RunModel("anthropic/claude-opus-4-6") { Fallback = new FallbackNotice("openai/gpt-5.4", "anthropic/claude-opus-4-6", null, T0) },
        new Durar.Actors.Sessions.Watching.SessionWatchEvent(42, "run.finished", "{\"runIds\":[\"run_a\"],\"content\":\"Hi ✓\"}"),
        new Durar.Actors.Sessions.Watching.SessionWatchEvent(0, "delta", "{\"text\":\"\\n\"}"),
        // Provider and key protocol (keys are cluster-wide sharded actors; providers on every node talk to them).
        new ProviderCommands.AcquireKey("openai", "gpt-5.4", ["openai:key-1"], ProbeMode.PrimaryMargin) { PreferredKeyId = "openai:key-2", Hops = 1 },
        new ProviderCommands.AcquireKey("openai", "gpt-5.4", []),
        new ProviderCommands.ResetKey("openai", "openai:key-1"),
        new KeyResetDone("openai:key-1", true),
        new NoKeyAvailable("openai", "Provider openai is in cooldown (all profiles unavailable).", FailoverReason.RateLimit, T0),
        new NoKeyAvailable("openai", "No API keys configured.", FailoverReason.Auth, null),
        new KeyCommands.ReportOutcome("openai:key-1", "gpt-5.4", new AttemptOutcome.Failed(FailoverReason.RateLimit,
            new RateLimitHints(TimeSpan.FromSeconds(30), false, null), "429 Too Many Requests")),
        new KeyCommands.ReportOutcome("openai:key-1", "gpt-5.4", new AttemptOutcome.Succeeded(RateLimitHints.None, new TokenUsage(10, 20)) { Cost = 0.00042m }),
        new KeyCommands.ReportOutcome("openai:key-1", "gpt-5.4", new AttemptOutcome.Cancelled()),
        new KeyCommands.ReportUsage("openai:key-1", 17, new TokenUsage(170, 340, 5), 0.0071m, T0),
        new KeyCommands.ReportUsage("openai:key-1", 1, null, 0m, T0),
        KeyCommands.Stop.Instance,
        new CredentialRefreshed("openai", "openai:oauth", "secret-access-new", "secret-refresh-new", T0),
        new KeyCredentialChanged(SampleCredential),
        new KeyStateChanged(SampleKeyView, SampleKeyHealth) { LimitedUntil = T0.AddSeconds(42) },
        new KeyStateChanged(SampleKeyView with { FailureCounts = ImmutableDictionary<string, int>.Empty }, KeyHealth.Healthy),
        // Auth-profile store protocol (AuthProfiles/Messages): admin commands to the cluster singleton, its replies, credential sets.
        AuthProfileCommands.ListProfiles.Instance,
        new AuthProfileCommands.UpsertProfile(new AuthProfileInput("openai", "oauth", "ops@example.com", "openai:ops@example.com", Key: null,
            Token: null, Access: "secret-access-1", Refresh: "secret-refresh-1", Expires: 8_640_000_000_000_000, TokenUrl: "https://127.0.0.1/oauth/token", ClientId: "client-1")),
        new AuthProfileCommands.UpsertProfile(new AuthProfileInput("anthropic", "api_key", Key: "secret-sk-ant-1")),
        new AuthProfileCommands.UpsertProfile(new AuthProfileInput(null, null)),
        new AuthProfileCommands.RemoveProfile("openai:default"),
        new AuthProfileCommands.SetOrder("openai", ["openai:default", "OPENAI_API_KEY"]),
        new AuthProfileCommands.SetOrder("openai", []),
        new AuthProfileCommands.SetOrder("openai", default),
        new AuthProfileList([SampleProfileView, SampleProfileView with { Key = null, Access = "…at-1", Eligible = false, Reason = "expired", Email = null }],
            ImmutableSortedDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal).Add("openai", ["openai:default", "OPENAI_API_KEY"])),
        new AuthProfileList([], ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty),
        new AuthProfileSaved(SampleProfileView, true) { Revision = SampleRevision },
        new AuthProfileSaved(SampleProfileView, false),
        new AuthProfileRejected("`provider` is required.", "provider"),
        new AuthProfileRejected("The body must be an object.", null),
        new AuthProfileNotSaved("openai:default", "The secret of profile openai:default could not be encrypted (IOException)."),
        new AuthProfileDeleted("openai:default", true) { Revision = SampleRevision },
        new AuthProfileDeleted("openai:gone", false),
        new AuthProfileOrderSaved("openai", ["OPENAI_API_KEY"]) { Revision = SampleRevision },
        new AuthProfileOrderSaved("openai", []),
        new AuthProfileCredentials(SampleRevision, [SampleCredential, new ApiKeyCredential("anthropic:default", "anthropic", "secret-sk-ant-1", "auth-profile")],
            ImmutableSortedDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal).Add("openai", ["openai:oauth"])),
        new AuthProfileCredentials(new AuthProfileRevision("0", 0), [], ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty),
        AuthProfileSubscription.StoreStarted.Instance,
        // Client tokens (ClientTokens/Messages): the admin API and the access check to the sharded token entities.
        new ClientTokenCommands.Create("0123456789abcdef", PersistableSamples.FullTokenSpec, new string('a', 64)),
        new ClientTokenCommands.Create("0123456789abcdef", PersistableSamples.BareTokenSpec, new string('a', 64)),
        new ClientTokenCommands.Rotate("0123456789abcdef", new string('b', 64)),
        new ClientTokenCommands.Revoke("0123456789abcdef"),
        new ClientTokenCommands.Get("0123456789abcdef"),
        new ClientTokenCommands.Authorize("0123456789abcdef", new string('a', 64)),
        new ClientTokenCommands.ReportUsage("0123456789abcdef", 120, 34, 0.0012345m),
        new ClientTokenCommands.ReportUsage("0123456789abcdef", 5120, 534, 0.0231m, Requests: 0),
        new ClientTokenCommands.Register("0123456789abcdef"),
        ClientTokenCommands.List.Instance,
        new ClientTokenReply(new ClientTokenView("0123456789abcdef", PersistableSamples.FullTokenSpec, "active", T0, T0.AddDays(1), null,
            new ClientTokenUsage(3, 30, 40, 0.5m), 0.25m, T0.AddDays(2)), null),
        new ClientTokenReply(null, "not_found"),
        new TokenIds(["0123456789abcdef"]),
        new TokenIds([]),
        new AuthorizeReply(AuthorizeVerdicts.Ok, PersistableSamples.FullTokenSpec, null),
        new AuthorizeReply(AuthorizeVerdicts.BudgetExceeded, null, T0.AddDays(1)),
    ];

    /// <summary>Samples holding live references, built per actor system.</summary>
    public static IReadOnlyList<Func<WireSampleRefs, IDurarWireMessage>> WithRefs { get; } =
    [
        r => new TurnAccepted("s-1", 7, r.Events, ResponseUsageMode.Tokens),
        r => new TurnAccepted("s-1", 8, r.Events, ResponseUsageMode.Off) { Host = r.Actor },
        r => new TurnAccepted("s-1", 9, r.Events, ResponseUsageMode.Off) { Host = r.Actor, RunId = "run_0123456789abcdef01234567" },
        r => new EventsWatched("s-1", 17, r.Events) { Host = r.Actor },
        r => new EventsWatched("s-1", 0, r.Events),
        r => new RefCarrier(r.Actor, null, new TextDelta("last"), [new RunModel("m"), new TextDelta("x"), new Finished("stop")], T0),
        // A lease crosses the cluster without its secret (not serialized); the requesting node completes it from its own copy.
        r => new KeyLease("openai:key-1", null, r.Actor) { HasSecret = true, CredentialExpiresAt = T0 },
        r => new KeyLease("ollama:none", null, r.Actor),
        r => new KeyCommands.UpdateCredential(SampleCredential, r.Actor),
        r => new KeyCommands.UpdateCredential(SampleCredential with { OAuth = null }, null),
        r => new KeyCommands.Attach(r.Actor, SampleCredential, null, new KeyLimits(60, 100_000)),
        r => new KeyCommands.Attach(r.Actor, ApiKeyCredential.For("openai", "secret-sk-plain", "OPENAI_API_KEY"), r.Actor, KeyLimits.None),
        r => new KeyCommands.Detach(r.Actor),
        r => new AuthProfileSubscription.Subscribe(r.Actor, SampleRevision),
        r => new AuthProfileSubscription.Subscribe(r.Actor, null),
    ];

    public static int Count => Plain.Count + WithRefs.Count;

    /// <summary>Every secret the samples hold (credentials, tokens, keys): <c>WireSecretSpecs</c> looks for them in the serialized bytes.</summary>
    public static readonly IReadOnlyList<string> Secrets =
        ["secret-access-1", "secret-refresh-1", "secret-sk-ant-1", "secret-sk-plain", "secret-access-new", "secret-refresh-new", "sk-secret"];

    public static IDurarWireMessage Get(int index, WireSampleRefs refs) => index < Plain.Count ? Plain[index] : WithRefs[index - Plain.Count](refs);

    public static TheoryData<int> Indexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Count; i++) data.Add(i);
        return data;
    }
}

/// <summary>
/// A wire type of this test assembly (scanned through <c>akka.actor.serialization-settings.durar-wire.assemblies</c>): actor
/// refs and properties typed as an abstract record, the shape of the provider protocol's key leases and attempt outcomes.
/// </summary>
public sealed record RefCarrier(IActorRef Target, IActorRef? ReplyTo, ChatEvent Last, ImmutableArray<ChatEvent> Events, DateTimeOffset At)
    : IDurarWireMessage;

/// <summary>A C4-style singleton signal of this test assembly: no public constructor, one static instance.</summary>
public sealed class WireSignal : IDurarWireMessage
{
    public static WireSignal Instance { get; } = new();
    private WireSignal() { }
}
