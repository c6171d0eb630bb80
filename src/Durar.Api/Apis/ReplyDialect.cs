using System.IO.Pipelines;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// The client's dialect a reply is written in: a whole answer, a stream of neutral events, and the error that ends a stream
/// that cannot finish. A session turn (<see cref="SessionTurnResponder"/>) reads the same reply whichever endpoint asked for
/// it; only this edge differs (OpenAI's chat completions here, Anthropic's messages in <c>Messages/MessagesReplyDialect</c>).
/// </summary>
internal abstract class ReplyDialect
{
    /// <summary>OpenAI's chat completions (<see cref="ChatCompletionWriter"/>).</summary>
    public static readonly ReplyDialect ChatCompletions = new ChatCompletionsDialect();

    public abstract Task WriteCompletionAsync(HttpResponse response, string model, ChatCompletion completion);

    public abstract Task WriteStreamAsync(PipeWriter pipe, string model, IAsyncEnumerable<ChatEvent> events, bool includeUsage, CancellationToken ct);

    public abstract Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct);

    private sealed class ChatCompletionsDialect : ReplyDialect
    {
        public override Task WriteCompletionAsync(HttpResponse response, string model, ChatCompletion completion) =>
            Writer(model).WriteCompletionAsync(response, completion);

        public override Task WriteStreamAsync(PipeWriter pipe, string model, IAsyncEnumerable<ChatEvent> events, bool includeUsage,
            CancellationToken ct) =>
            Writer(model).WriteStreamAsync(pipe, events, includeUsage, ct);

        public override Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct) =>
            ChatCompletionWriter.WriteStreamErrorAsync(pipe, error, ct);

        private static ChatCompletionWriter Writer(string model) =>
            new(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
    }
}
