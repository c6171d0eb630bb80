using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using Durar.Actors.Transports;

namespace Durar.Api.Apis;

/// <summary>
/// Writes chat completions in OpenAI's exact wire shapes: one <c>chat.completion</c> JSON object, or the SSE chunk
/// sequence (role delta first, content and tool-call deltas, a final chunk with <c>finish_reason</c>, the usage chunk when
/// asked for, then <c>data: [DONE]</c>). JSON is written straight into the response pipe; nothing is built as a string.
/// </summary>
public sealed class ChatCompletionWriter(string id, long created, string model)
{
    // OpenAI writes `\"` and raw non-ASCII; the default encoder would write \u0022 and \uXXXX. Relaxed escaping is safe here:
    // the output is JSON for API clients, never embedded in HTML.
    internal static readonly JsonWriterOptions Options = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    public async Task WriteCompletionAsync(HttpResponse response, ChatCompletion completion)
    {
        response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(response.BodyWriter, Options))
        {
            w.WriteStartObject();
            WriteHeader(w, "chat.completion");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            if (completion.Text is null && !completion.ToolCalls.IsDefaultOrEmpty) w.WriteNull("content");
            else w.WriteString("content", completion.Text ?? "");
            if (!completion.ToolCalls.IsDefaultOrEmpty)
            {
                w.WriteStartArray("tool_calls");
                foreach (var call in completion.ToolCalls)
                {
                    w.WriteStartObject();
                    w.WriteString("id", call.Id);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", call.Name);
                    w.WriteString("arguments", call.Arguments);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteString("finish_reason", completion.FinishReason);
            w.WriteEndObject();
            w.WriteEndArray();
            WriteUsage(w, completion.Usage ?? TokenUsage.Zero);
            w.WriteEndObject();
        }
        await response.BodyWriter.FlushAsync();
    }

    /// <summary>Streams <paramref name="events"/> as SSE. Returns normally at the end; mid-stream upstream failures propagate.</summary>
    public async Task WriteStreamAsync(PipeWriter pipe, IAsyncEnumerable<ChatEvent> events, bool includeUsage, CancellationToken ct)
    {
        using var w = new Utf8JsonWriter(pipe, Options);
        await ChunkAsync(pipe, w, static (w, _) =>
        {
            w.WriteStartObject("delta");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteEndObject();
            w.WriteNull("finish_reason");
        }, (object?)null, ct);

        TokenUsage? usage = null;
        var finished = false;
        await foreach (var e in events.WithCancellation(ct))
        {
            switch (e)
            {
                case TextDelta text:
                    await ChunkAsync(pipe, w, static (w, t) =>
                    {
                        w.WriteStartObject("delta");
                        w.WriteString("content", t);
                        w.WriteEndObject();
                        w.WriteNull("finish_reason");
                    }, text.Text, ct);
                    break;
                case ToolCallDelta tool:
                    await ChunkAsync(pipe, w, static (w, t) =>
                    {
                        w.WriteStartObject("delta");
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
                        w.WriteEndObject();
                        w.WriteNull("finish_reason");
                    }, tool, ct);
                    break;
                case Finished done when !finished:
                    finished = true;
                    await FinishAsync(pipe, w, done.Reason, ct);
                    break;
                case UsageReport u:
                    usage = u.Usage;
                    break;
            }
        }
        if (!finished) await FinishAsync(pipe, w, "stop", ct);
        if (includeUsage)
            await ChunkAsync(pipe, w, static (w, u) =>
            {
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, u);
            }, usage ?? TokenUsage.Zero, ct, choicesWritten: true);
        pipe.Write("data: [DONE]\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    /// <summary>After output started, an upstream failure is reported in-band as an error frame and the stream ends.</summary>
    public static async Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct)
    {
        pipe.Write("data: "u8);
        using (var w = new Utf8JsonWriter(pipe, Options)) error.Write(w);
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    private Task FinishAsync(PipeWriter pipe, Utf8JsonWriter w, string reason, CancellationToken ct) =>
        ChunkAsync(pipe, w, static (w, r) =>
        {
            w.WriteStartObject("delta");
            w.WriteEndObject();
            w.WriteString("finish_reason", r);
        }, reason, ct);

    private async Task ChunkAsync<T>(PipeWriter pipe, Utf8JsonWriter w, Action<Utf8JsonWriter, T> body, T state, CancellationToken ct,
        bool choicesWritten = false)
    {
        pipe.Write("data: "u8);
        w.Reset(pipe);
        w.WriteStartObject();
        WriteHeader(w, "chat.completion.chunk");
        if (choicesWritten) body(w, state);
        else
        {
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            body(w, state);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.Flush();
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    private void WriteHeader(Utf8JsonWriter w, string objectType)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.Input);
        w.WriteNumber("completion_tokens", usage.Output);
        w.WriteNumber("total_tokens", usage.Total);
        if (usage.CacheRead > 0)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", usage.CacheRead);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
