using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// Google's OAuth token endpoint as a service account uses it (<c>POST /google/token</c>, RFC 7523: a form with
/// <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c> and the signed <c>assertion</c>), so Google's own auth library
/// can be pointed at the fake through the <c>token_uri</c> of a service-account JSON. It answers
/// <c>{access_token: "ya29.fake-N", expires_in, token_type}</c> and records each assertion's claims.
/// </summary>
public sealed partial class FakeProvider
{
    private readonly List<JsonElement> _googleAssertions = [];

    /// <summary><c>http://127.0.0.1:PORT/google/token</c>.</summary>
    public string GoogleTokenUrl => new Uri(BaseUri, "google/token").ToString();

    /// <summary>The claims of every JWT assertion the Google token endpoint received, in order.</summary>
    public IReadOnlyList<JsonElement> GoogleAssertions
    {
        get
        {
            lock (_gate)
            {
                return _googleAssertions.ToArray();
            }
        }
    }

    private async Task HandleGoogleTokenAsync(HttpContext http)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : FormCollection.Empty;
        var assertion = form["assertion"].ToString().Split('.');
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || assertion.Length != 3)
        {
            await WriteTokenErrorAsync(http, 400, "invalid_grant");
            return;
        }

        var payload = assertion[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        int n;
        lock (_gate)
        {
            using var claims = JsonDocument.Parse(Convert.FromBase64String(payload));
            _googleAssertions.Add(claims.RootElement.Clone());
            n = _googleAssertions.Count;
        }

        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("access_token", $"ya29.fake-{n}");
            w.WriteNumber("expires_in", 3600);
            w.WriteString("token_type", "Bearer");
            w.WriteEndObject();
        }), http.RequestAborted);
    }
}
