using System.Text.Json;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>One server-sent event as it crossed the wire: its <c>event:</c> name and its JSON data.</summary>
public sealed record SseEvent(string Name, JsonElement Data)
{
    public string Type => Data.GetProperty("type").GetString()!;
}

/// <summary>
/// The Responses API's stream grammar, checked on the raw events: each event's <c>event:</c> name equals its data's
/// <c>type</c>; <c>sequence_number</c> starts at 0 and goes up by one; <c>response.created</c> then
/// <c>response.in_progress</c> come first; every delta and part event names an item that was added and is not done yet;
/// every added item is done before the end (unless the response failed); exactly one terminal event
/// (<c>response.completed</c>, <c>response.incomplete</c>, <c>response.failed</c>) and nothing after it, with only
/// <c>error</c> allowed right before <c>response.failed</c>.
/// </summary>
public static class ResponseEventGrammar
{
    private static readonly HashSet<string> Terminal = ["response.completed", "response.incomplete", "response.failed"];

    public static IReadOnlyList<SseEvent> Parse(string body)
    {
        var events = new List<SseEvent>();
        foreach (var block in body.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null, data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line["data: ".Length..];
            }
            Assert.True(name is not null && data is not null, $"an SSE block without event or data: {block}");
            events.Add(new SseEvent(name!, JsonDocument.Parse(data!).RootElement.Clone()));
        }
        return events;
    }

    /// <summary>Parses <paramref name="body"/> and asserts the grammar; returns the events.</summary>
    public static IReadOnlyList<SseEvent> Validate(string body)
    {
        var events = Parse(body);
        Assert.True(events.Count >= 3, "a response stream has at least created, in_progress and a terminal event:\n" + body);
        Assert.Equal("response.created", events[0].Type);
        Assert.Equal("response.in_progress", events[1].Type);
        var open = new Dictionary<string, int>(); // item id -> output index
        var done = new HashSet<string>();
        var terminal = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            Assert.Equal(e.Name, e.Type);
            Assert.Equal(i, e.Data.GetProperty("sequence_number").GetInt32());
            Assert.True(terminal == 0, $"event {e.Type} after the terminal event");
            switch (e.Type)
            {
                case "response.output_item.added":
                    var item = e.Data.GetProperty("item");
                    var id = item.GetProperty("id").GetString()!;
                    Assert.False(open.ContainsKey(id) || done.Contains(id), $"item {id} added twice");
                    Assert.Equal(open.Count + done.Count, e.Data.GetProperty("output_index").GetInt32());
                    open[id] = e.Data.GetProperty("output_index").GetInt32();
                    break;
                case "response.output_item.done":
                    var doneId = e.Data.GetProperty("item").GetProperty("id").GetString()!;
                    Assert.True(open.Remove(doneId), $"item {doneId} done without being open");
                    done.Add(doneId);
                    break;
                case "error":
                    Assert.True(i + 1 < events.Count && events[i + 1].Type == "response.failed", "an error event is followed by response.failed");
                    break;
                case var t when Terminal.Contains(t):
                    terminal++;
                    var status = e.Data.GetProperty("response").GetProperty("status").GetString();
                    Assert.Equal(t["response.".Length..], status);
                    if (t != "response.failed") Assert.True(open.Count == 0, $"items still open at {t}: {string.Join(", ", open.Keys)}");
                    break;
                case "response.created" or "response.in_progress":
                    Assert.True(i < 2, $"{e.Type} in the middle of the stream");
                    break;
                default:
                    var itemId = e.Data.GetProperty("item_id").GetString()!;
                    Assert.True(open.TryGetValue(itemId, out var index), $"{e.Type} for item {itemId}, which is not open");
                    Assert.Equal(index, e.Data.GetProperty("output_index").GetInt32());
                    break;
            }
        }
        Assert.Equal(1, terminal);
        return events;
    }
}
