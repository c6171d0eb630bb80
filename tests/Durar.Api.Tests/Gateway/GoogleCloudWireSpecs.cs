using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Configuration;
using Durar.Api.Tests.Gateway.Wires;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// The Google Cloud wires for what is theirs alone (the shared cases are in <see cref="WireConformanceSpecs"/>): Vertex AI
/// with Google Application Default Credentials through Google's own auth library (a service-account key whose
/// <c>token_uri</c> is the fake's Google token endpoint on 127.0.0.1: the token fetched once and reused), Claude on Vertex
/// with Vertex's body rules, Cloud Code Assist's envelope, and the start-up error that names an unfilled key.
/// </summary>
public sealed class GoogleCloudWireSpecs
{
    [Fact]
    public async Task Should_call_vertex_with_a_service_account_token_fetched_once_and_reused()
    {
        var fake = await FakeProvider.StartAsync();
        var dir = Directory.CreateTempSubdirectory("durar-gcp-");
        var keyFile = Path.Combine(dir.FullName, "sa.json");
        await File.WriteAllTextAsync(keyFile, ServiceAccount(fake.GoogleTokenUrl));
        await using var gw = await GatewayHarness.StartAsync($$"""
            models { providers { "google-vertex" { baseUrl = "{fake-anthropic}" } } }
            gateway { googleCloud { project = "proj-7", location = "europe-west4", credentialsFile = "{{keyFile.Replace("\\", "/", StringComparison.Ordinal)}}" } }
            """, fake);

        var first = await gw.ChatAsync("google-vertex/gemini-3-flash-preview");
        var second = await gw.ChatAsync("google-vertex/gemini-3-flash-preview", stream: true);

        Assert.True(first.Status == HttpStatusCode.OK, $"{(int)first.Status}: {first.Body}");
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(["/v1/projects/proj-7/locations/europe-west4/publishers/google/models/gemini-3-flash-preview:generateContent",
            "/v1/projects/proj-7/locations/europe-west4/publishers/google/models/gemini-3-flash-preview:streamGenerateContent"],
            fake.Requests.Select(r => r.Path));
        Assert.All(fake.Requests, r => Assert.Equal("Bearer ya29.fake-1", r.Headers["Authorization"]));
        var claims = Assert.Single(fake.GoogleAssertions);
        Assert.Equal("durar-test@proj-7.iam.gserviceaccount.com", claims.GetProperty("iss").GetString());
        Assert.Equal("https://www.googleapis.com/auth/cloud-platform", claims.GetProperty("scope").GetString());
        dir.Delete(recursive: true);
    }

    [Fact]
    public async Task Should_answer_with_what_failed_when_no_google_credential_can_be_had()
    {
        await using var gw = await GatewayHarness.StartAsync("""
            models { providers { "google-vertex" { baseUrl = "{fake-anthropic}" } } }
            gateway { googleCloud { project = "proj-7", location = "us-central1", credentialsFile = "/nonexistent/durar-sa.json" } }
            """);

        var reply = await gw.ChatAsync("google-vertex/gemini-3-flash-preview");

        // The gateway's own credential failed, not the client's: 502 with the reason auth, naming the file.
        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("auth", reply.Error.GetProperty("code").GetString());
        Assert.Contains("/nonexistent/durar-sa.json", reply.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_send_claude_on_vertex_the_anthropic_body_with_vertex_s_version_and_the_model_in_the_url()
    {
        await using var gw = await GatewayHarness.StartAsync(WireCase.AnthropicVertex.Hocon);

        var reply = await gw.ChatAsync(WireCase.AnthropicVertex.Model, stream: true);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1/projects/proj-7/locations/us-central1/publishers/anthropic/models/claude-fake:streamRawPredict", sent.Path);
        Assert.Equal("Bearer " + WireCase.KeyA, sent.Headers["Authorization"]);
        var body = sent.Json.RootElement;
        Assert.Equal("vertex-2023-10-16", body.GetProperty("anthropic_version").GetString());
        Assert.False(body.TryGetProperty("model", out _));
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.Equal("say something nice please", body.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Should_wrap_the_gemini_request_in_code_assist_s_envelope()
    {
        await using var gw = await GatewayHarness.StartAsync(WireCase.GoogleGeminiCli.Hocon);

        var reply = await gw.ChatAsync(WireCase.GoogleGeminiCli.Model);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("Hello from fake: say something nice please", reply.Content);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1internal:generateContent", sent.Path);
        Assert.Equal("Bearer " + WireCase.KeyA, sent.Headers["Authorization"]);
        var body = sent.Json.RootElement;
        Assert.Equal(("gemini-fake", "proj-7"), (body.GetProperty("model").GetString(), body.GetProperty("project").GetString()));
        Assert.Equal("say something nice please", body.GetProperty("request").GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("google-vertex", """project = "p-1" """, "gateway.googleCloud.location")]
    [InlineData("anthropic-vertex", """location = "us-east5" """, "gateway.googleCloud.project")]
    [InlineData("google-gemini-cli", "", "gateway.googleCloud.project")]
    public async Task Should_refuse_to_start_naming_the_unfilled_key_of_a_configured_google_cloud_provider(string provider, string filled, string key)
    {
        var config = $$"""
            models { providers { "{{provider}}" { baseUrl = "{fake-anthropic}" } } }
            gateway { googleCloud { {{filled}} } }
            env { GOOGLE_CLOUD_PROJECT = "", GOOGLE_CLOUD_PROJECT_ID = "", GOOGLE_CLOUD_LOCATION = "" }
            """;

        var error = await Assert.ThrowsAsync<DurarConfigException>(() => GatewayHarness.StartAsync(config));

        Assert.Equal(key, error.Path);
        Assert.Contains(provider, error.Problem, StringComparison.Ordinal);
    }

    /// <summary>A service-account key file as the Cloud console writes it, with a fresh RSA key and the fake's token endpoint.</summary>
    private static string ServiceAccount(string tokenUri)
    {
        using var rsa = RSA.Create(2048);
        return new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "proj-7",
            ["private_key_id"] = "0123456789abcdef",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "durar-test@proj-7.iam.gserviceaccount.com",
            ["client_id"] = "1234567890",
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri,
        }.ToJsonString();
    }
}
