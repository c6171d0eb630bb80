using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions.Watching;

/// <summary>
/// What a session's event stream says about each fact: a journaled <see cref="ISessionEvent"/> (numbered by its journal
/// sequence number, so a resume replays the same event from the journal as the live stream sent) or a live event of the
/// running turn. Pure and in one place, so the live stream (the session's node) and a resume's replay (the HTTP node,
/// reading the journal) write every event alike.
/// </summary>
internal static class SessionEventFeed
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The watch event of a journaled fact; null for facts a watcher has no use for.</summary>
    public static SessionWatchEvent? Of(long sequenceNr, ISessionEvent e) => e switch
    {
        SessionEvents.UserMessageAccepted m => Json(sequenceNr, SessionWatchEvents.TurnAccepted, w =>
        {
            Opt(w, "runId", m.RunId);
            w.WriteString("content", m.Content);
            At(w, m.At);
        }),
        SessionEvents.AssistantReplied r => Json(sequenceNr, r.Aborted ? SessionWatchEvents.RunAborted : SessionWatchEvents.RunFinished, w =>
        {
            RunIds(w, r.RunIds);
            w.WriteString("model", r.Model);
            w.WriteString("content", r.Content);
            w.WriteString("finish", r.Aborted ? "aborted" : r.Finish ?? "stop");
            if (r.Usage is { } u)
            {
                w.WriteStartObject("usage");
                w.WriteNumber("input", u.Input);
                w.WriteNumber("output", u.Output);
                w.WriteEndObject();
            }
            w.WriteNumber("cost", r.Cost);
            At(w, r.At);
        }),
        SessionEvents.RunFailed f => Json(sequenceNr, f.Code == Runs.SessionRunLedger.AbortedCode ? SessionWatchEvents.RunAborted : SessionWatchEvents.RunFailed, w =>
        {
            RunIds(w, f.RunIds);
            w.WriteNumber("status", f.Status);
            Opt(w, "code", f.Code);
            w.WriteString("error", f.Error);
            At(w, f.At);
        }),
        SessionEvents.RunsDropped d => Json(sequenceNr, SessionWatchEvents.RunsDropped, w =>
        {
            RunIds(w, d.RunIds);
            w.WriteNumber("status", d.Status);
            w.WriteString("code", d.Code);
            w.WriteString("error", d.Error);
            At(w, d.At);
        }),
        SessionEvents.OverridesChanged o => Json(sequenceNr, SessionWatchEvents.OverridesChanged, w =>
        {
            var v = o.Overrides;
            Opt(w, "model", v.Model);
            Opt(w, "modelSource", v.ModelSource is { } ms ? WireNames.ToWire(ms) : null);
            Opt(w, "thinkingLevel", v.Thinking is { } t ? WireNames.ToWire(t) : null);
            Opt(w, "fastMode", v.Fast is { } fm ? WireNames.ToWire(fm) : null);
            Opt(w, "responseUsage", v.ResponseUsage is { } ru ? WireNames.ToWire(ru) : null);
            Opt(w, "queueMode", v.Queue is { } q ? WireNames.ToWire(q) : null);
            Opt(w, "authProfile", v.AuthProfile);
            Opt(w, "authProfileSource", v.AuthProfileSource is { } s ? WireNames.ToWire(s) : null);
            At(w, o.At);
        }),
        SessionEvents.Compacted c => Json(sequenceNr, SessionWatchEvents.Compaction, w =>
        {
            w.WriteNumber("keepFromSeq", c.KeepFromSeq);
            w.WriteString("model", c.Model);
            w.WriteNumber("tokensBefore", c.TokensBefore);
            w.WriteNumber("tokensAfter", c.TokensAfter);
            At(w, c.At);
        }),
        SessionEvents.SessionReset r => Json(sequenceNr, SessionWatchEvents.SessionReset, w => At(w, r.At)),
        SessionEvents.FallbackNoticed f => Json(sequenceNr, SessionWatchEvents.Fallback, w =>
        {
            w.WriteString("selectedModel", f.Selected);
            w.WriteString("activeModel", f.Active);
            Opt(w, "reason", f.Reason);
            At(w, f.At);
        }),
        SessionEvents.FallbackCleared f => Json(sequenceNr, SessionWatchEvents.FallbackCleared, w =>
        {
            w.WriteString("selectedModel", f.Selected);
            At(w, f.At);
        }),
        _ => null,
    };

    /// <summary>The watch event of a live event of the running turn (first choice only, as the transcript); null for the rest.</summary>
    public static SessionWatchEvent? Live(ChatEvent e, ImmutableArray<string> runIds) => e switch
    {
        RunModel m => Json(0, SessionWatchEvents.RunStarted, w =>
        {
            RunIds(w, runIds);
            w.WriteString("model", m.Model);
        }),
        TextDelta { Choice: 0 } d => Json(0, SessionWatchEvents.Delta, w => w.WriteString("text", d.Text)),
        ReasoningDelta { Choice: 0 } r when r.Text.Length > 0 => Json(0, SessionWatchEvents.Reasoning, w => w.WriteString("text", r.Text)),
        ToolCallDelta { Choice: 0 } t => Json(0, SessionWatchEvents.ToolCall, w =>
        {
            w.WriteNumber("index", t.Index);
            Opt(w, "id", t.Id);
            Opt(w, "name", t.Name);
            Opt(w, "arguments", t.Arguments);
        }),
        _ => null,
    };

    /// <summary>First on a resume whose missed events (<paramref name="from"/> to <paramref name="to"/>) the journal no longer holds or the replay bound leaves out.</summary>
    public static SessionWatchEvent Gap(long from, long to) => Json(0, SessionWatchEvents.Gap, w =>
    {
        w.WriteNumber("from", from);
        w.WriteNumber("to", to);
    });

    /// <summary>The final event of a watcher whose session stopped (<paramref name="reason"/>: <c>session_stopped</c>, <c>session_lost</c>).</summary>
    public static SessionWatchEvent Closed(string reason) => Json(0, SessionWatchEvents.Closed, w => w.WriteString("reason", reason));

    private static SessionWatchEvent Json(long id, string name, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return new SessionWatchEvent(id, name, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void RunIds(Utf8JsonWriter w, ImmutableArray<string>? ids)
    {
        w.WriteStartArray("runIds");
        if (ids is { IsDefault: false } some)
            foreach (var id in some) w.WriteStringValue(id);
        w.WriteEndArray();
    }

    private static void At(Utf8JsonWriter w, DateTimeOffset at) => w.WriteString("at", at.ToUniversalTime().ToString("O"));

    private static void Opt(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }
}
