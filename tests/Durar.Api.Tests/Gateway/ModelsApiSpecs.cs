using System.Net;
using System.Text.Json;

namespace Durar.Api.Tests.Gateway;

public sealed class ModelsApiSpecs
{
    [Fact]
    public async Task Should_list_durar_the_catalog_and_configured_models()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var doc = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/models"));
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        var ids = doc.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal("durar", ids[0]);
        Assert.Contains("fakeoai/gpt-fake", ids);
        Assert.Contains("echo/echo", ids);
        Assert.Contains("openai/gpt-5.4", ids);
        Assert.Contains("openrouter/auto", ids);
        var first = doc.RootElement.GetProperty("data")[0];
        Assert.Equal("model", first.GetProperty("object").GetString());
    }

    [Fact]
    public async Task Should_get_one_model_by_url_encoded_or_plain_id()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var encoded = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/models/nvidia%2Fnvidia%2Fllama-3.1-nemotron-70b-instruct"));
        Assert.Equal("nvidia/nvidia/llama-3.1-nemotron-70b-instruct", encoded.RootElement.GetProperty("id").GetString());
        Assert.Equal("nvidia", encoded.RootElement.GetProperty("owned_by").GetString());
        using var plain = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/models/fakeant/claude-fake"));
        Assert.Equal("fakeant/claude-fake", plain.RootElement.GetProperty("id").GetString());

        using var missing = await gw.Http.GetAsync("v1/models/nosuch%2Fmodel");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var err = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        Assert.Equal("model_not_found", err.RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
