using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Context;

namespace Durar.Actors.Tests.Sessions.Context;

/// <summary>
/// The token counts a session budget relies on. The expected o200k_base and cl100k_base counts were produced by OpenAI's
/// own tiktoken (the <c>tiktoken</c> npm package 1.0.22, its Rust core compiled to WASM), not by the library under test.
/// </summary>
public sealed class TokenCounterSpecs
{
    [Theory]
    [InlineData("hello world", 2)]
    [InlineData("Hello, world!", 4)]
    [InlineData("tiktoken is great!", 6)]
    [InlineData("antidisestablishmentarianism", 6)]
    [InlineData("お誕生日おめでとう", 8)]
    [InlineData("The quick brown fox jumps over the lazy dog.", 10)]
    [InlineData("Durar keeps every session turn within its model's context.", 12)]
    public void Should_count_o200k_base_as_tiktoken_does(string text, int tokens) =>
        Assert.Equal(tokens, TokenCounter.O200kBase.Count(text));

    [Theory]
    [InlineData("Hello, world!", 4)]
    [InlineData("お誕生日おめでとう", 9)]
    public void Should_count_cl100k_base_as_tiktoken_does(string text, int tokens) =>
        Assert.Equal(tokens, TokenCounter.Cl100kBase.Count(text));

    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("gpt-4.1-nano", "o200k_base")]
    [InlineData("gpt-5.4", "o200k_base")]
    [InlineData("openai/gpt-5", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("o1", "o200k_base")]
    [InlineData("gpt-oss-120b", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("claude-opus-4-6", "estimate")]
    [InlineData("o1x", "estimate")]
    [InlineData("gpt-fake", "estimate")]
    [InlineData(null, "estimate")]
    public void Should_pick_the_encoding_by_model_family(string? model, string counter) =>
        Assert.Equal(counter, TokenCounter.For(model).Name);

    [Theory]
    [InlineData("", 0)]
    [InlineData("a", 1)]
    [InlineData("abcd", 1)]
    [InlineData("abcde", 2)]
    [InlineData("123456789", 3)]
    public void Should_estimate_one_token_per_four_characters_rounded_up(string text, int tokens) =>
        Assert.Equal(tokens, TokenCounter.Estimate.Count(text));

    [Fact]
    public void Should_add_the_message_framing_and_count_parts_and_tool_calls()
    {
        var plain = new ChatMessage("user", "Hello, world!");
        Assert.Equal(TokenCounter.PerMessage + 4, TokenCounter.O200kBase.Count(plain));

        var parts = new ChatMessage("user", null) { Parts = [new ContentPart(ContentPartTypes.Text, "hello world"), new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "https://x/y.png")] };
        Assert.Equal(TokenCounter.PerMessage + 2 + TokenCounter.PerAttachment, TokenCounter.O200kBase.Count(parts));

        var call = new ChatMessage("assistant", null) { ToolCalls = [new ToolCall("c1", "lookup", "{\"q\":\"tides\"}")] };
        Assert.Equal(TokenCounter.PerMessage + TokenCounter.O200kBase.Count("lookup") + TokenCounter.O200kBase.Count("{\"q\":\"tides\"}"),
            TokenCounter.O200kBase.Count(call));
    }

    [Fact]
    public void Should_count_a_transcript_entry_once_per_counter_and_keep_it_out_of_equality()
    {
        var entry = new TranscriptEntry(1, "user", "hello world", DateTimeOffset.UnixEpoch);
        var twin = new TranscriptEntry(1, "user", "hello world", DateTimeOffset.UnixEpoch);

        Assert.Equal(TokenCounter.PerMessage + 2, entry.Tokens(TokenCounter.O200kBase));
        Assert.Equal(TokenCounter.PerMessage + 3, entry.Tokens(TokenCounter.Estimate)); // 11 chars → 3: not the o200k count
        Assert.Equal(TokenCounter.PerMessage + 2, entry.Tokens(TokenCounter.O200kBase));
        Assert.Equal(twin, entry);
        Assert.Equal(twin.GetHashCode(), entry.GetHashCode());
    }
}
