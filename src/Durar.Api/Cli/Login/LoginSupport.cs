using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Durar.Api.Cli.Login;

/// <summary>A sign-in that ended without a token: one line for the operator, and the exit code that says why.</summary>
internal sealed class LoginFailedException(string message, int exitCode = ExitCodes.LoginFailed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// What a finished sign-in stores: a <c>token</c> profile (<see cref="Token"/>, GitHub's) or an <c>oauth</c> one
/// (<see cref="Access"/>, <see cref="Refresh"/>, expiry, and the endpoint and client that refresh it).
/// </summary>
internal sealed record LoginResult(string Type, string? Token, string? Access, string? Refresh, long? ExpiresMs, string? TokenUrl,
    string? ClientId, string? Email, string? Note)
{
    public override string ToString() => $"LoginResult({Type}, {Email ?? "no email"})"; // never a token
}

/// <summary>What a flow needs from the command: where to print, whether to open a browser, its HTTP client and deadline.</summary>
internal sealed record LoginContext(CliConsole Io, bool NoBrowser, HttpClient Http, TimeSpan Timeout, CancellationToken Cancel)
{
    /// <summary>
    /// Prints a line for the user at once, on standard error: standard output keeps only the result (<c>--json</c> stays
    /// parseable), and a test acting as the user reads the line while the flow waits.
    /// </summary>
    public void Say(string line)
    {
        Io.Err.WriteLine(line);
        Io.Err.Flush();
    }

    /// <summary>Opens <paramref name="url"/> in the default browser unless <c>--no-browser</c>; the URL is printed either way.</summary>
    public void Open(string url)
    {
        if (NoBrowser) return;
        try
        {
            var (file, args) = OperatingSystem.IsWindows() ? ("rundll32", $"url.dll,FileProtocolHandler \"{url}\"")
                : OperatingSystem.IsMacOS() ? ("open", $"\"{url}\"") : ("xdg-open", $"\"{url}\"");
            using var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Say("(No browser could be opened: open the URL above yourself.)");
        }
    }
}

/// <summary>The HTTP and crypto pieces the three sign-ins share: form posts read as JSON, PKCE, JWT claims.</summary>
internal static class OAuthHttp
{
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>Posts a form and reads the JSON answer (any status: OAuth errors come as <c>{"error":...}</c> with 200 or 4xx).</summary>
    /// <exception cref="LoginFailedException">No connection, or an answer that is not a JSON object.</exception>
    public static async Task<(int Status, JsonElement Body)> PostFormAsync(HttpClient http, string url, IEnumerable<KeyValuePair<string, string>> form,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendAsync(http, request, ct);
    }

    /// <summary>A GET with a bearer token (Google's userinfo), read as JSON.</summary>
    public static async Task<(int Status, JsonElement Body)> GetAsync(HttpClient http, string url, string bearer, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await SendAsync(http, request, ct);
    }

    private static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        var host = request.RequestUri!.GetLeftPart(UriPartial.Path);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            if (bytes.Length > MaxBodyBytes) throw new LoginFailedException($"{host} answered more than {MaxBodyBytes / 1024} KiB");
            try
            {
                using var doc = JsonDocument.Parse(bytes.Length == 0 ? "{}"u8.ToArray() : bytes);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
                return ((int)response.StatusCode, doc.RootElement.Clone());
            }
            catch (JsonException)
            {
                throw new LoginFailedException($"{host} answered HTTP {(int)response.StatusCode} with something that is not a JSON object");
            }
        }
        catch (HttpRequestException e)
        {
            throw new LoginFailedException($"cannot reach {host} ({e.HttpRequestError})", ExitCodes.Unreachable);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new LoginFailedException($"{host} did not answer in time", ExitCodes.Unreachable);
        }
    }

    public static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    /// <summary>A positive number of seconds (<c>expires_in</c>, <c>interval</c>), given as a number or a string.</summary>
    public static double? Seconds(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDouble(out var d) && d is >= 0 and < 1e9 => d,
            JsonValueKind.String when double.TryParse(v.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var d) && d is >= 0 and < 1e9 => d,
            _ => null,
        } : null;

    /// <summary>The OAuth error of an answer: <c>error</c> (and its description), for a one-line message.</summary>
    public static string Error(int status, JsonElement body) =>
        Str(body, "error") is { } code
            ? $"{code}{(Str(body, "error_description") is { } d ? $": {Line(d)}" : "")} (HTTP {status})"
            : $"HTTP {status} without an access_token";

    /// <summary>Random URL-safe text: PKCE verifiers (RFC 7636 §4.1) and states.</summary>
    public static string Random(int bytes) => Base64Url(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>RFC 7636 §4.2: <c>BASE64URL(SHA256(ASCII(code_verifier)))</c>.</summary>
    public static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The payload of a JWT (an id token, a ChatGPT access token), or an undefined element when it is not one.</summary>
    public static JsonElement JwtPayload(string? jwt)
    {
        var parts = jwt?.Split('.');
        if (parts is not { Length: 3 }) return default;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Convert.FromBase64String(payload));
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return default;
        }
    }

    private static string Line(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 200 ? line : line[..200] + "…";
    }
}
