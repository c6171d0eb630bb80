using System.Collections.Immutable;

namespace Durar.Actors.Transports.Copilot;

/// <summary>
/// The headers GitHub's Copilot API requires of every client (it answers 400 without an editor identity), as the Copilot
/// Chat extension sends them. They exist in one place so the token exchange and the chat endpoint present the same client;
/// a provider's configured <c>headers</c> replace any of them by name.
/// </summary>
internal static class CopilotHeaders
{
    public const string EditorVersion = "vscode/1.99.3";
    public const string EditorPluginVersion = "copilot-chat/0.26.7";
    public const string IntegrationId = "vscode-chat";
    public const string UserAgent = "GitHubCopilotChat/0.26.7";

    /// <summary>What both the token exchange and the chat endpoint send.</summary>
    public static readonly ImmutableDictionary<string, string> Client = new Dictionary<string, string>
    {
        ["Editor-Version"] = EditorVersion,
        ["Editor-Plugin-Version"] = EditorPluginVersion,
        ["Copilot-Integration-Id"] = IntegrationId,
        ["User-Agent"] = UserAgent,
    }.ToImmutableDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The chat endpoint's set: the client's plus the intent of a chat-panel conversation.</summary>
    public static readonly ImmutableDictionary<string, string> Chat = Client.SetItem("Openai-Intent", "conversation-panel");
}
