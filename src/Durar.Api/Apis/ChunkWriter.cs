using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// Writes the <c>chat.completion.chunk</c> frames of one stream into the response pipe, one frame per canonical event:
/// each choice's role first (<c>content: ""</c> and <c>refusal: null</c>, or <c>content: null</c> when its answer opens with a
/// tool call, as OpenAI's do), every choice with its <c>logprobs</c> (null when there are none, as in OpenAI's chunks), text,
/// reasoning (<c>reasoning_content</c>), refusal and tool-call deltas with their choice index, logprobs and unknown delta
/// fields verbatim, and every frame carrying the upstream's <c>system_fingerprint</c>, <c>service_tier</c> and unknown
/// top-level fields once they are known (<see cref="StreamMeta"/>). The token path (choice 0's text) writes its frame from
/// precomputed bytes around the text.
/// </summary>
internal sealed class ChunkWriter(PipeWriter pipe, string id, long created, string model, bool includeUsage) : IDisposable
{
    private readonly Utf8JsonWriter _w = new(pipe, ChatCompletionWriter.Options);
    private StreamMeta? _meta;
    private byte[]? _prefix;
    private ulong _rolesSent; // choices 0-63; more are rare
    private HashSet<int>? _moreRolesSent;

    /// <summary>Writes the frame of <paramref name="e"/> (not flushed); returns the bytes written.</summary>
    public long Write(ChatEvent e)
    {
        switch (e)
        {
            case TextDelta { Choice: 0, Logprobs: null } text when RoleSent(0):
                return WriteText(text.Text);
            case TextDelta text:
                return Opening(text.Choice, toolCall: false) + Frame(text, static (w, t) =>
                {
                    w.WriteStartObject("delta");
                    w.WriteString("content", t.Text);
                    w.WriteEndObject();
                    Logprobs(w, t.Logprobs);
                }, text.Choice);
            case ReasoningDelta { Redacted: null } reasoning when reasoning.Text.Length > 0:
                return Opening(reasoning.Choice, toolCall: false) + Frame(reasoning, static (w, r) =>
                {
                    w.WriteStartObject("delta");
                    w.WriteString("reasoning_content", r.Text);
                    w.WriteEndObject();
                    Logprobs(w, null);
                }, reasoning.Choice);
            case RefusalDelta refusal:
                return Opening(refusal.Choice, toolCall: false) + Frame(refusal, static (w, r) =>
                {
                    w.WriteStartObject("delta");
                    w.WriteString("refusal", r.Text);
                    w.WriteEndObject();
                    Logprobs(w, r.Logprobs);
                }, refusal.Choice);
            case ToolCallDelta tool:
                var opens = !RoleSent(tool.Choice);
                MarkRole(tool.Choice);
                return Frame((tool, opens), static (w, s) =>
                {
                    var (t, opens) = s;
                    w.WriteStartObject("delta");
                    if (opens)
                    {
                        w.WriteString("role", "assistant");
                        w.WriteNull("content");
                    }
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", t.Index);
                    if (t.Id is not null) w.WriteString("id", t.Id);
                    if (t.Id is not null || t.Name is not null) w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    if (t.Name is not null) w.WriteString("name", t.Name);
                    w.WriteString("arguments", t.Arguments ?? "");
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    if (opens) w.WriteNull("refusal");
                    w.WriteEndObject();
                    Logprobs(w, null);
                }, tool.Choice);
            case DeltaExtra extra:
                return Opening(extra.Choice, toolCall: false) + Frame(extra, static (w, x) =>
                {
                    w.WritePropertyName("delta");
                    x.Fields.WriteTo(w);
                    Logprobs(w, x.Logprobs);
                    if (x.ChoiceFields is { ValueKind: JsonValueKind.Object } fields)
                        foreach (var p in fields.EnumerateObject()) p.WriteTo(w);
                }, extra.Choice);
            case Finished finished:
                return Opening(finished.Choice, toolCall: false) + Frame(finished.Reason, static (w, r) =>
                {
                    w.WriteStartObject("delta");
                    w.WriteEndObject();
                    Logprobs(w, null);
                    w.WriteString("finish_reason", r);
                }, finished.Choice, finish: true);
            case StreamMeta meta:
                _meta = meta;
                _prefix = null; // every later frame carries it
                return 0;
            default:
                return 0; // StreamOpened, usage (written last), run markers
        }
    }

    /// <summary>
    /// The last chunk: no choices, the usage (the upstream's own object when it sent one), and the continuation note when the
    /// stream was continued.
    /// </summary>
    public void WriteUsage(UsageReport? usage, StreamContinued? continued = null)
    {
        pipe.Write(Prefix);
        _w.Reset(pipe);
        _w.WriteStartArray("choices");
        _w.WriteEndArray();
        ChatCompletionWriter.WriteUsage(_w, usage?.Usage ?? TokenUsage.Zero, usage?.Raw);
        if (continued is not null) WriteContinuedField(_w, continued);
        _w.Flush();
        pipe.Write("}\n\n"u8);
    }

