using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Durar.Api.Tests.Sessions;

/// <summary>One SSE event of <c>GET /v1/sessions/{key}/events</c>: its id (null for a live-only event), name and data.</summary>
internal sealed record WatchedEvent(long? Id, string Name, JsonElement Data);

/// <summary>
/// A client of a session's event stream, as a browser's <c>EventSource</c> reads it: it opens the stream (optionally with
/// <c>Last-Event-ID</c>), then reads events one by one; it owns its response.
/// </summary>
internal sealed class SessionEventWatcher : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SessionEventWatcher(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Opens the stream of <paramref name="key"/> through <paramref name="http"/>; asserts a 200 event stream.</summary>
    public static async Task<SessionEventWatcher> OpenAsync(HttpClient http, string key, long? lastEventId = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/sessions/{key}/events");
        if (lastEventId is { } id) request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SessionEventWatcher(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event, or null when the stream ended.</summary>
    public async Task<WatchedEvent?> NextAsync(CancellationToken ct = default)
    {
        long? id = null;
        string? name = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is null && data.Length == 0) continue;
                return new WatchedEvent(id, name ?? "message", JsonDocument.Parse(data.ToString()).RootElement.Clone());
            }
            if (line.StartsWith(':')) continue;
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
        }
        return null;
    }

    /// <summary>Reads until an event satisfies <paramref name="last"/> (included) and returns them all; fails when the stream ends first.</summary>
    public async Task<List<WatchedEvent>> ReadUntilAsync(Func<WatchedEvent, bool> last, TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var events = new List<WatchedEvent>();
        while (await NextAsync(cts.Token) is { } e)
        {
            events.Add(e);
            if (last(e)) return events;
        }
        throw new Xunit.Sdk.XunitException("The event stream ended before the awaited event; got: " + string.Join(", ", events.Select(e => e.Name)));
    }

    /// <summary>Reads every event until the stream ends.</summary>
    public async Task<List<WatchedEvent>> ReadToEndAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var events = new List<WatchedEvent>();
        while (await NextAsync(cts.Token) is { } e) events.Add(e);
        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
