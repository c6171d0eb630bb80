using System.Collections.Frozen;

namespace Durar.Actors.Configuration;

/// <summary>
/// The upstream API families a provider can speak (<c>models.providers.&lt;id&gt;.api</c>). The set is the reference's;
/// <see cref="Echo"/> is Durar's in-process provider. Which of them have a transport is decided by the transport registry.
/// </summary>
public static class ApiKinds
{
    public const string OpenAiCompletions = "openai-completions";
    public const string OpenAiResponses = "openai-responses";
    public const string OpenAiChatGptResponses = "openai-chatgpt-responses";
    public const string AnthropicMessages = "anthropic-messages";
    public const string GoogleGenerativeAi = "google-generative-ai";
    public const string GoogleVertex = "google-vertex";
    public const string AnthropicVertex = "anthropic-vertex";
    public const string GoogleGeminiCli = "google-gemini-cli";
    public const string GitHubCopilot = "github-copilot";
    public const string BedrockConverseStream = "bedrock-converse-stream";
    public const string Ollama = "ollama";
    public const string AzureOpenAiResponses = "azure-openai-responses";
    public const string Echo = "echo";

    public static readonly FrozenSet<string> All = new[]
    {
        OpenAiCompletions, OpenAiResponses, OpenAiChatGptResponses, AnthropicMessages, GoogleGenerativeAi, GoogleVertex, AnthropicVertex, GoogleGeminiCli,
        GitHubCopilot, BedrockConverseStream, Ollama, AzureOpenAiResponses, Echo,
    }.ToFrozenSet(StringComparer.Ordinal);
}
