using System.Text.Json;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>
/// Anthropic's documented event-stream grammar, checked on the raw SSE text a client received: every frame is
/// <c>event: X</c> + <c>data: {"type":"X",...}</c>; exactly one <c>message_start</c>, first; <c>ping</c> anywhere after it;
/// content blocks one at a time with indices 0, 1, 2... in order, each <c>content_block_start</c> before its deltas and its
/// <c>content_block_stop</c>, every delta of the type its block takes (text_delta in text, thinking_delta then
/// signature_delta in thinking, input_json_delta in tool_use); then one <c>message_delta</c> with a stop reason and usage and
/// one <c>message_stop</c>, last. A failed stream instead ends with one <c>error</c> event, and never has
/// <c>message_stop</c>. No <c>[DONE]</c> anywhere.
/// </summary>
internal static class MessageStreamGrammar
{
    /// <summary>One SSE frame: its event name and parsed data.</summary>
    public sealed record Frame(string Event, JsonElement Data);

    public static List<Frame> Parse(string sse)
    {
        Assert.DoesNotContain("[DONE]", sse);
        var frames = new List<Frame>();
        foreach (var block in sse.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.True(lines.Length == 2 && lines[0].StartsWith("event: ") && lines[1].StartsWith("data: "), $"not an event frame: {block}");
            using var doc = JsonDocument.Parse(lines[1]["data: ".Length..]);
            var name = lines[0]["event: ".Length..];
            Assert.Equal(name, doc.RootElement.GetProperty("type").GetString());
            frames.Add(new Frame(name, doc.RootElement.Clone()));
        }
        return frames;
    }

    /// <summary>Validates a complete stream; returns its frames.</summary>
    public static List<Frame> AssertComplete(string sse)
    {
        var frames = Parse(sse);
        Validate(frames, failed: false);
        return frames;
    }

    /// <summary>Validates a stream that failed after it began: ends with one <c>error</c> event; returns that event's data.</summary>
    public static JsonElement AssertFailed(string sse)
    {
        var frames = Parse(sse);
        Validate(frames, failed: true);
        return frames[^1].Data;
    }

    private static void Validate(List<Frame> frames, bool failed)
    {
        Assert.NotEmpty(frames);
        Assert.Equal("message_start", frames[0].Event);
        Assert.Equal(1, frames.Count(f => f.Event == "message_start"));
        var message = frames[0].Data.GetProperty("message");
        Assert.StartsWith("msg_", message.GetProperty("id").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(0, message.GetProperty("content").GetArrayLength());

        string? open = null;
        var index = -1;
        var signed = false;
        var delta = false;
        var end = failed ? frames.Count - 1 : frames.Count;
        if (failed)
        {
            Assert.Equal("error", frames[^1].Event);
            Assert.DoesNotContain(frames, f => f.Event == "message_stop");
            Assert.Equal(1, frames.Count(f => f.Event == "error"));
        }
        else
        {
            Assert.Equal("message_stop", frames[^1].Event);
            Assert.Equal(1, frames.Count(f => f.Event == "message_stop"));
            Assert.Equal(1, frames.Count(f => f.Event == "message_delta"));
            Assert.Equal("message_delta", frames[^2].Event);
        }
        for (var i = 1; i < end; i++)
        {
            var (name, data) = (frames[i].Event, frames[i].Data);
            switch (name)
            {
                case "ping":
                    break;
                case "content_block_start":
                    Assert.True(open is null, $"frame {i}: block {index + 1} starts while block {index} is open");
                    Assert.False(delta, $"frame {i}: a block starts after message_delta");
                    Assert.Equal(++index, data.GetProperty("index").GetInt32());
                    open = data.GetProperty("content_block").GetProperty("type").GetString();
                    Assert.Contains(open, new[] { "text", "thinking", "redacted_thinking", "tool_use" });
                    signed = false;
                    break;
                case "content_block_delta":
                    Assert.True(open is not null, $"frame {i}: content_block_delta outside a block");
                    Assert.Equal(index, data.GetProperty("index").GetInt32());
                    var type = data.GetProperty("delta").GetProperty("type").GetString();
                    var allowed = open switch
                    {
                        "text" => type == "text_delta",
                        "thinking" => type == "thinking_delta" && !signed || type == "signature_delta" && !signed,
                        "tool_use" => type == "input_json_delta",
                        _ => false,
                    };
                    Assert.True(allowed, $"frame {i}: {type} in a {open} block");
                    signed |= type == "signature_delta";
                    break;
                case "content_block_stop":
                    Assert.True(open is not null, $"frame {i}: content_block_stop outside a block");
                    Assert.Equal(index, data.GetProperty("index").GetInt32());
                    open = null;
                    break;
                case "message_delta":
                    Assert.True(open is null, $"frame {i}: message_delta while block {index} is open");
                    Assert.False(delta, "two message_delta events");
                    delta = true;
                    Assert.Contains(data.GetProperty("delta").GetProperty("stop_reason").GetString(),
                        new[] { "end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "pause_turn" });
                    Assert.True(data.GetProperty("usage").GetProperty("output_tokens").GetInt64() >= 0);
                    break;
                case "message_stop":
                    Assert.True(delta, "message_stop before message_delta");
                    break;
                default:
                    Assert.Fail($"frame {i}: unexpected event {name}");
                    break;
            }
        }
    }
}
