using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Durar.Api.Tests.Access;

/// <summary>A gateway with an operator token and a priced model, and the calls the client-token specs make against it.</summary>
internal static class TokenGateway
{
    public const string OperatorToken = "operator-token-0123456789abcdef0123456789";

    /// <summary>One OpenAI-wire provider with two priced models (3 / 15 per million tokens) and the operator token.</summary>
    public const string Config = """
        models { providers { tok { baseUrl = "{fake-openai}", apiKey = "sk-tok-aaaa", api = "openai-completions",
          models = [{ id = "m", cost = { input = 3, output = 15 } }, { id = "other", cost = { input = 3, output = 15 } }] } } }
        agents { defaults { model { primary = "tok/m" } } }
        gateway { auth { token = "operator-token-0123456789abcdef0123456789" }
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    public static HttpRequestMessage Request(HttpMethod method, string path, string? json, string? bearer)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return request;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(GatewayHarness gw, HttpMethod method,
        string path, string? json, string? bearer)
    {
        var response = await gw.Http.SendAsync(Request(method, path, json, bearer));
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, body, response);
    }

    /// <summary>Creates a token as the operator; its answer (with the secret).</summary>
    public static async Task<JsonElement> CreateAsync(GatewayHarness gw, JsonObject spec)
    {
        var (status, body, _) = await SendAsync(gw, HttpMethod.Post, "v1/admin/tokens", spec.ToJsonString(), OperatorToken);
        Assert.True(status == HttpStatusCode.Created, $"{status}: {body}");
        return body;
    }

    public static Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> ChatAsync(GatewayHarness gw, string? bearer,
        string model = "tok/m", string extra = "") =>
        SendAsync(gw, HttpMethod.Post, "v1/chat/completions", $$"""{"model":"{{model}}"{{extra}},"messages":[{"role":"user","content":"hi"}]}""", bearer);

    public static async Task<JsonElement> GetAsync(GatewayHarness gw, string id)
    {
        var (status, body, _) = await SendAsync(gw, HttpMethod.Get, $"v1/admin/tokens/{id}", null, OperatorToken);
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    public static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;
}
