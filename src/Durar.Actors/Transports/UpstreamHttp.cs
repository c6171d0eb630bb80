using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports;

/// <summary>
/// Shared HTTP plumbing for the HTTP transports: sending with an idle timeout, turning error responses and exceptions into
/// <see cref="UpstreamException"/>s with the provider's own message, and reading rate-limit headers.
/// </summary>
internal static class UpstreamHttp
{
    public const string ClientName = "durar-upstream";
    private const int MaxErrorBodyBytes = 64 * 1024;

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, string providerId,
        IdleTimer idle, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (TranslateException(e, providerId, idle, cancellationToken) is { } translated)
        {
            throw translated;
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = await ReadBoundedAsync(response, idle.Token).ConfigureAwait(false);
            throw FromErrorResponse(response, body, providerId);
        }
    }

    /// <summary>
    /// One non-streaming exchange: send, read the JSON body, parse it with <paramref name="parse"/>, attach the rate-limit
    /// headers; every failure (status, transport, malformed JSON) becomes an <see cref="UpstreamException"/>.
    /// </summary>
    public static async Task<ChatCompletion> CompleteJsonAsync(HttpClient client, HttpRequestMessage request, UpstreamCall call,
        Func<JsonElement, string, ChatCompletion> parse, CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        using var idle = new IdleTimer(call.IdleTimeout, cancellationToken);
        try
        {
            using var response = await SendAsync(client, request, providerId, idle, cancellationToken).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            using var doc = await JsonDocument.ParseAsync(body, default, idle.Token).ConfigureAwait(false);
            return parse(doc.RootElement, providerId) with { Hints = ReadHints(response, null) };
        }
        catch (JsonException e)
        {
            throw Transport(providerId, UpstreamTransportError.MalformedStream, $"malformed JSON from upstream: {e.Message}", e);
        }
        catch (Exception e) when (TranslateException(e, providerId, idle, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Maps an exception from sending or reading to an <see cref="UpstreamException"/>; null = not ours (caller cancelled).</summary>
    public static UpstreamException? TranslateException(Exception e, string providerId, IdleTimer idle, CancellationToken callerToken)
    {
        if (e is UpstreamException) return null;
        if (callerToken.IsCancellationRequested) return null; // the client went away: let cancellation propagate
        if (e is OperationCanceledException && idle.Fired)
            return Transport(providerId, UpstreamTransportError.Timeout,
                $"LLM request timed out: no data from the upstream for {idle.Timeout.TotalSeconds:0} s.", e);
        var kind = e switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => UpstreamTransportError.DnsFailure,
            HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => UpstreamTransportError.ConnectionRefused,
            HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.HostUnreachable or SocketError.NetworkUnreachable } } => UpstreamTransportError.HostUnreachable,
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => UpstreamTransportError.ConnectionRefused,
            HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => UpstreamTransportError.StreamCut,
            HttpIOException => UpstreamTransportError.StreamCut,
            IOException => UpstreamTransportError.ConnectionReset,
            HttpRequestException => UpstreamTransportError.ConnectionReset,
            OperationCanceledException => UpstreamTransportError.Timeout,
            _ => UpstreamTransportError.None,
        };
        if (kind == UpstreamTransportError.None) return null;
        var what = kind switch
        {
            UpstreamTransportError.StreamCut => "upstream stream was cut before it finished",
            UpstreamTransportError.ConnectionRefused => "connection error: the upstream refused the connection",
            UpstreamTransportError.DnsFailure => "connection error: the upstream host name did not resolve",
            UpstreamTransportError.HostUnreachable => "connection error: the upstream host is unreachable",
            UpstreamTransportError.Timeout => "LLM request timed out.",
            _ => "connection error: the upstream connection was reset",
        };
        return Transport(providerId, kind, what, e);
    }

    public static UpstreamException Transport(string providerId, UpstreamTransportError kind, string message, Exception? inner = null) =>
        new(new UpstreamFailure(null, message, null, null, providerId, kind), UpstreamException.NoHints, inner);

    public static UpstreamException FromErrorResponse(HttpResponseMessage response, string body, string providerId)
    {
        var (message, type, code) = ExtractError(body);
        message ??= string.IsNullOrWhiteSpace(body) ? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}" : Truncate(body.Trim(), 2000);
        var failure = new UpstreamFailure((int)response.StatusCode, message, code, type, providerId);
        return new UpstreamException(failure, ReadHints(response, body));
    }

    /// <summary>Every header name <see cref="RateLimitHeaders.Parse"/> reads, for the one-pass check in <see cref="ReadHints"/>.</summary>
    private static readonly FrozenSet<string> HintHeaders = RateLimitHeaders.HeaderNames.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static RateLimitHints ReadHints(HttpResponseMessage response, string? body)
    {
        // Most answers carry no rate-limit header at all (proxies, local servers): one pass over the raw headers settles it
        // without the per-name lookups. Raw (non-validated) values: nothing is parsed or allocated for headers we never read.
        if (body is null && !HasAny(response.Headers.NonValidated) && !HasAny(response.Content.Headers.NonValidated))
            return UpstreamException.NoHints;
        return RateLimitHeaders.Parse(name => Header(response.Headers, name) ?? Header(response.Content.Headers, name), body, DateTimeOffset.UtcNow);

        static bool HasAny(HttpHeadersNonValidated headers)
        {
            foreach (var header in headers)
                if (HintHeaders.Contains(header.Key)) return true;
            return false;
        }

        static string? Header(HttpHeaders headers, string name) =>
            headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0 ? values.First() : null;
    }

    /// <summary>Finds message, type and code in the shapes providers use: OpenAI, Anthropic, Google (object or array), plain.</summary>
    public static (string? Message, string? Type, string? Code) ExtractError(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null, null);
        try
        {
            using var doc = JsonDocument.Parse(body);
            return ExtractError(doc.RootElement);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    /// <summary>The same, from an already parsed body (no second parse of its text).</summary>
    public static (string? Message, string? Type, string? Code) ExtractError(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0) root = root[0];
        if (root.ValueKind != JsonValueKind.Object) return (null, null, null);
        var error = root.TryGetProperty("error", out var e) ? e : root;
        if (error.ValueKind == JsonValueKind.String) return (error.GetString(), null, null);
        if (error.ValueKind != JsonValueKind.Object) return (null, null, null);
        var message = Str(error, "message") ?? Str(root, "message") ?? Str(root, "detail");
        var type = Str(error, "type") ?? Str(error, "status");
        var code = Str(error, "code") ?? Str(error, "status");
        return (message, type, code);

        static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
                ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
                : null;
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
                total += read;
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    /// <summary>Endpoint URIs by base URL and path: a provider's few endpoints are built and parsed once, not on every call.</summary>
    private static readonly ConcurrentDictionary<(string? BaseUrl, string Path), Uri> Endpoints = new();

    /// <summary>
    /// A POST of the JSON in <paramref name="body"/> to <paramref name="baseUrl"/> + <paramref name="path"/>; disposing the
    /// request returns the body's buffer to its pool.
    /// </summary>
    public static HttpRequestMessage JsonPost(string? baseUrl, string path, PooledJsonContent body)
    {
        if (!Endpoints.TryGetValue((baseUrl, path), out var uri))
        {
            uri = new Uri(baseUrl + path, UriKind.Absolute);
            if (Endpoints.Count < 1024) Endpoints.TryAdd((baseUrl, path), uri); // base URLs come from the config; bounded anyway
        }
        return new HttpRequestMessage(HttpMethod.Post, uri) { Content = body, Version = HttpVersion.Version11 };
    }
}

