using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Routing;
using Microsoft.Extensions.AI;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>
/// Maps a run's answer onto Microsoft.Extensions.AI: a whole <see cref="ChatResponse"/>, or (<see cref="Streaming"/>) one
/// <see cref="ChatResponseUpdate"/> per canonical event. Reasoning is <see cref="TextReasoningContent"/> with its signature as
/// <see cref="TextReasoningContent.ProtectedData"/>; a refusal is an <see cref="ErrorContent"/> with code <c>Refusal</c> and
/// tool calls are <see cref="FunctionCallContent"/>s, both as Microsoft.Extensions.AI.OpenAI reports them (in a stream, once,
/// complete, in the last update); usage carries cached and reasoning tokens typed and the rest of the upstream's usage
/// details (audio, prediction tokens, cache writes) in <see cref="UsageDetails.AdditionalCounts"/> under their wire names
/// (<c>prompt_tokens_details.audio_tokens</c>; the typed audio counts are still experimental in Microsoft.Extensions.AI). <c>RawRepresentation</c> is the upstream's own completion object
/// when it has one (else the canonical <see cref="ChatCompletion"/>), and each streamed event.
/// </summary>
internal static class ChatResponseMapper
{
    /// <summary>Additional property: how many attempts the run took (more than one: a key rotation, a retry or a fallback).</summary>
    public const string AttemptsKey = "durar.attempts";

    /// <summary>Additional property: fields the answering model's wire did not send (the HTTP gateway's <c>x-durar-dropped</c>).</summary>
    public const string DroppedKey = "durar.dropped";

    /// <summary>Additional property: the model name the upstream reported, beside the gateway's <c>provider/model</c> ref.</summary>
    public const string UpstreamModelKey = "durar.upstream_model";

    /// <summary>
    /// Additional property of a stream's last update when the gateway continued it after upstream breaks
    /// (<see cref="StreamContinued"/>): the <see cref="ContinuationPoint"/>s, the HTTP gateway's <c>x-durar-continued</c>.
    /// </summary>
    public const string ContinuedKey = "durar.continued";

    public static ChatResponse ToResponse(CompletionRun run, bool omitReasoning)
    {
        var completion = run.Completion;
        var raw = completion.Raw is { ValueKind: JsonValueKind.Object } r ? r : (JsonElement?)null;
        var id = raw is { } o && o.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : NewId();
        var created = raw is { } c && c.TryGetProperty("created", out var t) && t.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.UtcNow;
        var message = new AI.ChatMessage { Role = ChatRole.Assistant, MessageId = id, CreatedAt = created, RawRepresentation = (object?)raw ?? completion };
        if (!omitReasoning && (completion.Reasoning is not null || completion.ReasoningSignature is not null))
            message.Contents.Add(new TextReasoningContent(completion.Reasoning ?? "") { ProtectedData = completion.ReasoningSignature });
        if (!string.IsNullOrEmpty(completion.Text)) message.Contents.Add(new TextContent(completion.Text));
        foreach (var call in completion.ToolCalls) message.Contents.Add(FunctionCall(call.Id, call.Name, call.Arguments, call));
        if (completion.Refusal is { } refusal) message.Contents.Add(new ErrorContent(refusal) { ErrorCode = "Refusal" });

        var properties = RunProperties(run.Attempts, run.Dropped);
        if (completion.UpstreamModel is { } upstreamModel) properties[UpstreamModelKey] = upstreamModel;
        return new ChatResponse(message)
        {
            ResponseId = id,
            ModelId = run.Model.ToString(),
            CreatedAt = created,
            FinishReason = Finish(completion.FinishReason),
            Usage = Usage(completion.Usage, raw is { } u && u.TryGetProperty("usage", out var usage) ? usage : null),
            RawRepresentation = (object?)raw ?? completion,
            AdditionalProperties = properties,
        };
    }

    private static AdditionalPropertiesDictionary RunProperties(int attempts, ImmutableArray<string> dropped)
    {
        var properties = new AdditionalPropertiesDictionary { [AttemptsKey] = attempts };
        if (!dropped.IsDefaultOrEmpty) properties[DroppedKey] = dropped.ToArray();
        return properties;
    }

