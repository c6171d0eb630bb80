using System.IO.Pipelines;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Messages;

/// <summary>A session turn's reply in Anthropic's Messages shapes (<see cref="MessageWriter"/>, <see cref="MessageStreamWriter"/>).</summary>
internal sealed class MessagesReplyDialect : ReplyDialect
{
    public static readonly MessagesReplyDialect Instance = new();

    private MessagesReplyDialect()
    {
    }

    public override Task WriteCompletionAsync(HttpResponse response, string model, ChatCompletion completion) =>
        MessageWriter.WriteAsync(response, MessageWriter.NewId(), model, completion);

    public override Task WriteStreamAsync(HttpResponse response, string model, IAsyncEnumerable<ChatEvent> events, bool includeUsage,
        CancellationToken ct) =>
        MessageStreamWriter.WriteAsync(response, MessageWriter.NewId(), model, events, ct);

    public override Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct) =>
        MessagesErrors.WriteStreamErrorAsync(pipe, error, null, ct);
}
