using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports;

/// <summary>
/// Failure translation for the HTTP transports: an exception from sending or reading, or an error answer, becomes an
/// <see cref="UpstreamException"/> carrying the <see cref="UpstreamFailure"/> the classifier reads, with the provider's own
/// message, type and code.
/// </summary>
internal static class UpstreamErrors
{
    /// <summary>Maps an exception from sending or reading to an <see cref="UpstreamException"/>; null = not ours (caller cancelled).</summary>
    public static UpstreamException? Translate(Exception e, string providerId, IdleTimer idle, CancellationToken callerToken)
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

    /// <summary>
    /// Whether <paramref name="e"/> is what reading a body the parser could not make sense of throws: not only
    /// <see cref="JsonException"/> but a string with a lone surrogate (<see cref="InvalidOperationException"/>), a missing
    /// property (<see cref="KeyNotFoundException"/>), a value of the wrong kind or range, undecodable text
    /// (<see cref="ArgumentException"/>). A disposed stream is not one (the idle timer or the caller ended the read).
    /// </summary>
    public static bool IsMalformed(Exception e) =>
        e is JsonException or FormatException or KeyNotFoundException or IndexOutOfRangeException or OverflowException or ArgumentException
            or InvalidCastException or (InvalidOperationException and not ObjectDisposedException);

    /// <summary>An upstream body or event that could not be read: a classified failure (failover), never a raw exception.</summary>
    public static UpstreamException Malformed(string providerId, Exception e) =>
        Transport(providerId, UpstreamTransportError.MalformedStream, $"malformed JSON from upstream: {e.Message}", e);

    /// <summary>A failure below HTTP (connection, timeout, cut or malformed stream).</summary>
    public static UpstreamException Transport(string providerId, UpstreamTransportError kind, string message, Exception? inner = null) =>
        new(Failure(providerId, kind, message), UpstreamException.NoHints, inner);

    /// <summary>The failure record of <see cref="Transport"/>, for code that reports it before it is thrown.</summary>
    public static UpstreamFailure Failure(string? providerId, UpstreamTransportError kind, string message) =>
        new(null, message, null, null, providerId, kind);

    /// <summary>
    /// An error answer (non-2xx) in any of the shapes <see cref="ExtractError(string)"/> knows, with the field it names
    /// (OpenAI's <c>param</c>); the status when it has no text.
    /// </summary>
    public static UpstreamFailure FromResponse(HttpResponseMessage response, string body, string providerId)
    {
        string? message = null, type = null, code = null, param = null;
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                (message, type, code) = ExtractError(doc.RootElement);
                param = ExtractParam(doc.RootElement);
            }
            catch (Exception e) when (IsMalformed(e))
            {
                // Not JSON, or JSON it cannot read (a lone surrogate, a wrong type): the text itself is the message (below).
                (message, type, code, param) = (null, null, null, null);
            }
        }
        message ??= string.IsNullOrWhiteSpace(body) ? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}" : Truncate(body.Trim(), 2000);
        return new UpstreamFailure((int)response.StatusCode, message, code, type, providerId) { Param = param };
    }

    /// <summary>The request field an OpenAI-shaped error names (<c>error.param</c>), when it is a string.</summary>
    public static string? ExtractParam(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
        && error.TryGetProperty("param", out var param) && param.ValueKind == JsonValueKind.String
            ? param.GetString()
            : null;

    /// <summary>Finds message, type and code in the shapes providers use: OpenAI, Anthropic, Google (object or array), plain.</summary>
    public static (string? Message, string? Type, string? Code) ExtractError(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null, null);
        try
        {
            using var doc = JsonDocument.Parse(body);
            return ExtractError(doc.RootElement);
        }
        catch (Exception e) when (IsMalformed(e))
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

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
