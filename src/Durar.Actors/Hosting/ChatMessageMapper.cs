using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Durar.Actors.Chat;
using Microsoft.Extensions.AI;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>
/// Maps Microsoft.Extensions.AI messages onto canonical <see cref="Chat.ChatMessage"/>s: text, images (data or URL) as
/// <c>image_url</c>, wav/mp3 audio as <c>input_audio</c>, PDFs as <c>file</c> data and hosted files by id, tool calls and
/// their results (one tool message per result), an assistant's reasoning with its signature
/// (<see cref="TextReasoningContent.ProtectedData"/>) and its refusal (<see cref="ErrorContent"/> with code <c>Refusal</c>,
/// as Microsoft.Extensions.AI.OpenAI writes it). Content the chat-completions wire cannot carry is an
/// <see cref="ArgumentException"/> naming the message, the content's index and its type.
/// </summary>
internal static partial class ChatMessageMapper
{
    /// <summary>Marks a <see cref="TextReasoningContent"/> whose <see cref="TextReasoningContent.ProtectedData"/> is a redacted block.</summary>
    public const string RedactedKey = "durar.redacted";

    /// <summary>Microsoft.Extensions.AI's serializer settings without its indentation: arguments and results go upstream compact.</summary>
    private static readonly JsonSerializerOptions Compact = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    public static ImmutableArray<Chat.ChatMessage> Map(IEnumerable<AI.ChatMessage> messages, string? instructions)
    {
        var result = ImmutableArray.CreateBuilder<Chat.ChatMessage>();
        if (!string.IsNullOrWhiteSpace(instructions)) result.Add(new Chat.ChatMessage("system", instructions));
        var i = 0;
        foreach (var message in messages)
        {
            if (message is null) throw new ArgumentException($"messages[{i}] is null.", nameof(messages));
            if (message.Role == ChatRole.Tool) ToolResults(message, i, result);
            else result.Add(Message(message, Role(message.Role, i), i));
            i++;
        }
        return result.ToImmutable();
    }

    private static string Role(ChatRole role, int index) =>
        role == ChatRole.System ? "system"
        : role == ChatRole.User ? "user"
        : role == ChatRole.Assistant ? "assistant"
        : role.Value == "developer" ? "developer"
        : throw new ArgumentException($"messages[{index}] has the role \"{role.Value}\": use system, developer, user, assistant or tool.", "messages");

    /// <summary>Each <see cref="FunctionResultContent"/> of a tool message is a tool message of its own, as the wire wants.</summary>
    private static void ToolResults(AI.ChatMessage message, int index, ImmutableArray<Chat.ChatMessage>.Builder result)
    {
        var before = result.Count;
        for (var j = 0; j < message.Contents.Count; j++)
        {
            if (message.Contents[j] is not FunctionResultContent r) throw Unsupported(message.Contents[j], index, j, "a tool message carries FunctionResultContent only");
            result.Add(new Chat.ChatMessage("tool", ResultText(r, index, j)) { ToolCallId = r.CallId });
        }
        if (result.Count == before) throw new ArgumentException($"messages[{index}] is a tool message without a FunctionResultContent.", "messages");
    }

    private static Chat.ChatMessage Message(AI.ChatMessage message, string role, int index)
    {
        var assistant = role == "assistant";
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        StringBuilder? text = null, reasoning = null, refusal = null;
        string? signature = null;
        var media = false;
        for (var j = 0; j < message.Contents.Count; j++)
        {
            var content = message.Contents[j];
            switch (content)
            {
                case TextContent t:
                    (text ??= new StringBuilder()).Append(t.Text);
                    parts.Add(new ContentPart(ContentPartTypes.Text, Text: t.Text));
                    break;
                case TextReasoningContent r when assistant:
                    // A redacted block has no text to send, and the canonical message no place for its data.
                    if (r.AdditionalProperties?.ContainsKey(RedactedKey) == true) break;
                    (reasoning ??= new StringBuilder()).Append(r.Text);
                    signature = r.ProtectedData ?? signature;
                    break;
                case FunctionCallContent c when assistant:
                    calls.Add(new ToolCall(c.CallId, c.Name, Arguments(c)));
                    break;
                case ErrorContent { ErrorCode: "Refusal" } e when assistant:
                    (refusal ??= new StringBuilder()).Append(e.Message);
                    break;
                case DataContent or UriContent or HostedFileContent when !assistant:
                    parts.Add(Part(content, index, j));
                    media = true;
                    break;
                default:
                    throw Unsupported(content, index, j, assistant
                        ? "an assistant message carries text, reasoning, function calls and refusals"
                        : $"a {role} message carries text, images, wav/mp3 audio, PDFs and hosted files");
            }
        }
        return new Chat.ChatMessage(role, media ? null : text?.ToString() ?? (calls.Count > 0 ? null : ""))
        {
            Parts = media ? parts.ToImmutable() : [],
            ToolCalls = calls.ToImmutable(),
            Name = SanitizeName(message.AuthorName),
            Reasoning = reasoning?.ToString(),
            ReasoningSignature = signature,
            Refusal = refusal?.ToString(),
        };
    }