    /// <summary>The last chunk of a continued stream without usage: no choices, the continuation note.</summary>
    public void WriteContinued(StreamContinued continued)
    {
        pipe.Write(Prefix);
        _w.Reset(pipe);
        _w.WriteStartArray("choices");
        _w.WriteEndArray();
        WriteContinuedField(_w, continued);
        _w.Flush();
        pipe.Write("}\n\n"u8);
    }

    /// <summary><c>"x-durar-continued":{"count":N,"points":[{"model","reason","at_chars","continued_with"}]}</c>.</summary>
    private static void WriteContinuedField(Utf8JsonWriter w, StreamContinued continued)
    {
        w.WriteStartObject("x-durar-continued");
        w.WriteNumber("count", continued.Continuations.Length);
        w.WriteStartArray("points");
        foreach (var p in continued.Continuations)
        {
            w.WriteStartObject();
            w.WriteString("model", p.Model);
            w.WriteString("reason", p.Reason);
            w.WriteNumber("at_chars", p.AtChars);
            w.WriteString("continued_with", p.ContinuedWith);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public void Dispose() => _w.Dispose();

    private bool RoleSent(int choice) =>
        choice < 64 ? (_rolesSent & (1UL << choice)) != 0 : _moreRolesSent?.Contains(choice) == true;

    private void MarkRole(int choice)
    {
        if (choice < 64) _rolesSent |= 1UL << choice;
        else (_moreRolesSent ??= []).Add(choice);
    }

    /// <summary>A choice's first frame: its role (and empty content), before the choice's first delta.</summary>
    private long Opening(int choice, bool toolCall)
    {
        if (RoleSent(choice)) return 0;
        MarkRole(choice);
        return Frame(toolCall, static (w, _) =>
        {
            w.WriteStartObject("delta");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteNull("refusal");
            w.WriteEndObject();
            Logprobs(w, null);
        }, choice);
    }

    /// <summary>A choice's <c>logprobs</c>: null when there are none, as every choice of OpenAI's chunks carries the field.</summary>
    private static void Logprobs(Utf8JsonWriter w, JsonElement? logprobs)
    {
        w.WritePropertyName("logprobs");
        if (logprobs is { } value) value.WriteTo(w);
        else w.WriteNullValue();
    }

    /// <summary>Writes one <c>data: {chunk}</c> frame for choice <paramref name="choice"/> (not flushed); returns the bytes written.</summary>
    private long Frame<T>(T state, Action<Utf8JsonWriter, T> body, int choice, bool finish = false)
    {
        var prefix = Prefix;
        pipe.Write(prefix);
        // The writer continues inside the object the prefix opened (no validation, so it starts at its top level).
        _w.Reset(pipe);
        _w.WriteStartArray("choices");
        _w.WriteStartObject();
        _w.WriteNumber("index", choice);
        body(_w, state);
        if (!finish) _w.WriteNull("finish_reason");
        _w.WriteEndObject();
        _w.WriteEndArray();
        if (includeUsage) _w.WriteNull("usage");
        _w.Flush();
        pipe.Write("}\n\n"u8);
        return prefix.Length + _w.BytesCommitted + 3;
    }

    /// <summary>The frame of choice 0's text, the one written per token: only the text itself goes through the JSON writer.</summary>
    private long WriteText(string text)
    {
        var prefix = Prefix;
        pipe.Write(prefix);
        pipe.Write(ContentOpen);
        _w.Reset(pipe);
        _w.WriteStringValue(text);
        _w.Flush();
        var close = includeUsage ? ContentCloseWithUsage : ContentClose;
        pipe.Write(close);
        return prefix.Length + ContentOpen.Length + _w.BytesCommitted + close.Length;
    }

    private static ReadOnlySpan<byte> ContentOpen => "\"choices\":[{\"index\":0,\"delta\":{\"content\":"u8;

    private static ReadOnlySpan<byte> ContentClose => "},\"logprobs\":null,\"finish_reason\":null}]}\n\n"u8;

    private static ReadOnlySpan<byte> ContentCloseWithUsage => "},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"u8;

    /// <summary>
    /// <c>data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,</c> and the upstream's meta: the same for every
    /// frame of a stream (until the meta changes), so it is encoded once instead of once per token.
    /// </summary>
    private byte[] Prefix => _prefix ??= BuildPrefix();

    private byte[] BuildPrefix()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, ChatCompletionWriter.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "chat.completion.chunk");
            w.WriteNumber("created", created);
            w.WriteString("model", model);
            if (_meta is { } meta)
            {
                if (meta.SystemFingerprint is not null) w.WriteString("system_fingerprint", meta.SystemFingerprint);
                if (meta.ServiceTier is not null) w.WriteString("service_tier", meta.ServiceTier);
                if (meta.Extra is { ValueKind: JsonValueKind.Object } extra)
                    foreach (var p in extra.EnumerateObject()) p.WriteTo(w);
            }
        }
        buffer.Write(","u8);
        return buffer.WrittenSpan.ToArray();
    }
}
