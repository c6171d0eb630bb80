using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// Writes one answer as Anthropic's event stream, from the neutral events of any upstream: <c>message_start</c> and a
/// <c>ping</c>; then one content block at a time, each <c>content_block_start</c>, its deltas (<c>text_delta</c>,
/// <c>thinking_delta</c> then <c>signature_delta</c>, <c>input_json_delta</c>) and <c>content_block_stop</c>, with indices from
/// 0 in order (a redacted thinking block starts and stops with its data); then <c>message_delta</c> with the stop reason and
/// the usage (input, cache writes and reads, output: known only at the end, so <c>message_start</c> counts zero) and
/// <c>message_stop</c>. No <c>[DONE]</c>: a stream that cannot finish ends with an <c>error</c> event instead
/// (<see cref="MessagesErrors.WriteStreamErrorAsync"/>). A text token is written from bytes built once per block.
/// </summary>
internal sealed class MessageStreamWriter(PipeWriter pipe, string id, string model) : IDisposable
{
    private enum Block { None, Text, Thinking, ToolUse }

    /// <summary>When this many bytes are waiting in the pipe, they are flushed even if more events are ready.</summary>
    private const int MaxUnflushedBytes = 16 * 1024;

    private readonly Utf8JsonWriter _w = new(pipe, ChatCompletionWriter.Options);
    private readonly string _id = id;
    private readonly string _model = model;
    private Block _open;
    private int _index = -1;
    private bool _signed;
    private int _openTool = -1;
    private HashSet<int>? _tools;
    private byte[]? _textPrefix;
    private string _finish = "stop";
    private string? _stopSequence;
    private TokenUsage? _usage;

