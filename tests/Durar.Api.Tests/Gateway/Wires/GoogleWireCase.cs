using System.Text.Json;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// One upstream wire as the conformance suite (<see cref="GoogleWireConformanceSpecs"/>) drives it: a provider on the fake provider
/// with two keys (<see cref="KeyA"/>, <see cref="KeyB"/>, in that order), the model to ask for, and how to read, in the body the
/// gateway sent upstream, the two things whose shape is the wire's own (a tool result, an image's bytes). A new wire adds one
/// instance to <see cref="All"/> and runs every case.
/// </summary>
/// <param name="Name">The api name (the Theory's row label).</param>
/// <param name="Hocon">The provider's config; <c>{fake-openai}</c> and <c>{fake-anthropic}</c> are filled by the harness.</param>
/// <param name="ProviderId">The provider's id (its keys are in the <c>&lt;ID&gt;_API_KEYS</c> env entry).</param>
/// <param name="Model">The model ref a client asks for.</param>
/// <param name="ToolResult">The tool result text the upstream body carries (the last one).</param>
/// <param name="ImageData">The base64 data of the first image the upstream body carries.</param>
public sealed record GoogleWireCase(string Name, string Hocon, string ProviderId, string Model, Func<JsonElement, string?> ToolResult,
    Func<JsonElement, string?> ImageData)
{
    public const string KeyA = "wire-key-aaaa-1111";
    public const string KeyB = "wire-key-bbbb-2222";

    public override string ToString() => Name;

    private static string Keys(string id) => $$"""env { {{id.ToUpperInvariant()}}_API_KEYS = "{{KeyA}},{{KeyB}}" }""" + "\n"
        + """gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }""";

    /// <summary>Gemini's own API (<c>google-generative-ai</c>) on the fake's <c>/v1beta</c>.</summary>
    public static readonly GoogleWireCase GoogleGenerativeAi = new("google-generative-ai",
        """models { providers { gem { baseUrl = "{fake-anthropic}/v1beta", api = "google-generative-ai", models = [{ id = "gemini-fake", reasoning = true, input = ["text", "image"] }] } } }"""
        + "\n" + Keys("gem"),
        "gem", "gem/gemini-fake", GeminiToolResult, GeminiImage);

    /// <summary>Anthropic Messages (<c>anthropic-messages</c>) on the fake's <c>/v1/messages</c>.</summary>
    public static readonly GoogleWireCase AnthropicMessages = new("anthropic-messages",
        """models { providers { ant { baseUrl = "{fake-anthropic}", api = "anthropic-messages", models = [{ id = "claude-fake", reasoning = true, input = ["text", "image"] }] } } }"""
        + "\n" + Keys("ant"),
        "ant", "ant/claude-fake", AnthropicToolResult, AnthropicImage);

    /// <summary>The project and region the Google Cloud wires call.</summary>
    public const string GoogleCloud = """gateway { googleCloud { project = "proj-7", location = "us-central1" } }""";

    /// <summary>
    /// Gemini on Vertex AI (<c>google-vertex</c>) on the fake's <c>/v1/projects/...</c>; the provider's keys are access tokens
    /// (the ADC path is <c>VertexAuthSpecs</c>').
    /// </summary>
    public static readonly GoogleWireCase GoogleVertex = new("google-vertex",
        """models { providers { vtx { baseUrl = "{fake-anthropic}", api = "google-vertex", models = [{ id = "gemini-fake", reasoning = true, input = ["text", "image"] }] } } }"""
        + "\n" + GoogleCloud + "\n" + Keys("vtx"),
        "vtx", "vtx/gemini-fake", GeminiToolResult, GeminiImage);

    /// <summary>Claude on Vertex AI (<c>anthropic-vertex</c>): Anthropic's body and events at <c>:streamRawPredict</c>.</summary>
    public static readonly GoogleWireCase AnthropicVertex = new("anthropic-vertex",
        """models { providers { avx { baseUrl = "{fake-anthropic}", api = "anthropic-vertex", models = [{ id = "claude-fake", reasoning = true, input = ["text", "image"] }] } } }"""
        + "\n" + GoogleCloud + "\n" + Keys("avx"),
        "avx", "avx/claude-fake", AnthropicToolResult, AnthropicImage);

    /// <summary>Gemini through Cloud Code Assist (<c>google-gemini-cli</c>); the keys stand for OAuth access tokens.</summary>
    public static readonly GoogleWireCase GoogleGeminiCli = new("google-gemini-cli",
        """models { providers { gcli { baseUrl = "{fake-anthropic}", api = "google-gemini-cli", models = [{ id = "gemini-fake", reasoning = true, input = ["text", "image"] }] } } }"""
        + "\n" + GoogleCloud + "\n" + Keys("gcli"),
        "gcli", "gcli/gemini-fake", GeminiToolResult, GeminiImage);

    public static TheoryData<GoogleWireCase> All => new(GoogleGenerativeAi, AnthropicMessages, GoogleVertex, AnthropicVertex, GoogleGeminiCli);

    /// <summary>Gemini: the last <c>functionResponse.response.result</c> (or the whole response object) in <c>contents</c>.</summary>
    public static string? GeminiToolResult(JsonElement body)
    {
        var request = body.TryGetProperty("request", out var inner) ? inner : body;
        string? found = null;
        foreach (var content in request.GetProperty("contents").EnumerateArray())
            foreach (var part in content.GetProperty("parts").EnumerateArray())
                if (part.TryGetProperty("functionResponse", out var response))
                {
                    var r = response.GetProperty("response");
                    found = r.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.String ? result.GetString() : r.GetRawText();
                }
        return found;
    }

    public static string? GeminiImage(JsonElement body)
    {
        var request = body.TryGetProperty("request", out var inner) ? inner : body;
        foreach (var content in request.GetProperty("contents").EnumerateArray())
            foreach (var part in content.GetProperty("parts").EnumerateArray())
                if (part.TryGetProperty("inlineData", out var data)) return data.GetProperty("data").GetString();
        return null;
    }

    public static string? AnthropicToolResult(JsonElement body)
    {
        string? found = null;
        foreach (var message in body.GetProperty("messages").EnumerateArray())
            if (message.GetProperty("content") is { ValueKind: JsonValueKind.Array } blocks)
                foreach (var block in blocks.EnumerateArray())
                    if (block.GetProperty("type").ValueEquals("tool_result")) found = block.GetProperty("content").GetString();
        return found;
    }

    public static string? AnthropicImage(JsonElement body)
    {
        foreach (var message in body.GetProperty("messages").EnumerateArray())
            if (message.GetProperty("content") is { ValueKind: JsonValueKind.Array } blocks)
                foreach (var block in blocks.EnumerateArray())
                    if (block.GetProperty("type").ValueEquals("image")) return block.GetProperty("source").GetProperty("data").GetString();
        return null;
    }
}
