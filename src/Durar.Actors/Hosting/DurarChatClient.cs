using System.Runtime.CompilerServices;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Microsoft.Extensions.AI;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>
/// Durar as a Microsoft.Extensions.AI <see cref="IChatClient"/>: the same candidate chain, key rotation, cooldowns and
/// failover as the HTTP gateway, in-process, and the same rule for what a caller sets: every <see cref="ChatOptions"/>
/// field is carried, translated or refused with an <see cref="ArgumentException"/> naming it (<see cref="ChatOptionsMapper"/>,
/// <see cref="ChatMessageMapper"/>); answers keep reasoning, tool calls, refusals, usage details and the upstream's raw
/// completion (<see cref="ChatResponseMapper"/>). <see cref="ChatOptions.ModelId"/> is a <c>provider/model</c> ref, an alias
/// or <c>durar</c> (the default); <c>AdditionalProperties["fallbacks"]</c> (model refs) lists fallbacks for an explicit model.
/// A run without an answer, or a stream that fails after output, throws <see cref="DurarRunException"/>; an unknown or
/// disallowed model throws <see cref="PlanException"/>.
/// </summary>
internal sealed class DurarChatClient(ChatRunner runner, ModelResolver resolver) : IChatClient
{
    /// <inheritdoc cref="ChatResponseMapper.AttemptsKey"/>
    public const string AttemptsProperty = ChatResponseMapper.AttemptsKey;

    /// <inheritdoc cref="ChatResponseMapper.DroppedKey"/>
    public const string DroppedProperty = ChatResponseMapper.DroppedKey;

    /// <inheritdoc cref="ChatResponseMapper.UpstreamModelKey"/>
    public const string UpstreamModelProperty = ChatResponseMapper.UpstreamModelKey;

    /// <inheritdoc cref="ChatResponseMapper.ContinuedKey"/>
    public const string ContinuedProperty = ChatResponseMapper.ContinuedKey;

    /// <inheritdoc cref="ChatOptionsMapper.ContinueKey"/>
    public const string ContinueOption = ChatOptionsMapper.ContinueKey;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var (plan, call) = Prepare(messages, options, stream: false);
        var result = await runner.CompleteAsync(plan, call.Request, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new DurarRunException(failure);
        var run = result.Value!;
        try
        {
            // The response hands the upstream's object to the caller (RawRepresentation): a copy that outlives the parsed answer.
            return ChatResponseMapper.ToResponse(run with { Completion = run.Completion.Detached() }, call.OmitReasoning);
        }
        finally
        {
            run.Completion.ReleaseRaw();
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AI.ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (plan, call) = Prepare(messages, options, stream: true);
        var result = await runner.StreamAsync(plan, call.Request, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new DurarRunException(failure);
        var run = result.Value!;
        var model = run.Model.ToString();
        var updates = new ChatResponseMapper.Streaming(model, call.OmitReasoning, run.Attempts, run.Dropped);
        var events = run.Events.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync().ConfigureAwait(false)) break;
                }
                catch (UpstreamException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw DurarRunException.StreamFailed(e, model, run.KeyId);
                }
                if (updates.Map(events.Current) is { } update) yield return update;
            }
        }
        finally
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
        if (updates.Complete() is { } last) yield return last;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("durar", null, ModelResolver.DefaultTarget)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() { }

    private (RunPlan, ChatClientCall) Prepare(IEnumerable<AI.ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var call = ChatOptionsMapper.Map(messages, options, stream, this);
        return (RunPlanner.Plan(resolver, call.Model, call.Fallbacks), call);
    }
}
