using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// GitHub Copilot's side of the fake: the token exchange (<c>GET /copilot_internal/v2/token</c> with
/// <c>Authorization: token &lt;GitHub token&gt;</c>, answering <c>{token, expires_at, refresh_in, endpoints.api}</c> as GitHub
/// documents it for editors) whose <c>endpoints.api</c> is this server, so the chat that follows lands on the fake's
/// OpenAI wire at <c>/chat/completions</c>. Every exchange is recorded with the token it issued.
/// </summary>
public sealed partial class FakeProvider
{
    private readonly List<CopilotExchange> _copilotExchanges = [];

    /// <summary><c>http://127.0.0.1:PORT/copilot_internal/v2/token</c>.</summary>
    public string CopilotTokenUrl => new Uri(BaseUri, "copilot_internal/v2/token").ToString();

    /// <summary>Lifetime of issued Copilot tokens (<c>expires_at</c> = now + this), in seconds. Default 1800, as GitHub's.</summary>
    public int CopilotTokenLifetimeSeconds { get; set; } = 1800;

    /// <summary>When set, the exchange answers this status (GitHub's <c>{"message":...}</c> body) instead of a token.</summary>
    public int? CopilotExchangeFailureStatus { get; set; }

    /// <summary>Every call to the token exchange, in arrival order.</summary>
    public IReadOnlyList<CopilotExchange> CopilotExchanges
    {
        get
        {
            lock (_gate)
            {
                return _copilotExchanges.ToArray();
            }
        }
    }

    private void MapWires(WebApplication app)
    {
        app.MapGet("/copilot_internal/v2/token", HandleCopilotTokenAsync);
        MapBedrock(app);
        MapLogins(app);
    }

    private async Task HandleCopilotTokenAsync(HttpContext http)
    {
        var authorization = http.Request.Headers.Authorization.ToString();
        var github = authorization.StartsWith("token ", StringComparison.Ordinal) ? authorization["token ".Length..] : null;
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        http.Response.ContentType = "application/json";
        var failure = github is null ? 401 : CopilotExchangeFailureStatus;
        if (failure is { } refused)
        {
            lock (_gate)
            {
                _copilotExchanges.Add(new CopilotExchange(github, headers, null, DateTimeOffset.UtcNow));
            }

            http.Response.StatusCode = refused;
            await http.Response.WriteAsync("""{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}""");
            return;
        }

        var now = DateTimeOffset.UtcNow;
        string issued;
        lock (_gate)
        {
            issued = $"tid=fake;exp={now.ToUnixTimeSeconds() + CopilotTokenLifetimeSeconds};sku=fake:copilot-{_copilotExchanges.Count + 1}";
            _copilotExchanges.Add(new CopilotExchange(github, headers, issued, now));
        }

        var body = JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("token", issued);
            w.WriteNumber("expires_at", now.ToUnixTimeSeconds() + CopilotTokenLifetimeSeconds);
            w.WriteNumber("refresh_in", Math.Max(1, CopilotTokenLifetimeSeconds - 300));
            w.WriteStartObject("endpoints");
            w.WriteString("api", BaseUri.GetLeftPart(UriPartial.Authority));
            w.WriteString("proxy", BaseUri.GetLeftPart(UriPartial.Authority));
            w.WriteEndObject();
            w.WriteEndObject();
        });
        await http.Response.Body.WriteAsync(body);
    }
}

/// <summary>One call to the fake's Copilot token exchange: the GitHub token it carried, its headers, the Copilot token issued (null = refused).</summary>
public sealed record CopilotExchange(string? GitHubToken, IReadOnlyDictionary<string, string> Headers, string? IssuedToken, DateTimeOffset ReceivedAt);
