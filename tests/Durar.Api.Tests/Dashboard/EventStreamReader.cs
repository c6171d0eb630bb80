using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Durar.Api.Tests.Dashboard;

/// <summary>
/// A client of <c>GET /v1/admin/events</c> for specs: reads the SSE stream in the background and hands out its events in
/// order, so a spec can wait for the event it expects (with a timeout) and fail with what it got instead.
/// </summary>
internal sealed class EventStreamReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<(string Name, JsonElement Data)> _events = Channel.CreateUnbounded<(string, JsonElement)>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private EventStreamReader(HttpResponseMessage response)
    {
        _response = response;
        _reading = ReadAsync();
    }

    public HttpResponseMessage Response => _response;

    public static async Task<EventStreamReader> OpenAsync(HttpClient http, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "v1/admin/events");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new EventStreamReader(response);
    }

    /// <summary>The next event satisfying <paramref name="match"/>, skipping others; fails after <paramref name="timeout"/> (default 5 s).</summary>
    public async Task<JsonElement> NextAsync(string name, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        var skipped = new List<string>();
        try
        {
            while (true)
            {
                var (n, data) = await _events.Reader.ReadAsync(limit.Token);
                if (n == name && (match is null || match(data))) return data;
                skipped.Add($"{n}: {Shorten(data.GetRawText())}");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new Xunit.Sdk.XunitException($"no matching `{name}` event; got:\n{string.Join("\n", skipped)}");
        }
    }

    /// <summary>
    /// The first event matching each of <paramref name="wanted"/>, in whatever order they arrive (events pushed by different
    /// actors, such as a key change and the request that caused it, have no order between them).
    /// </summary>
    public async Task<JsonElement[]> AllAsync(params (string Name, Func<JsonElement, bool>? Match)[] wanted)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var found = new JsonElement?[wanted.Length];
        var skipped = new List<string>();
        try
        {
            while (found.Any(f => f is null))
            {
                var (n, data) = await _events.Reader.ReadAsync(limit.Token);
                var i = Array.FindIndex(wanted, w => w.Name == n && (w.Match is null || w.Match(data)));
                if (i >= 0 && found[i] is null) found[i] = data;
                else skipped.Add($"{n}: {Shorten(data.GetRawText())}");
            }
            return found.Select(f => f!.Value).ToArray();
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            var missing = string.Join(", ", wanted.Where((_, i) => found[i] is null).Select(w => w.Name));
            throw new Xunit.Sdk.XunitException($"no matching `{missing}` event; got:\n{string.Join("\n", skipped)}");
        }
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "…";

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
            string name = "message";
            var data = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0)
                    {
                        using var doc = JsonDocument.Parse(string.Join("\n", data));
                        await _events.Writer.WriteAsync((name, doc.RootElement.Clone()));
                    }
                    name = "message";
                    data.Clear();
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line["data: ".Length..]);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // The stream ended under us: the spec sees the channel close.
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    /// <summary>Completes when the server ended the stream.</summary>
    public Task Ended => _reading;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        try { await _reading; } catch (Exception) { /* ended */ }
        _stop.Dispose();
    }
}
