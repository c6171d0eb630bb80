using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// One upstream wire as the conformance suite drives it: the config that puts a provider with two keys on the fake's side of
/// that wire, the model to ask for, and how to read back from a recorded upstream request what the suite checks (which key
/// sent it, the image bytes it carried). A new wire adds one case here and runs every case of <see cref="AwsWireConformanceSpecs"/>.
/// </summary>
public sealed record AwsWireCase(string Name, string Hocon, string Model, Func<RecordedRequest, string?> KeyOf, Func<RecordedRequest, string?> ImageBase64)
{
    /// <summary>What the fake must know before the gateway starts (Bedrock: the secret keys it checks signatures with).</summary>
    public Action<FakeProvider>? Prepare { get; init; }

    public override string ToString() => Name;

    private const string Failover = "gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }";

    public static readonly AwsWireCase OpenAi = new("openai-completions", $$"""
        models { providers { confoai { baseUrl = "{fake-root}/v1", api = "openai-completions", models = [{ id = "m", input = ["text", "image"] }] } } }
        env { CONFOAI_API_KEYS = "sk-conf-one,sk-conf-two" }
        {{Failover}}
        """, "confoai/m", r => r.ApiKey, OpenAiImage);

    public static readonly AwsWireCase Anthropic = new("anthropic-messages", $$"""
        models { providers { confant { baseUrl = "{fake-root}", api = "anthropic-messages", models = [{ id = "m", input = ["text", "image"] }] } } }
        env { CONFANT_API_KEYS = "sk-ant-one,sk-ant-two" }
        {{Failover}}
        """, "confant/m", r => r.ApiKey, r => Blocks(r, "messages").Where(b => b.GetProperty("type").GetString() == "image")
            .Select(b => b.GetProperty("source").GetProperty("data").GetString()).FirstOrDefault());

    /// <summary>Copilot: two GitHub tokens, each exchanged at the fake; the chat's bearer is the issued Copilot token.</summary>
    public static readonly AwsWireCase Copilot = new("github-copilot", $$"""
        models { providers { confcop { baseUrl = "http://127.0.0.1:9/unused", api = "github-copilot", models = [{ id = "m", input = ["text", "image"] }] } } }
        env { CONFCOP_API_KEYS = "gh-one,gh-two" }
        gateway { copilot { tokenUrl = "{fake-root}/copilot_internal/v2/token" } }
        {{Failover}}
        """, "confcop/m", r => r.ApiKey, OpenAiImage);

    /// <summary>Bedrock: two static access keys; the fake checks every request's SigV4 signature with the AWS SDK's signer.</summary>
    public static readonly AwsWireCase Bedrock = new("bedrock-converse-stream", $$"""
        models { providers { confbr { baseUrl = "{fake-root}", api = "bedrock-converse-stream", models = [{ id = "{{BedrockModel}}", input = ["text", "image"] }] } } }
        env { CONFBR_API_KEYS = "{{BedrockKeyOne}}:{{BedrockSecretOne}},{{BedrockKeyTwo}}:{{BedrockSecretTwo}}" }
        {{Failover}}
        """, "confbr/" + BedrockModel, BedrockKey, r => Blocks(r, "messages").Where(b => b.TryGetProperty("image", out _))
            .Select(b => b.GetProperty("image").GetProperty("source").GetProperty("bytes").GetString()).FirstOrDefault())
    {
        Prepare = fake =>
        {
            fake.BedrockSecrets[BedrockKeyOne] = BedrockSecretOne;
            fake.BedrockSecrets[BedrockKeyTwo] = BedrockSecretTwo;
        },
    };

    public const string BedrockModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    public const string BedrockKeyOne = "AKIAFAKEONE000000001", BedrockSecretOne = "secret/one+fake";
    public const string BedrockKeyTwo = "AKIAFAKETWO000000002", BedrockSecretTwo = "secret/two+fake";

    /// <summary>The access key of a SigV4-signed request (<c>Credential=AKID/...</c>).</summary>
    public static string? BedrockKey(RecordedRequest r) =>
        r.Headers.TryGetValue("Authorization", out var auth) && auth.StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal)
            ? auth["AWS4-HMAC-SHA256 Credential=".Length..].Split('/')[0]
            : null;

    public static IEnumerable<object[]> All() => new[] { OpenAi, Anthropic, Copilot, Bedrock }.Select(c => new object[] { c });

    private static string? OpenAiImage(RecordedRequest r) =>
        Blocks(r, "messages").Where(b => b.TryGetProperty("type", out var t) && t.GetString() == "image_url")
            .Select(b => b.GetProperty("image_url").GetProperty("url").GetString()!.Split(',')[1]).FirstOrDefault();

    /// <summary>Every content block of every message of the recorded body (string contents have none).</summary>
    internal static IEnumerable<JsonElement> Blocks(RecordedRequest r, string messages) =>
        r.Json.RootElement.GetProperty(messages).EnumerateArray()
            .Where(m => m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Array)
            .SelectMany(m => m.GetProperty("content").EnumerateArray());
}
