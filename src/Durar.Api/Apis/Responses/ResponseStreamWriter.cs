using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// Writes one response as the Responses API's server-sent events, in OpenAI's grammar, each frame
/// <c>event: &lt;type&gt;</c> + <c>data: {"type",...,"sequence_number"}</c> with numbers counting up from 0:
/// <c>response.created</c>, <c>response.in_progress</c>; per output item <c>response.output_item.added</c>, its deltas
/// (<c>response.reasoning_summary_part.added</c> / <c>.reasoning_summary_text.delta</c> / <c>.done</c> /
/// <c>.reasoning_summary_part.done</c>; <c>response.content_part.added</c> / <c>.output_text.delta</c> / <c>.done</c> /
/// <c>.content_part.done</c>, and the same for a refusal; <c>response.function_call_arguments.delta</c> / <c>.done</c>)
/// and <c>response.output_item.done</c>; then exactly one terminal event: <c>response.completed</c> (or
/// <c>response.incomplete</c>) with the whole response and its usage. A failure after the stream started is an
/// <c>error</c> event followed by <c>response.failed</c>: a client can always tell a complete answer from a cut one.
/// </summary>
/// <remarks>
/// Over 300 lines on purpose: it is one grammar (which event may follow which), and each event's frame sits beside the
/// state it reads; split, the order of the events would be spread over files.
/// A reasoning item and a message close when the next kind of output starts; function calls stay open until the end, so
/// a call whose arguments arrive interleaved with another's still has every delta between its added and done events.
/// </remarks>
internal sealed class ResponseStreamWriter(PipeWriter pipe, HttpContext context, ResponseHead head) : IStreamCloser
{
    private const int MaxUnflushedBytes = 16 * 1024;

    /// <summary>The stream of one response, written into <paramref name="response"/>'s body.</summary>
    public ResponseStreamWriter(HttpResponse response, ResponseHead head) : this(response.BodyWriter, response.HttpContext, head)
    {
    }

    private readonly Utf8JsonWriter _w = new(pipe, ChatCompletionWriter.Options);
    private readonly List<OutputItem> _items = [];
    private readonly Dictionary<int, OutputItem> _calls = [];
    private OutputItem? _open; // the reasoning item or message receiving deltas
    private bool _refusalOpen;
    private long _sequence;
    private long _written;
    private TokenUsage? _usage;
    private string? _finish;

    /// <summary>The usage the upstream reported, once the stream has ended.</summary>
    public TokenUsage? Usage => _usage;