    private static ContentPart Part(AIContent content, int index, int j) => content switch
    {
        DataContent d when d.HasTopLevelMediaType("image") => new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: d.Uri, Detail: Detail(d)),
        DataContent d when d.HasTopLevelMediaType("audio") => new ContentPart(ContentPartTypes.InputAudio)
        {
            Data = d.Base64Data.ToString(),
            Format = d.MediaType.ToLowerInvariant() switch
            {
                "audio/wav" or "audio/x-wav" or "audio/wave" => "wav",
                "audio/mpeg" or "audio/mp3" => "mp3",
                _ => throw Unsupported(content, index, j, $"audio must be wav or mp3, not {d.MediaType}"),
            },
        },
        DataContent d when d.MediaType.Equals("application/pdf", StringComparison.OrdinalIgnoreCase) =>
            new ContentPart(ContentPartTypes.File) { Data = d.Uri, FileName = d.Name ?? "document.pdf" },
        DataContent d => throw Unsupported(content, index, j, $"data must be an image, wav/mp3 audio or a PDF, not {d.MediaType}"),
        UriContent u when u.HasTopLevelMediaType("image") => new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: u.Uri.ToString(), Detail: Detail(u)),
        UriContent u => throw Unsupported(content, index, j, $"a URL must point to an image, not {u.MediaType} (send other files as DataContent)"),
        HostedFileContent f => new ContentPart(ContentPartTypes.File) { FileId = f.FileId, FileName = f.Name },
        _ => throw Unsupported(content, index, j, "unknown content"),
    };

    /// <summary>The OpenAI image <c>detail</c> (low, high, auto), as Microsoft.Extensions.AI.OpenAI reads it.</summary>
    private static string? Detail(AIContent content) =>
        content.AdditionalProperties?.TryGetValue("detail", out var detail) == true ? detail?.ToString() : null;

    private static string Arguments(FunctionCallContent call) =>
        JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), Compact.GetTypeInfo(typeof(IDictionary<string, object?>)));

    /// <summary>A function's result as the tool message's text: a string as it is, anything else as JSON.</summary>
    private static string ResultText(FunctionResultContent result, int index, int j)
    {
        if (result.Result is null) return "";
        if (result.Result is string s) return s;
        try
        {
            return JsonSerializer.Serialize(result.Result, Compact.GetTypeInfo(typeof(object)));
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException($"messages[{index}].Contents[{j}]: the function result (a {result.Result.GetType().Name}) cannot be written as JSON.", "messages", e);
        }
    }

    /// <summary>OpenAI's <c>name</c> takes letters, digits and underscores, at most 64 (as Microsoft.Extensions.AI.OpenAI trims it).</summary>
    private static string? SanitizeName(string? name)
    {
        if (name is null) return null;
        name = InvalidName().Replace(name, "");
        return name.Length == 0 ? null : name.Length > 64 ? name[..64] : name;
    }

    [GeneratedRegex("[^a-zA-Z0-9_]+")]
    private static partial Regex InvalidName();

    private static ArgumentException Unsupported(AIContent content, int index, int j, string rule) =>
        new($"messages[{index}].Contents[{j}] is a {content.GetType().Name}, which DurarChatClient cannot send: {rule}.", "messages");
}
