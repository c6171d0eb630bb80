using System.Net;
using System.Text.Json;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>Every answer has a body a client can read: an unknown route is a 404 and a wrong method a 405, both OpenAI-shaped JSON.</summary>
public sealed class JsonErrorPagesSpecs
{
    [Theory]
    [InlineData("GET", "v1/responses-not-here", 404, "not_found_error", "unknown_route")]
    [InlineData("POST", "v1/nothing/here", 404, "not_found_error", "unknown_route")]
    [InlineData("GET", "v1/chat/completions", 405, "invalid_request_error", "method_not_allowed")]
    [InlineData("DELETE", "v1/models", 405, "invalid_request_error", "method_not_allowed")]
    public async Task Should_answer_unknown_routes_and_wrong_methods_with_a_json_error(string method, string path, int status, string type, string code)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var response = await gw.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Contains(path.Split('/')[^1], error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }
}
