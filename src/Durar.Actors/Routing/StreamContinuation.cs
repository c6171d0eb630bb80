using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>
/// Opt-in continuation of a stream whose upstream broke after output (<c>gateway.failover.continueStreams</c>, per request
/// <c>x-durar-continue</c>). No other gateway does this: a cut stream normally ends the client's answer with an error. Here
/// the run goes on, on the next key or candidate of the same plan, with the text already sent given back as the start of
/// the assistant's answer; the client reads one uninterrupted stream and, at its end, a <see cref="StreamContinued"/> event
/// listing the breaks.
/// </summary>
/// <remarks>
/// <para>Only a text answer can be continued: once the stream carried a tool call, a refusal or a second choice, a break
/// ends it with the error as before. Reasoning of the continuation is not forwarded (the client already has the reasoning
/// of the answer it is reading).</para>
/// <para>How each wire is asked to continue (<see cref="RequestFor"/>): Anthropic takes the partial answer as a prefill (the
/// last message is the assistant's, thinking off, as prefill requires); OpenAI-compatible models get the partial answer as
/// an assistant message followed by a user message asking to go on from exactly there. A model may still repeat the end of
/// what it wrote, or start over: <see cref="OverlapTrimmer"/> drops a continuation's restart of the whole answer and any
/// repeated seam of at least <see cref="OverlapTrimmer.MinOverlap"/> characters, so the client sees no text twice.</para>
/// </remarks>
internal static class StreamContinuation
{
    /// <summary>The user message that asks an OpenAI-compatible model to go on with its own cut answer.</summary>
    public const string ContinuePrompt =
        "Your previous message was cut off. Continue it from exactly where it stopped: do not repeat any of it, do not comment, " +
        "start with the very next character.";

