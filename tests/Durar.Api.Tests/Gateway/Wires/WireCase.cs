using Durar.Actors.Configuration;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// One upstream wire as the conformance suite (<see cref="WireConformanceSpecs"/>) drives it: a provider with two keys on the
/// fake provider's side of that wire, the model a client asks for, what the fake must know first (Bedrock's secret keys), and
/// how to read from a recorded upstream request which key sent it. <see cref="All"/> holds one case per api the catalog
/// can name (<see cref="ApiKinds.All"/> but the in-process echo); a spec fails when an api has none, so a new wire cannot skip
/// the suite.
/// </summary>
/// <param name="Api">The api name (the Theory's row label).</param>
/// <param name="ProviderId">The provider's id (its keys are in the <c>&lt;ID&gt;_API_KEYS</c> env entry).</param>
/// <param name="Hocon">The provider's config; <c>{fake-openai}</c> and <c>{fake-anthropic}</c> are filled by the harness.</param>
/// <param name="Model">The model ref a client asks for.</param>
public sealed record WireCase(string Api, string ProviderId, string Hocon, string Model)
{
    public const string KeyA = "wire-key-aaaa-1111";
    public const string KeyB = "wire-key-bbbb-2222";

    /// <summary>What the fake must know before the gateway starts.</summary>
    public Action<FakeProvider>? Prepare { get; init; }

    /// <summary>Which key sent a recorded request, as <see cref="Keys"/> spells it; by default the bearer/api-key header.</summary>
    public Func<RecordedRequest, string?> KeyOf { get; init; } = r => r.ApiKey;

    /// <summary>The two keys in rotation order as <see cref="KeyOf"/> reads them; null when the upstream sees derived tokens (Copilot).</summary>
    public (string A, string B)? Keys { get; init; } = (KeyA, KeyB);

    /// <summary>The upstream only streams: a non-streaming request is streamed upstream and folded into one answer.</summary>
    public bool StreamOnly { get; init; }

    public override string ToString() => Api;

    private const string Failover = "gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }";

    /// <summary>The project and region the Google Cloud wires call.</summary>
    public const string GoogleCloud = """gateway { googleCloud { project = "proj-7", location = "us-central1" } }""";

    private static WireCase Make(string api, string id, string baseUrl, string model, string extra = "", string keys = KeyA + "," + KeyB) =>
        new(api, id, $$"""
            models { providers { {{id}} { baseUrl = "{{baseUrl}}", api = "{{api}}", models = [{ id = "{{model}}", reasoning = true, input = ["text", "image"], contextWindow = 32768 }] } } }
            env { {{id.ToUpperInvariant()}}_API_KEYS = "{{keys}}" }
            {{extra}}
            {{Failover}}
            """, $"{id}/{model}");

    public static readonly WireCase OpenAiCompletions = Make(ApiKinds.OpenAiCompletions, "oai", "{fake-openai}", "m");
    public static readonly WireCase OpenAiResponses = Make(ApiKinds.OpenAiResponses, "resp", "{fake-openai}", "m");
    public static readonly WireCase OpenAiCodex = Make(ApiKinds.OpenAiChatGptResponses, "codex", "{fake-openai}", "m") with { StreamOnly = true };
    public static readonly WireCase AzureOpenAiResponses = Make(ApiKinds.AzureOpenAiResponses, "azr", "{fake-openai}", "m");
    public static readonly WireCase AnthropicMessages = Make(ApiKinds.AnthropicMessages, "ant", "{fake-anthropic}", "claude-fake");
    public static readonly WireCase Ollama = Make(ApiKinds.Ollama, "oll", "{fake-anthropic}", "m");
    public static readonly WireCase GoogleGenerativeAi = Make(ApiKinds.GoogleGenerativeAi, "gem", "{fake-anthropic}/v1beta", "gemini-fake");
    public static readonly WireCase GoogleVertex = Make(ApiKinds.GoogleVertex, "vtx", "{fake-anthropic}", "gemini-fake", GoogleCloud);
    public static readonly WireCase AnthropicVertex = Make(ApiKinds.AnthropicVertex, "avx", "{fake-anthropic}", "claude-fake", GoogleCloud);
    public static readonly WireCase GoogleGeminiCli = Make(ApiKinds.GoogleGeminiCli, "gcli", "{fake-anthropic}", "gemini-fake", GoogleCloud);

    /// <summary>Copilot: two GitHub tokens, each exchanged at the fake; the chat's bearer is the issued Copilot token.</summary>
    public static readonly WireCase GitHubCopilot = Make(ApiKinds.GitHubCopilot, "cop", "http://127.0.0.1:9/unused", "m",
        """gateway { copilot { tokenUrl = "{fake-anthropic}/copilot_internal/v2/token" } }""", "gh-one,gh-two") with { Keys = null };

    /// <summary>Bedrock: two static access keys; the fake checks every request's SigV4 signature with the AWS SDK's signer.</summary>
    public static readonly WireCase Bedrock = Make(ApiKinds.BedrockConverseStream, "br", "{fake-anthropic}", BedrockModel, "",
        $"{BedrockKeyOne}:{BedrockSecretOne},{BedrockKeyTwo}:{BedrockSecretTwo}") with
    {
        Prepare = fake =>
        {
            fake.BedrockSecrets[BedrockKeyOne] = BedrockSecretOne;
            fake.BedrockSecrets[BedrockKeyTwo] = BedrockSecretTwo;
        },
        KeyOf = BedrockKey,
        Keys = (BedrockKeyOne, BedrockKeyTwo),
    };

    public const string BedrockModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    public const string BedrockKeyOne = "AKIAFAKEONE000000001", BedrockSecretOne = "secret/one+fake";
    public const string BedrockKeyTwo = "AKIAFAKETWO000000002", BedrockSecretTwo = "secret/two+fake";

    /// <summary>The access key of a SigV4-signed request (<c>Credential=AKID/...</c>).</summary>
    public static string? BedrockKey(RecordedRequest r) =>
        r.Headers.TryGetValue("Authorization", out var auth) && auth.StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal)
            ? auth["AWS4-HMAC-SHA256 Credential=".Length..].Split('/')[0]
            : null;

    /// <summary>Every wire's case: one per api of <see cref="ApiKinds.All"/> but echo (checked by <see cref="WireConformanceSpecs"/>).</summary>
    public static readonly IReadOnlyList<WireCase> All =
    [
        OpenAiCompletions, OpenAiResponses, OpenAiCodex, AzureOpenAiResponses, AnthropicMessages, Ollama, GoogleGenerativeAi, GoogleVertex,
        AnthropicVertex, GoogleGeminiCli, GitHubCopilot, Bedrock,
    ];

    /// <summary>The gateway on a fresh fake speaking this wire, with <paramref name="extraHocon"/> layered on the case's config.</summary>
    public async Task<GatewayHarness> StartAsync(string extraHocon = "", FakeProvider? fake = null)
    {
        fake ??= await FakeProvider.StartAsync();
        Prepare?.Invoke(fake);
        return await GatewayHarness.StartAsync(Hocon + "\n" + extraHocon, fake);
    }
}
