using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports;

/// <summary>
/// The built-in <c>echo</c> provider: answers with the last user message, word by word, in-process. It makes a fresh
/// install answer its first request with no credentials and no network, and lets users test their clients end to end. Its
/// embedding model answers with a deterministic fake (<see cref="EchoEmbeddings"/>) for the same reason.
/// </summary>
internal sealed class EchoTransport : IChatTransport, IEmbeddingTransport
{
    public Task<Embeddings.EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken) =>
        Task.FromResult(EchoEmbeddings.Embed(call));

    public Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var text = ReplyText(call.Request);
        return Task.FromResult(new ChatCompletion(text, [], "stop", Usage(call.Request, Pieces(text).Length), call.Target.Model.Id));
    }

    public async IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new StreamOpened(UpstreamException.NoHints);
        var pieces = Pieces(ReplyText(call.Request));
        foreach (var piece in pieces)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new TextDelta(piece);
        }
        await Task.CompletedTask.ConfigureAwait(false);
        yield return new Finished("stop");
        yield return new UsageReport(Usage(call.Request, pieces.Length));
    }

    internal static string ReplyText(ChatRequest request)
    {
        for (var i = request.Messages.Length - 1; i >= 0; i--)
            if (request.Messages[i].Role == "user")
                return request.Messages[i].AllText;
        return "";
    }

    /// <summary>Splits on spaces, keeping each space with the word after it, so the pieces concatenate to the original.</summary>
    internal static ImmutableArray<string> Pieces(string text)
    {
        if (text.Length == 0) return [];
        var pieces = ImmutableArray.CreateBuilder<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
            if (text[i] == ' ' && text[i - 1] != ' ')
            {
                pieces.Add(text[start..i]);
                start = i;
            }
        pieces.Add(text[start..]);
        return pieces.ToImmutable();
    }

    private static TokenUsage Usage(ChatRequest request, int outputPieces)
    {
        var words = request.Messages.Sum(m => m.AllText.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        return new TokenUsage(Math.Max(1, words), outputPieces);
    }
}
