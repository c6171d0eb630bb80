using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// Reference item 13 through the gateway: a request or session turn with an image, on a model whose catalog <c>input</c>
/// lacks <c>image</c>, is answered by <c>agents.defaults.imageModel</c>; with none set it is a 400 naming the model and no
/// upstream call is made. Text requests stay on their model.
/// </summary>
public sealed class ImageRoutingSpecs
{
    private const string Providers = """
        models { providers {
          img { baseUrl = "{fake-openai}", apiKey = "sk-img-0001", api = "openai-completions", models = [{ id = "txt" }] }
          imgv { baseUrl = "{fake-openai}", apiKey = "sk-imgv-0002", api = "openai-completions", models = [{ id = "vis", input = ["text", "image"] }] }
        } }
        """;

    private const string WithImageModel = Providers + "\n" + """
        agents.defaults.model.primary = "img/txt"
        agents.defaults.imageModel = "imgv/vis"
        """;

    private const string WithoutImageModel = Providers + "\n" + """
        agents { defaults { model { primary = "img/txt" } } }
        """;

    private const string ImageMessage = """
        {"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}
        """;

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> ChatAsync(GatewayHarness gw, string model,
        string message, string? sessionKey = null)
    {
        var request = gw.Post("v1/chat/completions", $$"""{"model":"{{model}}","messages":[{{message}}]}""");
        if (sessionKey is not null) request.Headers.Add("x-durar-session-key", sessionKey);
        var response = await gw.Http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), response);
    }

    private static bool HasImage(RecordedRequest request) =>
        request.Json.RootElement.GetProperty("messages").EnumerateArray().Any(m =>
            m.GetProperty("content") is { ValueKind: JsonValueKind.Array } parts && parts.EnumerateArray().Any(p => p.GetProperty("type").GetString() == "image_url"));

    [Fact]
    public async Task Should_route_an_image_request_on_a_text_only_model_to_the_image_model()
    {
        await using var gw = await GatewayHarness.StartAsync(WithImageModel);
        gw.Fake.Default = new FakeResponse { Text = "A cat." };

        var (status, body, response) = await ChatAsync(gw, "img/txt", ImageMessage);
        var (textStatus, _, textResponse) = await ChatAsync(gw, "img/txt", """{"role":"user","content":"hello"}""");

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("imgv/vis", response.Headers.GetValues("x-durar-model").Single());
        Assert.Equal("vis", gw.Fake.Requests[0].Model);
        Assert.True(HasImage(gw.Fake.Requests[0]));
        Assert.Equal(HttpStatusCode.OK, textStatus);
        Assert.Equal("img/txt", textResponse.Headers.GetValues("x-durar-model").Single());
        Assert.Equal("txt", gw.Fake.Requests[1].Model);
    }

    [Fact]
    public async Task Should_route_an_image_session_turn_to_the_image_model_and_leave_the_sessions_model_alone()
    {
        await using var gw = await GatewayHarness.StartAsync(WithImageModel);
        gw.Fake.Default = new FakeResponse { Text = "A cat." };

        using (var text = await gw.Http.SendAsync(gw.Post("v1/sessions/pics-1/messages", """{"content":"hello"}""")))
            Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        using var before = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/pics-1"));
        var pin = before.RootElement.GetProperty("authProfile").GetProperty("id").GetString();

        var (status, body, _) = await ChatAsync(gw, "durar", ImageMessage, sessionKey: "pics-1");

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("txt", gw.Fake.Requests[0].Model);
        var upstream = gw.Fake.Requests[1];
        Assert.Equal("vis", upstream.Model);
        Assert.True(HasImage(upstream));
        using var view = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/pics-1"));
        Assert.Equal(JsonValueKind.Null, view.RootElement.GetProperty("overrides").GetProperty("model").ValueKind);
        Assert.Equal("imgv/vis", view.RootElement.GetProperty("lastModel").GetString());
        // A temporary switch: the text model's automatic auth pin stays (reference item 33).
        Assert.NotNull(pin);
        Assert.Equal(pin, view.RootElement.GetProperty("authProfile").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Should_refuse_an_image_request_with_400_naming_the_model_when_no_image_model_is_set()
    {
        await using var gw = await GatewayHarness.StartAsync(WithoutImageModel);

        var (status, body, _) = await ChatAsync(gw, "img/txt", ImageMessage);
        var (sessionStatus, sessionBody, _) = await ChatAsync(gw, "durar", ImageMessage, sessionKey: "pics-2");
        var (visStatus, _, _) = await ChatAsync(gw, "imgv/vis", ImageMessage);

        foreach (var (s, b) in new[] { (status, body), (sessionStatus, sessionBody) })
        {
            Assert.Equal(HttpStatusCode.BadRequest, s);
            var error = b.GetProperty("error");
            Assert.Equal("image_not_supported", error.GetProperty("code").GetString());
            Assert.Contains("\"img/txt\"", error.GetProperty("message").GetString());
            Assert.Contains("agents.defaults.imageModel", error.GetProperty("message").GetString());
        }
        // Only the model that reads images was called.
        Assert.Equal(HttpStatusCode.OK, visStatus);
        Assert.Equal("vis", Assert.Single(gw.Fake.Requests).Model);
    }
}