    /// <summary>Wraps a committed stream: a break after output continues it, at most <paramref name="maxContinuations"/> times.</summary>
    /// <param name="continueFrom">Starts the continuation run for the text sent so far (the same plan and deadline).</param>
    internal static async IAsyncEnumerable<ChatEvent> Run(StreamingRun first, int maxContinuations,
        Func<string, CancellationToken, Task<RunResult<StreamingRun>>> continueFrom, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var sent = new StringBuilder();
        var continuable = true;
        var points = ImmutableArray.CreateBuilder<ContinuationPoint>();
        var model = first.Model.ToString();
        var current = first.Events.GetAsyncEnumerator(ct);
        OverlapTrimmer? trimmer = null;
        try
        {
            while (true)
            {
                bool more;
                UpstreamException? broke = null;
                try
                {
                    more = await current.MoveNextAsync().ConfigureAwait(false);
                }
                catch (UpstreamException failure) when (!failure.BeforeOutput && continuable && points.Count < maxContinuations && !ct.IsCancellationRequested)
                {
                    broke = failure;
                    more = false;
                }
                if (broke is not null)
                {
                    await current.DisposeAsync().ConfigureAwait(false);
                    var partial = sent.ToString();
                    var next = await continueFrom(partial, ct).ConfigureAwait(false);
                    if (next.Failure is not null || next.Value is null) throw broke; // nothing could go on: the original break
                    points.Add(new ContinuationPoint(model, FailureClassifier.Classify(broke.Failure).ToWireName(), partial.Length,
                        next.Value.Model.ToString()));
                    model = next.Value.Model.ToString();
                    current = next.Value.Events.GetAsyncEnumerator(ct);
                    trimmer = new OverlapTrimmer(partial);
                    continue;
                }
                if (!more) break;

                var e = current.Current;
                switch (e)
                {
                    case TextDelta { Choice: 0 } text when trimmer is not null:
                        if (trimmer.Push(text.Text) is { Length: > 0 } kept)
                        {
                            sent.Append(kept);
                            yield return text with { Text = kept };
                        }
                        continue;
                    case TextDelta { Choice: 0 } text:
                        sent.Append(text.Text);
                        break;
                    case ReasoningDelta when trimmer is not null:
                        continue;
                    case StreamOpened or StreamMeta or UsageReport or ReasoningDelta { Choice: 0 }:
                        break;
                    case Finished { Choice: 0 }:
                        if (trimmer?.Flush() is { Length: > 0 } rest)
                        {
                            sent.Append(rest);
                            yield return new TextDelta(rest);
                        }
                        break;
                    default:
                        continuable = false; // a tool call, a refusal, another choice: not a text to go on with
                        break;
                }
                yield return e;
            }
            if (trimmer?.Flush() is { Length: > 0 } tail) yield return new TextDelta(tail);
            if (points.Count > 0) yield return new StreamContinued(points.ToImmutable());
        }
        finally
        {
            await current.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The request that asks <paramref name="target"/> to go on with <see cref="ChatRequest.ContinueFrom"/>, in the terms of
    /// its wire (see the type's remarks).
    /// </summary>
    public static ChatRequest RequestFor(ResolvedModel target, ChatRequest request)
    {
        if (request.ContinueFrom is not { } partial) return request;
        var messages = request.Messages.ToBuilder();
        if (target.Provider.Api == ApiKinds.AnthropicMessages)
        {
            // A prefill may not end in whitespace; the trimmer drops the continuation's repeat of it.
            messages.Add(new ChatMessage("assistant", partial.TrimEnd()));
            return request with { Messages = messages.ToImmutable(), ThinkingBudgetTokens = null, ReasoningEffort = null, N = null };
        }
        messages.Add(new ChatMessage("assistant", partial));
        messages.Add(new ChatMessage("user", ContinuePrompt));
        return request with { Messages = messages.ToImmutable(), N = null };
    }
}

/// <summary>
/// Holds back the start of a continuation until it is clear whether the model repeated text the client already has, then
/// drops the repeat: a restart of the whole answer (the continuation begins with all of it), a repeated seam (the
/// continuation begins with the last <see cref="MinOverlap"/>+ characters of the answer), or the whitespace a prefill had
/// to leave out. At most <see cref="Window"/> characters (or the answer's length) are held.
/// </summary>
internal sealed class OverlapTrimmer(string sent)
{
    /// <summary>A shorter common seam is taken as chance, not repetition.</summary>
    public const int MinOverlap = 12;

    /// <summary>How much of a continuation is held back, at most, to find a repeated seam.</summary>
    public const int Window = 96;

    private readonly StringBuilder _held = new();
    private bool _decided;

    /// <summary>Text of the continuation; returns what can go to the client now.</summary>
    public string Push(string text)
    {
        if (_decided) return text;
        _held.Append(text);
        var held = _held.ToString();
        // Still exactly a restart of the answer so far: keep holding until it is the whole answer, or it diverges.
        if (sent.Length > 0 && sent.StartsWith(held, StringComparison.Ordinal)) return held.Length >= sent.Length ? Decide() : "";
        return held.Length >= Math.Min(Window, sent.Length + MinOverlap) ? Decide() : "";
    }

    /// <summary>The end of the continuation (or a finish): whatever is held, trimmed.</summary>
    public string Flush() => _decided ? "" : Decide();

    private string Decide()
    {
        _decided = true;
        var held = _held.ToString();
        _held.Clear();
        if (sent.Length > 0 && held.StartsWith(sent, StringComparison.Ordinal)) return held[sent.Length..]; // started over
        for (var k = Math.Min(held.Length, sent.Length); k >= MinOverlap; k--)
            if (sent.EndsWith(held[..k], StringComparison.Ordinal)) return held[k..]; // repeated the seam
        // The answer ended in whitespace a prefill could not carry: the continuation's leading whitespace repeats it.
        var same = 0;
        while (same < held.Length && same < sent.Length && char.IsWhiteSpace(held[same]) && held[same] == sent[sent.Length - 1 - same]) same++;
        return held[same..];
    }
}
