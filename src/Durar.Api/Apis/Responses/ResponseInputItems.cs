using System.Globalization;
using System.Text.Json;
using Akka.Hosting;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// <c>GET /v1/responses/{id}/input_items</c>: the input items of a stored response in OpenAI's list shape
/// (<c>{"object":"list","data":[...],"first_id","last_id","has_more"}</c>, <c>limit</c> 1-100 (20), <c>order</c> asc or
/// desc (desc, OpenAI's default), <c>after</c> an item id), read from the transcript of the session the id names: the turn's
/// journaled input messages (<see cref="TranscriptEntry.Messages"/>) turned back into items, or, for a turn that came in
/// as plain text (a session message, a chat-completions turn), one user message. Item ids are derived from the response id
/// and the item's place (<see cref="ResponseIds.InputItem"/>), so a page's <c>after</c> is stable on any node.
/// </summary>
internal static class ResponseInputItems
{
    public static async Task ListAsync(HttpContext context, string id, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (Query(context) is { } bad)
        {
            await bad.WriteAsync(context.Response);
            return;
        }
        var (limit, descending, after) = Options(context);
        if (await StoredResponses.FindAsync(context, id, region, gateway) is not { } found) return;
        var turn = found.Page.Entries.FirstOrDefault(e => e.Role == "user" && e.Seq == found.Seq);
        if (turn is null)
        {
            await StoredResponses.NotFound(id).WriteAsync(context.Response);
            return;
        }
        var items = Items(id, turn);
        if (descending) items.Reverse();
        var start = 0;
        if (after is not null)
        {
            var at = items.FindIndex(i => i.Id == after);
            if (at < 0)
            {
                await ApiError.BadRequest($"`after`: no input item \"{after}\" in response '{id}'.", "invalid_value", "after").WriteAsync(context.Response);
                return;
            }
            start = at + 1;
        }
        var page = items.Skip(start).Take(limit).ToList();
        await ResponseObjectWriter.WriteJsonAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var item in page) item.Write(w);
            w.WriteEndArray();
            if (page.Count > 0) w.WriteString("first_id", page[0].Id);
            else w.WriteNull("first_id");
            if (page.Count > 0) w.WriteString("last_id", page[^1].Id);
            else w.WriteNull("last_id");
            w.WriteBoolean("has_more", start + page.Count < items.Count);
            w.WriteEndObject();
        });
    }

    /// <summary>A 400 naming the first query parameter that is unknown or out of range; null when all are good.</summary>
    private static ApiError? Query(HttpContext context)
    {
        foreach (var (name, value) in context.Request.Query)
            switch (name)
            {
                case "limit" when !int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 100:
                    return ApiError.BadRequest("`limit` must be an integer from 1 to 100.", "invalid_value", "limit");
                case "order" when value.ToString() is not ("asc" or "desc"):
                    return ApiError.BadRequest("`order` must be asc or desc.", "invalid_value", "order");
                case "after" when value.ToString().Length == 0:
                    return ApiError.BadRequest("`after` must be an item id.", "invalid_value", "after");
                case "limit" or "order" or "after":
                    break;
                case "include" or "include[]":
                    // The stored items carry everything the gateway keeps; no extra data can be added to them.
                    return ApiError.BadRequest("`include`: no extra input item data can be included.", "unsupported_parameter", "include");
                default:
                    return ApiError.BadRequest($"Unknown query parameter `{name}`.", "unknown_parameter", name);
            }
        return null;
    }

    private static (int Limit, bool Descending, string? After) Options(HttpContext context)
    {
        var q = context.Request.Query;
        var limit = q.TryGetValue("limit", out var l) ? int.Parse(l.ToString(), CultureInfo.InvariantCulture) : 20;
        return (limit, !(q.TryGetValue("order", out var o) && o.ToString() == "asc"), q.TryGetValue("after", out var a) ? a.ToString() : null);
    }

    /// <summary>The turn's input as items, in the order the client sent them.</summary>
    internal static List<InputItem> Items(string responseId, TranscriptEntry turn)
    {
        var items = new List<InputItem>();
        var messages = turn.Messages.IsDefaultOrEmpty ? [new ChatMessage("user", turn.Content)] : turn.Messages;
        foreach (var m in messages)
        {
            if (m.Role == "tool")
            {
                items.Add(new InputItem("function_call_output", ResponseIds.InputItem("fco", responseId, items.Count), m));
                continue;
            }
            if (m.Role == "assistant")
            {
                if (m.Reasoning is { Length: > 0 })
                    items.Add(new InputItem("reasoning", ResponseIds.InputItem("rs", responseId, items.Count), m));
                if (m.Text is { Length: > 0 } || m.Refusal is { Length: > 0 })
                    items.Add(new InputItem("message", ResponseIds.InputItem("msg", responseId, items.Count), m));
                foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
                    items.Add(new InputItem("function_call", ResponseIds.InputItem("fc", responseId, items.Count), m) { Call = call });
                continue;
            }
            items.Add(new InputItem("message", ResponseIds.InputItem("msg", responseId, items.Count), m));
        }
        return items;
    }

    /// <summary>One input item as OpenAI lists it: a message, a function call, its output, or a reasoning item.</summary>
    internal sealed record InputItem(string Type, string Id, ChatMessage Message)
    {
        public ToolCall? Call { get; init; }

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("id", Id);
            w.WriteString("type", Type);
            var m = Message;
            switch (Type)
            {
                case "function_call_output":
                    w.WriteString("call_id", m.ToolCallId);
                    w.WriteString("output", m.AllText);
                    w.WriteString("status", "completed");
                    break;
                case "function_call":
                    w.WriteString("call_id", Call!.Id);
                    w.WriteString("name", Call.Name);
                    w.WriteString("arguments", Call.Arguments);
                    w.WriteString("status", "completed");
                    break;
                case "reasoning":
                    w.WriteStartArray("summary");
                    w.WriteStartObject();
                    w.WriteString("type", "summary_text");
                    w.WriteString("text", m.Reasoning);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    break;
                default:
                    w.WriteString("status", "completed");
                    w.WriteString("role", m.Role);
                    w.WriteStartArray("content");
                    if (m.Role == "assistant")
                    {
                        if (m.Text is { Length: > 0 } || m.Refusal is null) ResponseObjectWriter.WriteTextPart(w, m.Text ?? "");
                        if (m.Refusal is not null) ResponseObjectWriter.WriteRefusalPart(w, m.Refusal);
                    }
                    else if (m.Parts.IsDefaultOrEmpty) WriteInputText(w, m.Text ?? "");
                    else
                        foreach (var part in m.Parts) WritePart(w, part);
                    w.WriteEndArray();
                    break;
            }
            w.WriteEndObject();
        }

        private static void WritePart(Utf8JsonWriter w, ContentPart part)
        {
            switch (part.Type)
            {
                case ContentPartTypes.ImageUrl:
                    w.WriteStartObject();
                    w.WriteString("type", "input_image");
                    w.WriteString("image_url", part.ImageUrl);
                    w.WriteString("detail", part.Detail ?? "auto");
                    w.WriteEndObject();
                    break;
                case ContentPartTypes.File:
                    w.WriteStartObject();
                    w.WriteString("type", "input_file");
                    if (part.FileId is not null) w.WriteString("file_id", part.FileId);
                    if (part.FileName is not null) w.WriteString("filename", part.FileName);
                    if (part.Data is not null) w.WriteString("file_data", part.Data);
                    w.WriteEndObject();
                    break;
                default:
                    WriteInputText(w, part.Text ?? "");
                    break;
            }
        }

        private static void WriteInputText(Utf8JsonWriter w, string text)
        {
            w.WriteStartObject();
            w.WriteString("type", "input_text");
            w.WriteString("text", text);
            w.WriteEndObject();
        }
    }
}
