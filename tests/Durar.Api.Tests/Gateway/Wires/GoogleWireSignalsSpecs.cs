using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// What the three Gemini wires carry beyond the shared conformance cases (<see cref="WireConformanceSpecs"/>): the cached
/// prompt tokens of Gemini's usage metadata reach the OpenAI SDK's cached-token count, and a 429's own wait (Gemini's
/// <c>RetryInfo.retryDelay</c>) cools the key for as long as it asked, not the schedule's first step.
/// </summary>
public sealed class GoogleWireSignalsSpecs
{
    public static TheoryData<WireCase> GeminiWires() => [WireCase.GoogleGenerativeAi, WireCase.GoogleVertex, WireCase.GoogleGeminiCli];

    [Theory]
    [MemberData(nameof(GeminiWires))]
    public async Task Should_report_the_cached_prompt_tokens_the_sdk_reads(WireCase wire)
    {
        await using var gw = await wire.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "ok", PromptTokens = 10, CacheReadTokens = 4, CompletionTokens = 5 });

        var usage = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("hi")])).Value.Usage;

        Assert.Equal((14, 4, 5), (usage.InputTokenCount, usage.InputTokenDetails.CachedTokenCount, usage.OutputTokenCount));
    }

    [Theory]
    [MemberData(nameof(GeminiWires))]
    public async Task Should_cool_the_key_for_as_long_as_the_retry_delay_asked(WireCase wire)
    {
        await using var gw = await wire.StartAsync();
        // 45 s: longer than the schedule's first step (30 s), so only the upstream's own signal explains it.
        gw.Fake.Script = r => wire.KeyOf(r) == WireCase.KeyA ? FakeResponse.RateLimited("45") : null;
        var before = DateTimeOffset.UtcNow;

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("hello")])).Value;

        Assert.NotEmpty(completion.Content[0].Text);
        var a = await gw.WaitForKeyStateAsync(wire.ProviderId, WireCase.KeyA, "cooling");
        Assert.Equal("rate_limit", a.GetProperty("reason").GetString());
        Assert.InRange(a.Until()!.Value, before + TimeSpan.FromSeconds(40), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(50));
    }
}