    /// <summary>A tool call; arguments that are not a JSON object leave the parse error in <see cref="FunctionCallContent.Exception"/>.</summary>
    private static FunctionCallContent FunctionCall(string id, string name, string arguments, object? raw)
    {
        var call = FunctionCallContent.CreateFromParsedArguments(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments, id, name,
            static json => (IDictionary<string, object?>?)JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))));
        call.RawRepresentation = raw;
        return call;
    }

    private static ChatFinishReason Finish(string reason) => reason switch
    {
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };

    /// <summary>The typed usage, refined by the upstream's own OpenAI-shaped usage object when there is one.</summary>
    internal static UsageDetails? Usage(TokenUsage? usage, JsonElement? raw)
    {
        if (usage is null) return null;
        var details = new UsageDetails
        {
            // Microsoft.Extensions.AI counts input as OpenAI does: cached tokens included (CachedInputTokenCount is part of it).
            InputTokenCount = usage.Prompt,
            OutputTokenCount = usage.Output,
            TotalTokenCount = usage.Prompt + usage.Output,
            CachedInputTokenCount = usage.CacheRead > 0 ? usage.CacheRead : null,
            ReasoningTokenCount = usage.Reasoning > 0 ? usage.Reasoning : null,
        };
        if (usage.CacheWrite > 0) (details.AdditionalCounts ??= [])["cache_creation_input_tokens"] = usage.CacheWrite;
        if (raw is not { ValueKind: JsonValueKind.Object } u) return details;
        if (u.TryGetProperty("prompt_tokens", out var prompt) && prompt.TryGetInt64(out var i)) details.InputTokenCount = i;
        if (u.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var t)) details.TotalTokenCount = t;
        foreach (var (field, isInput) in (ReadOnlySpan<(string, bool)>)[("prompt_tokens_details", true), ("completion_tokens_details", false)])
        {
            if (!u.TryGetProperty(field, out var group) || group.ValueKind != JsonValueKind.Object) continue;
            foreach (var p in group.EnumerateObject())
            {
                if (!p.Value.TryGetInt64(out var n)) continue;
                switch (p.Name)
                {
                    case "cached_tokens" when isInput: details.CachedInputTokenCount = n; break;
                    case "reasoning_tokens" when !isInput: details.ReasoningTokenCount = n; break;
                    default: (details.AdditionalCounts ??= [])[$"{field}.{p.Name}"] = n; break;
                }
            }
        }
        return details;
    }

    private static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// One streamed answer, event by event: every event of the first choice is an update (its <c>RawRepresentation</c>);
    /// reasoning and text as they come, tool calls and a refusal assembled into the last update. Other choices are only
    /// sent by an upstream that ignores <c>n</c> (the client refuses <c>n</c> above 1), and are left out.
    /// </summary>
    internal sealed class Streaming(string model, bool omitReasoning, int attempts, ImmutableArray<string> dropped)
    {
        private string _id = NewId();
        private DateTimeOffset _created = DateTimeOffset.UtcNow;
        private ChatFinishReason? _finish;
        private SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? _calls;
        private StringBuilder? _refusal;
        private bool _started;

        public ChatResponseUpdate? Map(ChatEvent e)
        {
            var update = e switch
            {
                StreamMeta meta => Meta(meta),
                TextDelta { Choice: 0 } text => Text(text),
                ReasoningDelta { Choice: 0 } reasoning => omitReasoning ? Update() : Update(Reasoning(reasoning)),
                RefusalDelta { Choice: 0 } refusal => Append(ref _refusal, refusal.Text),
                ToolCallDelta { Choice: 0 } call => ToolCall(call),
                Finished { Choice: 0 } finished => Finish(finished),
                UsageReport usage => Update(new UsageContent(Usage(usage.Usage, usage.Raw)!) { RawRepresentation = usage.Raw }),
                DeltaExtra { Choice: 0 } => Update(),
                StreamContinued continued => Continued(continued),
                _ => null,
            };
            if (update is not null) update.RawRepresentation = e;
            return update;
        }

        /// <summary>The tool calls and the refusal, complete, after the last event; null when there were none.</summary>
        public ChatResponseUpdate? Complete()
        {
            if (_calls is null && _refusal is null) return null;
            var update = Update();
            foreach (var (_, call) in _calls ?? [])
                if (!string.IsNullOrEmpty(call.Name)) update.Contents.Add(FunctionCall(call.Id ?? "", call.Name, call.Arguments.ToString(), null));
            if (_refusal is not null) update.Contents.Add(new ErrorContent(_refusal.ToString()) { ErrorCode = "Refusal" });
            return update;
        }

        private ChatResponseUpdate Continued(StreamContinued continued)
        {
            var update = Update();
            (update.AdditionalProperties ??= [])[ContinuedKey] = continued.Continuations.ToArray();
            return update;
        }

        private ChatResponseUpdate Meta(StreamMeta meta)
        {
            if (!_started)
            {
                if (meta.Id is { Length: > 0 } id) _id = id;
                if (meta.Created is { } created) _created = DateTimeOffset.FromUnixTimeSeconds(created);
            }
            return Update();
        }

        private static TextReasoningContent Reasoning(ReasoningDelta delta)
        {
            var content = new TextReasoningContent(delta.Text) { ProtectedData = delta.Redacted ?? delta.Signature };
            if (delta.Redacted is not null) content.AdditionalProperties = new() { [ChatMessageMapper.RedactedKey] = true };
            return content;
        }

        private ChatResponseUpdate ToolCall(ToolCallDelta delta)
        {
            _calls ??= [];
            var call = _calls.TryGetValue(delta.Index, out var c) ? c : (null, null, new StringBuilder());
            call.Arguments.Append(delta.Arguments);
            _calls[delta.Index] = (call.Id ?? delta.Id, call.Name ?? delta.Name, call.Arguments);
            return Update();
        }

        private ChatResponseUpdate Finish(Finished finished)
        {
            _finish = ChatResponseMapper.Finish(finished.Reason);
            return Update();
        }

        private ChatResponseUpdate Append(ref StringBuilder? into, string text)
        {
            (into ??= new StringBuilder()).Append(text);
            return Update();
        }

        /// <summary>Text, with its logprobs (when asked for through <c>AdditionalProperties["logprobs"]</c>) as an additional property.</summary>
        private ChatResponseUpdate Text(TextDelta delta)
        {
            var update = Update(new TextContent(delta.Text));
            if (delta.Logprobs is { } logprobs) (update.AdditionalProperties ??= [])["logprobs"] = logprobs;
            return update;
        }

        private ChatResponseUpdate Update(AIContent? content = null)
        {
            var update = new ChatResponseUpdate
            {
                Role = ChatRole.Assistant,
                ResponseId = _id,
                MessageId = _id,
                CreatedAt = _created,
                ModelId = model,
                FinishReason = _finish,
            };
            if (content is not null) update.Contents.Add(content);
            if (!_started)
            {
                _started = true;
                update.AdditionalProperties = RunProperties(attempts, dropped);
            }
            return update;
        }
    }
}