    /// <summary>
    /// Streams <paramref name="events"/> into <paramref name="response"/>'s body; returns the usage the upstream reported, once
    /// <c>message_stop</c> is written (the request's answer is then complete: <see cref="Telemetry.RequestFacts.Answered"/>).
    /// Frames are flushed whenever the next event is not ready yet (as <see cref="ChatCompletionWriter.WriteStreamAsync"/>
    /// does). Mid-stream failures propagate.
    /// </summary>
    public static async Task<TokenUsage?> WriteAsync(HttpResponse response, string id, string model, IAsyncEnumerable<ChatEvent> events,
        CancellationToken ct, bool flushAtEnd = true)
    {
        var pipe = response.BodyWriter;
        using var stream = new MessageStreamWriter(pipe, id, model);
        long unflushed = stream.Start();
        var e = events.GetAsyncEnumerator(ct);
        var next = default(ValueTask<bool>);
        var pending = false;
        try
        {
            while (true)
            {
                next = e.MoveNextAsync();
                if (!next.IsCompleted || unflushed >= MaxUnflushedBytes)
                {
                    pending = true;
                    await pipe.FlushAsync(ct).ConfigureAwait(false);
                    pending = false;
                    unflushed = 0;
                }
                if (!await next.ConfigureAwait(false)) break;
                unflushed += stream.Write(e.Current);
            }
        }
        finally
        {
            // A failed flush (the client went away) leaves a read in flight: an async stream cannot be disposed under it.
            if (pending) await Settle(next).ConfigureAwait(false);
            await e.DisposeAsync().ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested(); // a cancelled stream just ends: it must not look finished
        stream.Finish();
        if (flushAtEnd) await pipe.FlushAsync(ct).ConfigureAwait(false);
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
        return stream._usage;
    }

    private static async ValueTask Settle(ValueTask<bool> next)
    {
        try
        {
            await next.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The read's own outcome does not matter any more: the flush's failure is what propagates.
        }
    }

    /// <summary><c>message_start</c> (an empty assistant message) and a <c>ping</c>.</summary>
    public long Start()
    {
        var written = Frame("message_start"u8, this, static (w, s) =>
        {
            w.WriteStartObject("message");
            w.WriteString("id", s._id);
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", s._model);
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            MessageWriter.WriteUsage(w, TokenUsage.Zero);
            w.WriteEndObject();
        });
        pipe.Write(Ping);
        return written + Ping.Length;
    }

    /// <summary>Writes what <paramref name="e"/> adds (not flushed); returns the bytes written.</summary>
    public long Write(ChatEvent e)
    {
        switch (e)
        {
            case TextDelta { Choice: 0 } text when text.Text.Length > 0:
                return (_open == Block.Text ? 0 : Open(Block.Text)) + WriteText(text.Text);
            case RefusalDelta { Choice: 0 } refusal when refusal.Text.Length > 0: // what the model said instead of answering
                return (_open == Block.Text ? 0 : Open(Block.Text)) + WriteText(refusal.Text);
            case ReasoningDelta { Choice: 0, Redacted: { } data }:
                return Close() + Frame("content_block_start"u8, (++_index, data), static (w, s) =>
                {
                    w.WriteNumber("index", s.Item1);
                    w.WriteStartObject("content_block");
                    w.WriteString("type", "redacted_thinking");
                    w.WriteString("data", s.data);
                    w.WriteEndObject();
                }) + Frame("content_block_stop"u8, _index, static (w, i) => w.WriteNumber("index", i));
            case ReasoningDelta { Choice: 0 } reasoning:
                var opened = _open == Block.Thinking && !_signed ? 0 : Open(Block.Thinking);
                if (reasoning.Text.Length > 0) opened += Delta("thinking_delta", "thinking", reasoning.Text);
                if (reasoning.Signature is { } signature)
                {
                    opened += Delta("signature_delta", "signature", signature);
                    _signed = true;
                }
                return opened;
            case ToolCallDelta { Choice: 0 } tool:
                return WriteTool(tool);
            case Finished { Choice: 0 } finished:
                _finish = finished.Reason;
                _stopSequence = finished.StopSequence;
                return 0;
            case UsageReport usage:
                _usage = usage.Usage;
                return 0;
            default:
                return 0; // StreamOpened, StreamMeta, OpenAI-only delta fields, continuation notes: no Anthropic counterpart
        }
    }

    /// <summary>The last frames: the open block's stop, <c>message_delta</c> (stop reason, usage) and <c>message_stop</c>.</summary>
    public void Finish()
    {
        Close();
        Frame("message_delta"u8, this, static (w, s) =>
        {
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", MessageWriter.StopReason(s._finish, s._stopSequence, s._tools is not null));
            if (s._stopSequence is { } stop) w.WriteString("stop_sequence", stop);
            else w.WriteNull("stop_sequence");
            w.WriteEndObject();
            MessageWriter.WriteUsage(w, s._usage ?? TokenUsage.Zero);
        });
        pipe.Write("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8);
    }

    /// <summary>
    /// A tool call's fragment: its first opens a <c>tool_use</c> block, the rest are its <c>input_json_delta</c>s. Upstreams
    /// stream calls one after another; a fragment of a call whose block is already closed cannot be placed in Anthropic's
    /// stream and ends it with an error rather than lose the fragment.
    /// </summary>
    private long WriteTool(ToolCallDelta tool)
    {
        long written = 0;
        if (_open != Block.ToolUse || _openTool != tool.Index)
        {
            if ((_tools ??= []).Contains(tool.Index))
                throw new UpstreamException(new UpstreamFailure(502, $"The upstream interleaved the arguments of tool call {tool.Index} with another call.",
                    "malformed_stream", "api_error", null), UpstreamException.NoHints);
            _tools.Add(tool.Index);
            written += Close();
            _open = Block.ToolUse;
            _openTool = tool.Index;
            written += Frame("content_block_start"u8, (++_index, tool), static (w, s) =>
            {
                w.WriteNumber("index", s.Item1);
                w.WriteStartObject("content_block");
                w.WriteString("type", "tool_use");
                w.WriteString("id", s.tool.Id ?? "");
                w.WriteString("name", s.tool.Name ?? "");
                w.WriteStartObject("input");
                w.WriteEndObject();
                w.WriteEndObject();
            });
        }
        if (tool.Arguments is { Length: > 0 } arguments) written += Delta("input_json_delta", "partial_json", arguments);
        return written;
    }

    /// <summary>Closes the open block (if any) and starts a text or thinking block.</summary>
    private long Open(Block block)
    {
        var written = Close();
        _open = block;
        _signed = false;
        return written + Frame("content_block_start"u8, (++_index, block), static (w, s) =>
        {
            w.WriteNumber("index", s.Item1);
            w.WriteStartObject("content_block");
            if (s.block == Block.Text)
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }
            else
            {
                w.WriteString("type", "thinking");
                w.WriteString("thinking", "");
                w.WriteString("signature", "");
            }
            w.WriteEndObject();
        });
    }

    private long Close()
    {
        if (_open == Block.None) return 0;
        _open = Block.None;
        _textPrefix = null;
        return Frame("content_block_stop"u8, _index, static (w, i) => w.WriteNumber("index", i));
    }

    private long Delta(string type, string field, string value) =>
        Frame("content_block_delta"u8, (_index, type, field, value), static (w, s) =>
        {
            w.WriteNumber("index", s._index);
            w.WriteStartObject("delta");
            w.WriteString("type", s.type);
            w.WriteString(s.field, s.value);
            w.WriteEndObject();
        });

    /// <summary>A text token: the frame's bytes around the text are built once per block.</summary>
    private long WriteText(string text)
    {
        var prefix = _textPrefix ??= Encoding.UTF8.GetBytes(
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":" + _index.ToString(CultureInfo.InvariantCulture)
            + ",\"delta\":{\"type\":\"text_delta\",\"text\":");
        pipe.Write(prefix);
        _w.Reset(pipe);
        _w.WriteStringValue(text);
        _w.Flush();
        pipe.Write("}}\n\n"u8);
        return prefix.Length + _w.BytesCommitted + 4;
    }

    /// <summary><c>event: name</c> and <c>data: {"type":"name",…}</c>, the body written by <paramref name="body"/>.</summary>
    private long Frame<T>(ReadOnlySpan<byte> name, T state, Action<Utf8JsonWriter, T> body)
    {
        pipe.Write("event: "u8);
        pipe.Write(name);
        pipe.Write("\ndata: "u8);
        _w.Reset(pipe);
        _w.WriteStartObject();
        _w.WritePropertyName("type"u8);
        _w.WriteStringValue(name);
        body(_w, state);
        _w.WriteEndObject();
        _w.Flush();
        pipe.Write("\n\n"u8);
        return 2 * name.Length + 18 + _w.BytesCommitted;
    }

    private static ReadOnlySpan<byte> Ping => "event: ping\ndata: {\"type\":\"ping\"}\n\n"u8;

    public void Dispose() => _w.Dispose();
}
