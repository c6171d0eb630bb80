using System.IO.Pipelines;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// The client's dialect a reply is written in: a whole answer, a stream of neutral events, and the error that ends a stream
/// that cannot finish. A session turn (<see cref="SessionTurnResponder"/>) reads the same reply whichever endpoint asked for
/// it; only this edge differs (OpenAI's chat completions here, Anthropic's messages in <c>Messages/MessagesReplyDialect</c>).
/// </summary>
internal abstract class ReplyDialect : IStreamCloser
{
    /// <summary>OpenAI's chat completions (<see cref="ChatCompletionWriter"/>).</summary>
    public static readonly ReplyDialect ChatCompletions = new ChatCompletionsDialect();

    /// <summary>The whole answer as one JSON body; the request's answer is then complete (<see cref="Telemetry.RequestFacts.Answered"/>).</summary>
    public abstract Task WriteCompletionAsync(HttpResponse response, string model, ChatCompletion completion);

    /// <summary>The answer as an SSE stream into <paramref name="response"/>; it is complete once the dialect's terminator is written.</summary>
    public abstract Task WriteStreamAsync(HttpResponse response, string model, IAsyncEnumerable<ChatEvent> events, bool includeUsage, CancellationToken ct);

    public abstract Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct);

    /// <summary>This dialect for the answer of session run <paramref name="runId"/> (a dialect that names answers after runs uses it).</summary>
    public virtual ReplyDialect ForRun(string? runId) => this;

    /// <summary>Chat completions: an answer of a run is <c>chatcmpl-&lt;runId&gt;</c> and carries <c>runId</c>, so a repeated Idempotency-Key gets the same id.</summary>
    private sealed class ChatCompletionsDialect(string? runId = null) : ReplyDialect
    {
        public override ReplyDialect ForRun(string? run) => run is null ? this : new ChatCompletionsDialect(run);

        public override Task WriteCompletionAsync(HttpResponse response, string model, ChatCompletion completion) =>
            Writer(model).WriteCompletionAsync(response, completion);

        public override Task WriteStreamAsync(HttpResponse response, string model, IAsyncEnumerable<ChatEvent> events, bool includeUsage,
            CancellationToken ct) =>
            Writer(model).WriteStreamAsync(response, events, includeUsage, ct);

        public override Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct) =>
            ChatCompletionWriter.WriteStreamErrorAsync(pipe, error, ct);

        private ChatCompletionWriter Writer(string model) =>
            new(runId is null ? ChatCompletionWriter.NewId() : "chatcmpl-" + runId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model) { RunId = runId };
    }
}