/// <summary>
/// A request body written as JSON into a pooled buffer (no per-call array, no copy); the buffer goes back to the pool when the
/// content is disposed, which the transports do by disposing the request after the exchange ends.
/// </summary>
internal sealed class PooledJsonContent : HttpContent, IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _length;

    public PooledJsonContent(int initialCapacity = 2048)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _length >= Math.Max(sizeHint, 1)) return;
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + sizeHint));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        stream.WriteAsync(_buffer.AsMemory(0, _length)).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).AsTask();

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.Write(_buffer, 0, _length);

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// An idle timeout: cancels when no progress was reported for <see cref="Timeout"/>. Linked to the caller's token so that
/// either ends the upstream request; <see cref="Fired"/> tells the two apart.
/// </summary>
/// <remarks>
/// Progress is reported per streamed chunk, so <see cref="Touch"/> only records the time: one timer per request checks it
/// when due and re-arms itself for the rest of the window (re-arming a timer per chunk takes the timer queue's lock).
/// </remarks>
internal sealed class IdleTimer : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _callerToken;
    private readonly ITimer _timer;
    private long _lastProgress; // Environment.TickCount64 (ms)

    public IdleTimer(TimeSpan timeout, CancellationToken callerToken)
    {
        Timeout = timeout;
        _callerToken = callerToken;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        _lastProgress = Environment.TickCount64;
        _timer = TimeProvider.System.CreateTimer(static state => ((IdleTimer)state!).OnDue(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Timeout { get; }
    public CancellationToken Token => _cts.Token;
    /// <summary>The idle window ran out (as opposed to the caller cancelling).</summary>
    public bool Fired => _cts.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    /// <summary>Progress: restart the idle window.</summary>
    public void Touch() => Volatile.Write(ref _lastProgress, Environment.TickCount64);

    private void OnDue()
    {
        var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastProgress));
        try
        {
            if (idle >= Timeout) _cts.Cancel();
            else _timer.Change(Timeout - idle, System.Threading.Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The request ended while the timer was due.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _cts.Dispose();
    }
}
