using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Microsoft.Extensions.AI;
using Durar.Actors.Chat;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>A run produced no answer; carries the gateway's status, code and every attempt.</summary>
public sealed class DurarRunException(RunFailure failure) : Exception(failure.Message)
{
    public RunFailure Failure { get; } = failure;
}

/// <summary>
/// Durar as a Microsoft.Extensions.AI <see cref="IChatClient"/>: the same candidate chain, key rotation, cooldowns and
/// failover as the HTTP gateway, in-process. <see cref="ChatOptions.ModelId"/> is a <c>provider/model</c> ref, an alias or
/// <c>durar</c> (the default); <c>AdditionalProperties["fallbacks"]</c> (string[]) lists fallbacks for an explicit model.
/// </summary>
internal sealed class DurarChatClient(ChatRunner runner, ModelResolver resolver) : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var (plan, request) = Prepare(messages, options, stream: false);
        var result = await runner.CompleteAsync(plan, request, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new DurarRunException(failure);
        var run = result.Value!;
        var message = new AI.ChatMessage(ChatRole.Assistant, run.Completion.Text ?? "");
        foreach (var call in run.Completion.ToolCalls)
            message.Contents.Add(new FunctionCallContent(call.Id, call.Name, ParseArguments(call.Arguments)));
        return new ChatResponse(message)
        {
            ModelId = run.Model.ToString(),
            FinishReason = Finish(run.Completion.FinishReason),
            Usage = Usage(run.Completion.Usage),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AI.ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (plan, request) = Prepare(messages, options, stream: true);
        var result = await runner.StreamAsync(plan, request, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new DurarRunException(failure);
        var run = result.Value!;
        var model = run.Model.ToString();
        await foreach (var e in run.Events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case TextDelta text:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, text.Text) { ModelId = model };
                    break;
                case Finished finished:
                    yield return new ChatResponseUpdate { Role = ChatRole.Assistant, ModelId = model, FinishReason = Finish(finished.Reason) };
                    break;
                case UsageReport usage:
                    yield return new ChatResponseUpdate { Role = ChatRole.Assistant, ModelId = model, Contents = [new UsageContent(Usage(usage.Usage)!)] };
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("durar", null, ModelResolver.DefaultTarget)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() { }

    private (RunPlan, ChatRequest) Prepare(IEnumerable<AI.ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var fallbacks = options?.AdditionalProperties?.TryGetValue("fallbacks", out var f) == true && f is IEnumerable<string> list ? list.ToList() : null;
        var plan = RunPlanner.Plan(resolver, options?.ModelId ?? ModelResolver.DefaultTarget, fallbacks);
        var neutral = messages.Select(ToNeutral).ToImmutableArray();
        var request = new ChatRequest
        {
            Messages = neutral,
            MaxTokens = options?.MaxOutputTokens,
            Temperature = options?.Temperature,
            TopP = options?.TopP,
            FrequencyPenalty = options?.FrequencyPenalty,
            PresencePenalty = options?.PresencePenalty,
            Seed = options?.Seed,
            Stop = options?.StopSequences is { Count: > 0 } stops ? [.. stops] : [],
            Tools = Tools(options),
            Stream = stream,
            IncludeUsage = true,
        };
        return (plan, request);
    }

    private static Chat.ChatMessage ToNeutral(AI.ChatMessage m)
    {
        var role = m.Role == ChatRole.System ? "system" : m.Role == ChatRole.Assistant ? "assistant" : m.Role == ChatRole.Tool ? "tool" : "user";
        var calls = m.Contents.OfType<FunctionCallContent>()
            .Select(c => new ToolCall(c.CallId, c.Name, JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>()))).ToImmutableArray();
        var result = m.Contents.OfType<FunctionResultContent>().FirstOrDefault();
        var images = m.Contents.OfType<DataContent>().Where(d => d.HasTopLevelMediaType("image")).ToList();
        if (images.Count > 0)
        {
            var parts = ImmutableArray.CreateBuilder<ContentPart>();
            if (!string.IsNullOrEmpty(m.Text)) parts.Add(new ContentPart("text", Text: m.Text));
            foreach (var image in images) parts.Add(new ContentPart("image_url", ImageUrl: image.Uri));
            return new Chat.ChatMessage(role, null) { Parts = parts.ToImmutable() };
        }
        return new Chat.ChatMessage(role, result is not null ? result.Result?.ToString() ?? "" : m.Text)
        {
            ToolCalls = calls,
            ToolCallId = result?.CallId,
        };
    }

    private static JsonElement? Tools(ChatOptions? options)
    {
        var functions = options?.Tools?.OfType<AIFunctionDeclaration>().ToList();
        if (functions is not { Count: > 0 }) return null;
        var tools = functions.Select(fn => new
        {
            type = "function",
            function = new { name = fn.Name, description = fn.Description, parameters = fn.JsonSchema },
        });
        return JsonSerializer.SerializeToElement(tools);
    }

    private static IDictionary<string, object?>? ParseArguments(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, object?>>(string.IsNullOrWhiteSpace(json) ? "{}" : json);
        }
        catch (JsonException)
        {
            return new Dictionary<string, object?> { ["_raw"] = json };
        }
    }

    private static ChatFinishReason Finish(string reason) => reason switch
    {
        "length" => ChatFinishReason.Length,
        "tool_calls" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => ChatFinishReason.Stop,
    };

    private static UsageDetails? Usage(TokenUsage? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.Prompt,
        OutputTokenCount = usage.Output,
        TotalTokenCount = usage.Prompt + usage.Output,
        CachedInputTokenCount = usage.CacheRead,
    };
}
