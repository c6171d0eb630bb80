using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Hosting;
using Microsoft.Extensions.AI;

namespace Durar.Actors.Tests.Hosting;

/// <summary>Canonical events and usage onto Microsoft.Extensions.AI updates, as its OpenAI adapter reports them.</summary>
public sealed class ChatResponseMapperSpecs
{
    private static List<ChatResponseUpdate> Stream(ChatResponseMapper.Streaming mapper, params ChatEvent[] events)
    {
        var updates = events.Select(mapper.Map).OfType<ChatResponseUpdate>().ToList();
        if (mapper.Complete() is { } last) updates.Add(last);
        return updates;
    }

    [Fact]
    public void Should_stream_reasoning_and_text_and_assemble_tool_calls_and_refusal_at_the_end()
    {
        var events = new ChatEvent[]
        {
            new StreamMeta("chatcmpl-9", 1_700_000_000, "fp_1", null),
            new ReasoningDelta("Let me "), new ReasoningDelta("think.") , new ReasoningDelta("") { Signature = "sig-9" },
            new TextDelta("Calling"),
            new ToolCallDelta(0, "call_a", "get_weather", "{\"ci"), new ToolCallDelta(1, "call_b", "get_time", "{}"),
            new ToolCallDelta(0, null, null, "ty\":\"Paris\"}"),
            new RefusalDelta("partly "), new RefusalDelta("refused"),
            new TextDelta("ignored") { Choice = 1 },
            new Finished("tool_calls"),
            new UsageReport(new TokenUsage(10, 20) { Reasoning = 5 }),
        };
        var updates = Stream(new ChatResponseMapper.Streaming("fakeoai/gpt-fake", omitReasoning: false, attempts: 2, dropped: ["store"]), events);

        // Every choice-0 event is an update (the choice-1 text is not), plus one with the assembled calls.
        Assert.Equal(events.Length - 1 + 1, updates.Count);
        Assert.All(updates, u => Assert.Equal(("chatcmpl-9", "fakeoai/gpt-fake", ChatRole.Assistant), (u.ResponseId!, u.ModelId!, u.Role!.Value)));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), updates[0].CreatedAt);
        Assert.Equal(2, updates[0].AdditionalProperties![ChatResponseMapper.AttemptsKey]);
        Assert.Equal(["store"], (string[])updates[0].AdditionalProperties![ChatResponseMapper.DroppedKey]!);
        Assert.IsType<TextDelta>(updates[4].RawRepresentation);

        var response = updates.ToChatResponse();
        var message = Assert.Single(response.Messages);
        var reasoning = Assert.Single(message.Contents.OfType<TextReasoningContent>());
        Assert.Equal(("Let me think.", "sig-9"), (reasoning.Text, reasoning.ProtectedData));
        Assert.Equal("Calling", response.Text);
        var calls = message.Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(["call_a", "call_b"], calls.Select(c => c.CallId));
        Assert.Equal("Paris", calls[0].Arguments!["city"]!.ToString());
        Assert.Equal("refused", Assert.Single(message.Contents.OfType<ErrorContent>()).Message.Split(' ')[1]);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal((10, 20, 30, 5), (response.Usage!.InputTokenCount, response.Usage.OutputTokenCount, response.Usage.TotalTokenCount, response.Usage.ReasoningTokenCount));
        // The calls come once, complete, in the last update only.
        Assert.All(updates.SkipLast(1), u => Assert.Empty(u.Contents.OfType<FunctionCallContent>()));
    }

    [Fact]
    public void Should_leave_reasoning_out_when_no_reasoning_output_was_asked_for()
    {
        var updates = Stream(new ChatResponseMapper.Streaming("m", omitReasoning: true, 1, []), new ReasoningDelta("secret"), new TextDelta("answer"));
        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
        Assert.Equal("answer", updates.ToChatResponse().Text);
    }

    [Fact]
    public void Should_keep_redacted_reasoning_as_marked_protected_data_and_unknown_finish_reasons_as_they_are()
    {
        var updates = Stream(new ChatResponseMapper.Streaming("m", false, 1, []), new ReasoningDelta("") { Redacted = "opaque" }, new Finished("pause_turn"));
        var redacted = Assert.Single(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
        Assert.Equal("opaque", redacted.ProtectedData);
        Assert.True((bool)redacted.AdditionalProperties![ChatMessageMapper.RedactedKey]!);
        Assert.Equal("pause_turn", updates[^1].FinishReason!.Value.Value);
    }

    [Fact]
    public void Should_give_logprobs_beside_the_text_they_belong_to()
    {
        var logprobs = JsonDocument.Parse("""{"content":[{"token":"Hi","logprob":-0.1}]}""").RootElement;
        var update = Assert.Single(Stream(new ChatResponseMapper.Streaming("m", false, 1, []), new TextDelta("Hi") { Logprobs = logprobs }));
        Assert.Equal(logprobs.GetRawText(), ((JsonElement)update.AdditionalProperties!["logprobs"]!).GetRawText());
    }

    [Fact]
    public void Should_map_usage_details_from_the_upstream_usage_object()
    {
        var raw = JsonDocument.Parse("""
            {"prompt_tokens":100,"completion_tokens":40,"total_tokens":140,
             "prompt_tokens_details":{"cached_tokens":64,"audio_tokens":3},
             "completion_tokens_details":{"reasoning_tokens":12,"audio_tokens":0,"accepted_prediction_tokens":7,"rejected_prediction_tokens":1}}
            """).RootElement;
        var usage = ChatResponseMapper.Usage(new TokenUsage(100, 40, CacheRead: 64, CacheWrite: 9) { Reasoning = 12 }, raw)!;

        Assert.Equal((100, 40, 140, 64, 12), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount, usage.CachedInputTokenCount, usage.ReasoningTokenCount));
        Assert.Equal(new Dictionary<string, long>
        {
            ["cache_creation_input_tokens"] = 9,
            ["prompt_tokens_details.audio_tokens"] = 3,
            ["completion_tokens_details.audio_tokens"] = 0,
            ["completion_tokens_details.accepted_prediction_tokens"] = 7,
            ["completion_tokens_details.rejected_prediction_tokens"] = 1,
        }, usage.AdditionalCounts!.ToDictionary());
    }

    [Fact]
    public void Should_count_cached_input_inside_the_input_as_openai_does_when_there_is_no_usage_object()
    {
        // The neutral buckets do not overlap (fresh 36 + cached 64); Microsoft.Extensions.AI's input includes the cached part.
        var usage = ChatResponseMapper.Usage(new TokenUsage(36, 40, CacheRead: 64), null)!;

        Assert.Equal((100, 40, 140, 64), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount, usage.CachedInputTokenCount));
    }
}