    /// <summary>
    /// Writes the whole stream of <paramref name="events"/>, flushing whenever the next event is not ready yet. Returns once the
    /// terminal event is written (the request's answer is then complete: <see cref="Telemetry.RequestFacts.Answered"/>); an
    /// upstream failure propagates (the caller ends the stream with <see cref="FailAsync"/>).
    /// </summary>
    public async Task WriteAsync(IAsyncEnumerable<ChatEvent> events, CancellationToken ct)
    {
        Start();
        var unflushed = 0L;
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
                    // Nothing more is ready: what is written goes to the client now, while the upstream is awaited.
                    pending = true;
                    await pipe.FlushAsync(ct).ConfigureAwait(false);
                    pending = false;
                    unflushed = 0;
                }
                if (!await next.ConfigureAwait(false)) break;
                unflushed += Write(e.Current);
            }
        }
        finally
        {
            // A failed flush (the client went away) leaves a read in flight: an async stream cannot be disposed under it.
            if (pending) await Settle(next).ConfigureAwait(false);
            await e.DisposeAsync().ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested(); // a cancelled stream just ends: it must not look complete
        Finish();
        await pipe.FlushAsync(ct).ConfigureAwait(false);
        Telemetry.RequestFacts.Of(context)?.Answered();
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

    /// <summary><c>response.created</c> and <c>response.in_progress</c>, unless already written.</summary>
    public void Start()
    {
        if (_sequence > 0) return;
        Frame("response.created", this, static (w, s) => s.WriteResponse(w, "in_progress", null));
        Frame("response.in_progress", this, static (w, s) => s.WriteResponse(w, "in_progress", null));
    }

    /// <summary>Ends a stream that failed after it started: an <c>error</c> event, then <c>response.failed</c>.</summary>
    public async Task FailAsync(ApiError error, CancellationToken ct)
    {
        Start();
        Frame("error", error, static (w, e) =>
        {
            w.WriteString("code", e.Code);
            w.WriteString("message", e.Message);
            if (e.Param is null) w.WriteNull("param"); else w.WriteString("param", e.Param);
        });
        Frame("response.failed", (this, error), static (w, s) => s.Item1.WriteResponse(w, "failed", s.error));
        await pipe.FlushAsync(ct).ConfigureAwait(false);
    }

    private long Write(ChatEvent e)
    {
        var before = _written;
        switch (e)
        {
            case TextDelta { Choice: 0 } text when text.Text.Length > 0:
                var message = OpenMessage(refusal: false);
                message.Text.Append(text.Text);
                Delta("response.output_text.delta", message, text.Text, content: 0);
                break;
            case RefusalDelta { Choice: 0 } refusal when refusal.Text.Length > 0:
                var refusing = OpenMessage(refusal: true);
                refusing.Refusal!.Append(refusal.Text);
                Delta("response.refusal.delta", refusing, refusal.Text, content: RefusalIndex(refusing));
                break;
            case ReasoningDelta { Choice: 0, Redacted: null } reasoning when reasoning.Text.Length > 0:
                var thinking = OpenReasoning();
                thinking.Text.Append(reasoning.Text);
                Delta("response.reasoning_summary_text.delta", thinking, reasoning.Text, summary: 0);
                break;
            case ToolCallDelta { Choice: 0 } call:
                if (!_calls.TryGetValue(call.Index, out var item))
                {
                    CloseOpen();
                    item = Add(new OutputItem(OutputItem.FunctionCall, ResponseIds.Item("fc", head.Id, _items.Count)) { CallId = call.Id ?? "", Name = call.Name ?? "" });
                    _calls[call.Index] = item;
                }
                if (call.Arguments is { Length: > 0 } arguments)
                {
                    item.Text.Append(arguments);
                    Delta("response.function_call_arguments.delta", item, arguments);
                }
                break;
            case UsageReport u:
                _usage = u.Usage;
                break;
            case Finished { Choice: 0 } f:
                _finish = f.Reason;
                break;
        }
        return _written - before;
    }

    /// <summary>Closes every open item, then the terminal event with the whole response.</summary>
    private void Finish()
    {
        CloseOpen();
        foreach (var call in _items.Where(i => i.Type == OutputItem.FunctionCall && !i.Done))
        {
            Frame("response.function_call_arguments.done", Ref(call), static (w, c) =>
            {
                w.WriteString("item_id", c.Id);
                w.WriteNumber("output_index", c.OutputIndex);
                w.WriteString("name", c.Item.Name);
                w.WriteString("arguments", c.Item.Text.ToString());
            });
            ItemDone(call);
        }
        var incomplete = ResponseObjectWriter.IncompleteReason(_finish);
        Frame(incomplete is null ? "response.completed" : "response.incomplete", (this, incomplete), static (w, s) =>
            s.Item1.WriteResponse(w, incomplete: s.incomplete));
    }

    private OutputItem OpenMessage(bool refusal)
    {
        if (_open is not { Type: OutputItem.Message })
        {
            CloseOpen();
            _open = Add(new OutputItem(OutputItem.Message, ResponseIds.Item("msg", head.Id, _items.Count)));
            _refusalOpen = false;
            if (!refusal) PartAdded(_open, 0, refusal: false);
        }
        if (refusal && !_refusalOpen)
        {
            _open.Refusal = new StringBuilder();
            _refusalOpen = true;
            PartAdded(_open, RefusalIndex(_open), refusal: true);
        }
        return _open;
    }

    /// <summary>The refusal is the message's second part when text came before it, else its first.</summary>
    private static int RefusalIndex(OutputItem message) => message.Text.Length > 0 ? 1 : 0;

    private OutputItem OpenReasoning()
    {
        if (_open is { Type: OutputItem.Reasoning }) return _open;
        CloseOpen();
        _open = Add(new OutputItem(OutputItem.Reasoning, ResponseIds.Item("rs", head.Id, _items.Count)));
        Frame("response.reasoning_summary_part.added", Ref(_open), static (w, r) =>
        {
            w.WriteString("item_id", r.Id);
            w.WriteNumber("output_index", r.OutputIndex);
            w.WriteNumber("summary_index", 0);
            w.WriteStartObject("part");
            w.WriteString("type", "summary_text");
            w.WriteString("text", "");
            w.WriteEndObject();
        });
        return _open;
    }

    private OutputItem Add(OutputItem item)
    {
        _items.Add(item);
        Frame("response.output_item.added", Ref(item), static (w, r) =>
        {
            w.WriteNumber("output_index", r.OutputIndex);
            w.WritePropertyName("item");
            r.Item.Write(w);
        });
        return item;
    }

    /// <summary>Closes the open reasoning item or message with its done events.</summary>
    private void CloseOpen()
    {
        if (_open is not { } open) return;
        _open = null;
        if (open.Type == OutputItem.Reasoning)
        {
            Frame("response.reasoning_summary_text.done", Ref(open), static (w, r) =>
            {
                w.WriteString("item_id", r.Id);
                w.WriteNumber("output_index", r.OutputIndex);
                w.WriteNumber("summary_index", 0);
                w.WriteString("text", r.Item.Text.ToString());
            });
            Frame("response.reasoning_summary_part.done", Ref(open), static (w, r) =>
            {
                w.WriteString("item_id", r.Id);
                w.WriteNumber("output_index", r.OutputIndex);
                w.WriteNumber("summary_index", 0);
                w.WriteStartObject("part");
                w.WriteString("type", "summary_text");
                w.WriteString("text", r.Item.Text.ToString());
                w.WriteEndObject();
            });
        }
        else
        {
            if (open.Text.Length > 0 || open.Refusal is null) PartDone(open, 0, refusal: false);
            if (open.Refusal is not null) PartDone(open, RefusalIndex(open), refusal: true);
        }
        ItemDone(open);
    }

    private void ItemDone(OutputItem item)
    {
        item.Done = true;
        Frame("response.output_item.done", Ref(item), static (w, r) =>
        {
            w.WriteNumber("output_index", r.OutputIndex);
            w.WritePropertyName("item");
            r.Item.Write(w);
        });
    }

    private void PartAdded(OutputItem message, int index, bool refusal) =>
        Frame("response.content_part.added", (Ref(message), index, refusal), static (w, s) =>
        {
            w.WriteString("item_id", s.Item1.Id);
            w.WriteNumber("output_index", s.Item1.OutputIndex);
            w.WriteNumber("content_index", s.index);
            w.WritePropertyName("part");
            if (s.refusal) ResponseObjectWriter.WriteRefusalPart(w, "");
            else ResponseObjectWriter.WriteTextPart(w, "");
        });

    private void PartDone(OutputItem message, int index, bool refusal)
    {
        var r = Ref(message);
        if (refusal)
            Frame("response.refusal.done", (r, index), static (w, s) =>
            {
                w.WriteString("item_id", s.r.Id);
                w.WriteNumber("output_index", s.r.OutputIndex);
                w.WriteNumber("content_index", s.index);
                w.WriteString("refusal", s.r.Item.Refusal!.ToString());
            });
        else
            Frame("response.output_text.done", (r, index), static (w, s) =>
            {
                w.WriteString("item_id", s.r.Id);
                w.WriteNumber("output_index", s.r.OutputIndex);
                w.WriteNumber("content_index", s.index);
                w.WriteString("text", s.r.Item.Text.ToString());
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            });
        Frame("response.content_part.done", (r, index, refusal), static (w, s) =>
        {
            w.WriteString("item_id", s.r.Id);
            w.WriteNumber("output_index", s.r.OutputIndex);
            w.WriteNumber("content_index", s.index);
            w.WritePropertyName("part");
            if (s.refusal) ResponseObjectWriter.WriteRefusalPart(w, s.r.Item.Refusal!.ToString());
            else ResponseObjectWriter.WriteTextPart(w, s.r.Item.Text.ToString());
        });
    }

    /// <summary>A delta frame: the text, with the item's id and place (and its content or summary index).</summary>
    private void Delta(string type, OutputItem item, string delta, int? content = null, int? summary = null) =>
        Frame(type, (Ref(item), delta, content, summary, type == "response.output_text.delta"), static (w, s) =>
        {
            w.WriteString("item_id", s.Item1.Id);
            w.WriteNumber("output_index", s.Item1.OutputIndex);
            if (s.content is { } c) w.WriteNumber("content_index", c);
            if (s.summary is { } i) w.WriteNumber("summary_index", i);
            w.WriteString("delta", s.delta);
            if (s.Item5)
            {
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            }
        });

    private ItemRef Ref(OutputItem item) => new(item, _items.IndexOf(item));

    private readonly record struct ItemRef(OutputItem Item, int OutputIndex)
    {
        public string Id => Item.Id;
    }

    private void WriteResponse(Utf8JsonWriter w, string? status = null, ApiError? error = null, string? incomplete = null)
    {
        w.WritePropertyName("response");
        var final = status is null;
        var items = status == "in_progress" ? [] : _items;
        ResponseObjectWriter.Write(w, head, status ?? (incomplete is null ? "completed" : "incomplete"), items,
            final ? _usage ?? TokenUsage.Zero : status == "failed" ? _usage : null, error, incomplete);
    }

    /// <summary>One SSE frame: <c>event: type</c>, then the JSON with type and sequence number first.</summary>
    private void Frame<T>(string type, T state, Action<Utf8JsonWriter, T> body)
    {
        var name = EventNames[type];
        pipe.Write(name);
        _w.Reset(pipe);
        _w.WriteStartObject();
        _w.WriteString("type", type);
        _w.WriteNumber("sequence_number", _sequence++);
        body(_w, state);
        _w.WriteEndObject();
        _w.Flush();
        pipe.Write("\n\n"u8);
        _written += name.Length + _w.BytesCommitted + 2;
    }

    /// <summary><c>event: &lt;type&gt;\ndata: </c> of every event this writer sends, encoded once.</summary>
    private static readonly Dictionary<string, byte[]> EventNames = new[]
    {
        "response.created", "response.in_progress", "response.output_item.added", "response.output_item.done",
        "response.content_part.added", "response.content_part.done", "response.output_text.delta", "response.output_text.done",
        "response.refusal.delta", "response.refusal.done", "response.reasoning_summary_part.added", "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.completed", "response.incomplete", "response.failed", "error",
    }.ToDictionary(t => t, t => Encoding.UTF8.GetBytes("event: " + t + "\ndata: "));

    Task IStreamCloser.WriteStreamErrorAsync(PipeWriter _, ApiError error, CancellationToken ct) => FailAsync(error, ct);
}
