using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Durar.Api.Cli;

/// <summary>
/// The HTTP side of the commands that talk to a running gateway: one request, its JSON answer, and every failure turned
/// into one of two exceptions the command line maps to an exit code: the gateway answered with an error
/// (<see cref="GatewayErrorException"/>, its <c>{"error":{...}}</c> message and code) or it could not be reached
/// (<see cref="GatewayUnreachableException"/>).
/// </summary>
internal sealed class GatewayClient : IDisposable
{
    /// <summary>A gateway that does not accept the connection within this is treated as down.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for one answer (the admin routes answer within the gateway's ask timeout).</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;

    public GatewayClient(Uri baseUri, string? token)
    {
        BaseUri = baseUri;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { BaseAddress = baseUri, Timeout = RequestTimeout };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseUri { get; }

    public Task<JsonDocument> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    /// <summary>Sends one request (<paramref name="json"/> as its body, if any) and returns the answer's JSON.</summary>
    /// <exception cref="GatewayErrorException">The gateway answered with a status other than 2xx.</exception>
    /// <exception cref="GatewayUnreachableException">No connection, or no answer in time.</exception>
    public async Task<JsonDocument> SendAsync(HttpMethod method, string path, string? json, CancellationToken ct) =>
        (await SendWithStatusAsync(method, path, json, ct)).Body;

    /// <summary>As <see cref="SendAsync"/>, with the answer's HTTP status (201 for a created auth profile, 200 for a replaced one).</summary>
    public async Task<(int Status, JsonDocument Body)> SendWithStatusAsync(HttpMethod method, string path, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new GatewayUnreachableException($"cannot reach the gateway at {BaseUri} ({Reason(e)}). Is it running (durar serve), and is --url right?");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new GatewayUnreachableException($"the gateway at {BaseUri} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) throw GatewayErrorException.From(response.StatusCode, body);
            try
            {
                return ((int)response.StatusCode, JsonDocument.Parse(body.Length == 0 ? "{}" : body));
            }
            catch (JsonException)
            {
                throw new GatewayErrorException((int)response.StatusCode, $"the gateway answered with something that is not JSON: {Excerpt(body)}", null);
            }
        }
    }

    private static string Reason(HttpRequestException e) =>
        e.InnerException is System.Net.Sockets.SocketException s ? s.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
            System.Net.Sockets.SocketError.HostNotFound => "host not found",
            System.Net.Sockets.SocketError.TimedOut => "connection timed out",
            _ => s.Message,
        }
        : e.Message;

    internal static string Excerpt(string body)
    {
        var text = body.ReplaceLineEndings(" ").Trim();
        return text.Length <= 200 ? text : text[..200] + "…";
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The gateway answered with an error: its message and code (from <c>{"error":{...}}</c>) and the HTTP status.</summary>
internal sealed class GatewayErrorException(int status, string message, string? code) : Exception(message)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;

    public static GatewayErrorException From(HttpStatusCode status, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                return new GatewayErrorException((int)status, message.GetString()!,
                    error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null);
        }
        catch (JsonException)
        {
        }
        var text = GatewayClient.Excerpt(body);
        return new GatewayErrorException((int)status, text.Length == 0 ? $"HTTP {(int)status} {status}" : text, null);
    }
}

/// <summary>No connection to the gateway, or no answer in time.</summary>
internal sealed class GatewayUnreachableException(string message) : Exception(message);
