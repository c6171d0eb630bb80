using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Sessions;

/// <summary>A session turn chats: a <c>/model</c> override naming an embedding model is refused with a 400 naming it, no call made.</summary>
public sealed class SessionModelKindSpecs
{
    private const string Config = """
        models { providers { seskind { baseUrl = "{fake-openai}", apiKey = "sk-seskind-0001", api = "openai-completions",
          models = [{ id = "chat-m", kind = "chat" }, { id = "embed-m", kind = "embedding" }] } } }
        agents { defaults { model { primary = "seskind/chat-m" } } }
        """;

    [Fact]
    public async Task Should_refuse_a_turn_on_an_embedding_model_naming_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        using var response = await gw.Http.SendAsync(gw.Post("v1/sessions/kind-1/messages", """{"content":"/model seskind/embed-m hello there"}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("`seskind/embed-m` is an embedding model: use POST /v1/embeddings.", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("unsupported_model", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);

        // The same session still chats on its default model.
        using var ok = await gw.Http.SendAsync(gw.Post("v1/sessions/kind-1/messages", """{"content":"hello again"}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("chat-m", Assert.Single(gw.Fake.Requests).Model);
    }
}
