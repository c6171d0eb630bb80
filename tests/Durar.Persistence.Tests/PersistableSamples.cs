using Durar.Actors.Sessions.Runs;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using System.Collections.Immutable;
using Durar.Actors;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Persistence.Tests;

/// <summary>
/// At least one sample of every <see cref="IDurarPersistable"/> type, with every field set to a non-default value where the
/// type allows it (plus the all-null shapes). A reflection spec fails when a persistable type has no sample here.
/// </summary>
internal static class PersistableSamples
{
    // Non-UTC offsets and sub-millisecond ticks: both must survive the round trip.
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567);

    public static readonly KeyHealth FullHealth = new(
        CooldownUntil: T0.AddMinutes(5),
        CooldownReason: FailoverReason.RateLimit,
        ModelCooldowns: ImmutableDictionary<string, DateTimeOffset>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase)
            .Add("GPT-5.4", T0.AddMinutes(1))
            .Add("claude-opus-4-6", T0.AddSeconds(90).ToOffset(TimeSpan.Zero)),
        DisabledUntil: T0.AddHours(1),
        DisabledReason: FailoverReason.AuthPermanent,
        ErrorCount: 3,
        FailureCounts: ImmutableDictionary<string, int>.Empty.Add("rate_limit", 2).Add("auth_permanent", 1),
        LastFailureAt: T0.AddSeconds(-1),
        LastUsed: T0.AddSeconds(-2));

    /// <summary>Every field set; the protected fields stand for ciphertext (the serializer never sees a plaintext secret).</summary>
    public static readonly StoredProfile OAuthProfile = new("openai:ops@example.com", "openai", "oauth", "ops@example.com",
        null, null, "CfDJ8-access", "CfDJ8-refresh", 1_772_366_400_000, "https://auth.example.com/oauth/token", "client-1", T0, T0.AddMinutes(1));

    public static readonly StoredProfile ApiKeyProfile = new("openai:default", "openai", "api_key", null,
        "CfDJ8-key", null, null, null, null, null, null, T0, T0);

    /// <summary>Every field of a client token's spec set.</summary>
    public static readonly ClientTokenSpec FullTokenSpec = new("ci bot ✓", [ClientTokenScopes.Chat, ClientTokenScopes.Sessions], ["openai/*", "anthropic/claude-fake"],
        60, 100_000, 12.5m, BudgetPeriods.Month, T0.AddDays(30));

    /// <summary>A spec with every optional field empty.</summary>
    public static readonly ClientTokenSpec BareTokenSpec = new("", [ClientTokenScopes.Chat], [], null, null, null, BudgetPeriods.Day, null);

    public static IReadOnlyList<IDurarPersistable> All { get; } =
    [
        new ClientTokenEvents.Created("0123456789abcdef", FullTokenSpec, new string('a', 64), T0),
        new ClientTokenEvents.Created("0123456789abcdef", BareTokenSpec, new string('b', 64), T0),
        new ClientTokenEvents.Rotated(new string('c', 64), T0),
        new ClientTokenEvents.Revoked(T0),
        new ClientTokenEvents.Used(1, 1200, 340, 0.0123456m, T0),
        new ClientTokenSnapshot(new ClientTokenState("0123456789abcdef", FullTokenSpec, new string('a', 64), T0, T0.AddDays(1), T0.AddDays(2),
            new ClientTokenUsage(3, 30, 40, 0.5m), T0.AddDays(-1), 0.25m)),
        new ClientTokenRegistered("0123456789abcdef"),
        new TokenIdsSnapshot(["0123456789abcdef", "fedcba9876543210"]),
        new TokenIdsSnapshot([]),
        new KeyEvents.Failed(T0, FailoverReason.RateLimit, "GPT-5.4", true, T0.AddMinutes(1), T0.AddMinutes(2), T0.AddMinutes(3), true),
        new KeyEvents.Failed(T0, FailoverReason.Format, null, false, null, null, null, false),
        new KeyEvents.Recovered(T0),
        new KeyEvents.Exhausted(T0, "gpt-5.4-mini", T0.AddSeconds(20)),
        new KeyEvents.Exhausted(T0, null, T0.AddMilliseconds(1)),
        new KeyEvents.Reset(T0),
        new KeyEvents.Used(T0.AddDays(-400)),
        new KeyEvents.Used(T0) { UsageDelta = new TokenUsage(1200, 340, 100, 7), CostDelta = 0.0123456m },
        new KeyHealthSnapshot(FullHealth),
        new KeyHealthSnapshot(KeyHealth.Healthy),
        new AuthProfileEvents.ProfileUpserted(OAuthProfile, T0),
        new AuthProfileEvents.ProfileUpserted(ApiKeyProfile, T0.AddSeconds(1)),
        new AuthProfileEvents.ProfileRemoved("openai:default", T0),
        new AuthProfileEvents.OrderSet("openai", ["openai:ops@example.com", "openai:default", "OPENAI_API_KEY_2"], T0),
        new AuthProfileEvents.OrderSet("anthropic", [], T0),
        new AuthProfileEvents.OAuthRefreshed("openai:ops@example.com", "CfDJ8-access-ciphertext", "CfDJ8-refresh-ciphertext", 1_772_366_400_000, T0),
        new AuthProfileStoreSnapshot([OAuthProfile, ApiKeyProfile],
            ImmutableDictionary<string, ImmutableArray<string>>.Empty.Add("openai", ["openai:default", "openai:ops@example.com"])),
        new AuthProfileStoreSnapshot([], ImmutableDictionary<string, ImmutableArray<string>>.Empty),
        new SessionEvents.UserMessageAccepted(T0, "Hello, \"world\" — ünïcode ✓"),
        new SessionEvents.AssistantReplied(T0, "Hi.", "openai/gpt-5.4", "openai:key-0a1b2c3d", new TokenUsage(10, 5, 2, 1), 0.000123m) { ReplyTo = 7 },
        new SessionEvents.AssistantReplied(T0, "", "echo/echo", null, null, 0m),
        // A Responses API turn: its own messages, and a reply that called a tool.
        new SessionEvents.UserMessageAccepted(T0, "look")
        {
            Messages = [new ChatMessage("tool", "18C") { ToolCallId = "call_1" }, new ChatMessage("user", null) { Parts = [new ContentPart(ContentPartTypes.Text, "look")] }],
        },
        new SessionEvents.AssistantReplied(T0, "", "openai/gpt-5.4", null, null, 0m) { ReplyTo = 8, ToolCalls = [new ToolCall("call_2", "get_weather", "{\"city\":\"Paris\"}")] },
        new SessionEvents.AssistantReplied(T0, "After.", "openai/gpt-5.4", null, null, 0m) { ReplyTo = 9, InputTokens = 1790 },
        new SessionEvents.Compacted(T0, 41, "Ada asked about \"tides\" ✓; the moon's pull was explained.", "openai/gpt-5.4-mini", 2100, 640)
            { Usage = new TokenUsage(1800, 120), Cost = 0.00042m },
        new SessionEvents.Compacted(T0, 3, "", "echo/echo", 10, 5),
        new SessionEvents.RunFailed(T0, "All models failed (2): ...", 502),
        new SessionEvents.OverridesChanged(T0, FullOverrides),
        new SessionEvents.OverridesChanged(T0, SessionOverrides.None),
        new SessionEvents.SessionReset(T0),
        new SessionSnapshot(SessionState.Empty),
        new SessionSnapshot(SessionState.Empty
            .Apply(new SessionEvents.UserMessageAccepted(T0, "u1"))
            .Apply(new SessionEvents.AssistantReplied(T0, "a1", "openai/gpt-5.4", "openai:default", new TokenUsage(3, 4), 0.5m) { ReplyTo = 1 })
            .Apply(new SessionEvents.OverridesChanged(T0, FullOverrides))),
        new SessionSnapshot(SessionState.Empty
            .Apply(new SessionEvents.UserMessageAccepted(T0, "u1"))
            .Apply(new SessionEvents.AssistantReplied(T0, "a1", "openai/gpt-5.4", null, null, 0m) { ReplyTo = 1, InputTokens = 12 })
            .Apply(new SessionEvents.UserMessageAccepted(T0, "u2"))
            .Apply(new SessionEvents.Compacted(T0, 3, "u1 said hello.", "openai/gpt-5.4", 30, 20))),
        // Runs (issue 18): ids and idempotency keys journaled with the turn, how each run ended, and the ledger in the snapshot.
        new SessionEvents.UserMessageAccepted(T0, "u2") { RunId = "run_0123456789abcdef01234567", IdempotencyKey = "retry-7 ✓" },
        new SessionEvents.AssistantReplied(T0, "partial", "openai/gpt-5.4", null, null, 0m)
            { ReplyTo = 2, RunIds = ["run_0123456789abcdef01234567", "run_b"], Aborted = true, Finish = "length" },
        new SessionEvents.RunFailed(T0, "The run was aborted.", 409) { RunIds = ["run_c"], Code = "aborted" },
        new SessionEvents.RunsDropped(T0, ["run_d", "run_e"], 409, "aborted", "The run was aborted before it started."),
        new SessionSnapshot(SessionState.Empty) { Runs = SampleLedger },
        // Fallback notices (issue 18): the notice given once, its clearing, and the notice in a snapshot.
        new SessionEvents.FallbackNoticed(T0, "openai/gpt-5.4", "anthropic/claude-opus-4-6", "rate_limit"),
        new SessionEvents.FallbackNoticed(T0, "openai/gpt-5.4", "anthropic/claude-opus-4-6", null),
        new SessionEvents.FallbackCleared(T0, "openai/gpt-5.4"),
        new SessionSnapshot(SessionState.Empty.Apply(new SessionEvents.FallbackNoticed(T0, "openai/gpt-5.4", "anthropic/claude-opus-4-6", "timeout"))),
        // The resident window (issue 13): a snapshot holds the newest entries and where the older ones are in the journal.
        new SessionSnapshot(SessionState.Empty.Apply(new SessionEvents.UserMessageAccepted(T0, "u41")) with
            { NextSeq = 42, Archive = new TranscriptArchive(12, 1, 0, 40) }),
    ];

    public static SessionRunLedger SampleLedger => SessionRunLedger.Empty
        .Apply(new SessionEvents.UserMessageAccepted(T0, "u1") { RunId = "run_a", IdempotencyKey = "k1" }, 1, 100)
        .Apply(new SessionEvents.AssistantReplied(T0, "a1", "openai/gpt-5.4", "openai:default", new TokenUsage(3, 4), 0.5m)
            { ReplyTo = 1, RunIds = ["run_a"], Finish = "length" }, 2, 100)
        .Apply(new SessionEvents.UserMessageAccepted(T0, "u2") { RunId = "run_b" }, 3, 100)
        .Apply(new SessionEvents.RunFailed(T0, "All models failed", 502) { RunIds = ["run_b"], Code = "upstream_error" }, 4, 100)
        .Apply(new SessionEvents.UserMessageAccepted(T0, "u3") { RunId = "run_c" }, 5, 100);

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

    public static TheoryData<int> Indexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < All.Count; i++) data.Add(i);
        return data;
    }
}
