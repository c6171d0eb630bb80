using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Durar.Actors.Chat;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Transports;

namespace Durar.Actors.Sessions;

/// <summary>
/// One run of a session: the turns it answers (one, or several merged by collect), the subscribers of its reply, and the
/// cancellation an interrupt or a stop uses. <see cref="ExecuteAsync"/> streams the upstream answer to the subscribers
/// off the actor's thread and returns what the session journals; it never throws (every failure becomes an
/// <see cref="Outcome"/> with a <see cref="SessionRunError"/>). It exists so the session actor only orchestrates: it
/// starts a run, pipes its outcome to itself and persists it.
/// </summary>
internal sealed class SessionRun(ImmutableArray<PendingTurn> turns, SessionFanout fanout)
{
    public ImmutableArray<PendingTurn> Turns { get; } = turns;

    public SessionFanout Fanout { get; } = fanout;

    public CancellationTokenSource Cancel { get; } = new();

    /// <summary>The session's fallback notice when the run started: a notice is given once per change, not on every turn.</summary>
    public FallbackNotice? Noticed { get; init; }

    /// <summary>
    /// The turn had images its model cannot read and runs on <c>agents.defaults.imageModel</c> (<see cref="Routing.ImageRouting"/>):
    /// a temporary switch, so the key that answers does not become the session's automatic auth pin (reference item 33).
    /// </summary>
    public bool ImageRouted { get; set; }

    /// <summary>
    /// The run asks its upstream for a whole answer (<see cref="ChatRunner.CompleteAsync"/>) instead of a stream: every turn's
    /// client reads the reply as one answer and nobody watches it live (<c>SessionActor.WholeAnswer</c>). Its subscribers get
    /// the same events, each part of the answer in one piece.
    /// </summary>
    public bool WholeAnswer { get; init; }

    private volatile bool _aborted;

    /// <summary>Stops the run for <c>POST .../abort</c>: the upstream call is cancelled and the run ends as aborted (not interrupted).</summary>
    public void Abort()
    {
        _aborted = true;
        Cancel.Cancel();
    }

    /// <summary>The ids of the runs this run answers (one per turn it merged).</summary>
    public IEnumerable<string> RunIds => Turns.Select(t => t.RunId);

    /// <summary>The run finished (success, failure or interruption): what the session journals and sends after the reply.</summary>
    /// <param name="Text">The reply text streamed so far (all of it on success).</param>
    /// <param name="Model">The model that answered; null when no candidate answered.</param>
    /// <param name="Finish">The finish reason; null on failure.</param>
    /// <param name="Error">Why the run produced no (complete) answer; null on success.</param>
    public sealed record Outcome(SessionRun Run, string Text, string? Model, string? KeyId, TokenUsage? Usage, string? Finish, SessionRunError? Error)
        : INoSerializationVerificationNeeded
    {
        /// <summary>The reply's reasoning (first choice) and the signature that closed it, kept so the next turn can send them back.</summary>
        public string? Reasoning { get; init; }
        public string? ReasoningSignature { get; init; }

        /// <summary>The reply's tool calls (first choice), journaled so a later turn can send their results back.</summary>
        public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];

        /// <summary>The compaction the run made to fit its model's context (journaled before the reply), if any.</summary>
        public Context.CompactionResult? Compaction { get; init; }

        /// <summary>The tokens of the input the run sent, as the gateway counted them.</summary>
        public int? InputTokens { get; init; }

        /// <summary>The fallback notice this run gave (journaled), or the one its answer by the session's model cleared.</summary>
        public FallbackChange? Fallback { get; init; }
    }

    /// <summary>A change of the session's fallback notice: <see cref="Notice"/> given, or the one for <see cref="Selected"/> cleared (Notice null).</summary>
    public sealed record FallbackChange(string Selected, FallbackNotice? Notice);

    /// <summary>
    /// The notice change of an answer by <paramref name="answered"/>: a new notice when another model than the session's
    /// (the plan's first candidate) answered and the session has not been told so already, a clearing when the session's
    /// model answered while a notice stood, else null. The reason is the selected model's last failed attempt's.
    /// </summary>
    private FallbackChange? FallbackOf(RunPlan plan, ImmutableArray<AttemptRecord> failures, string answered)
    {
        var selected = plan.Requested.ToString();
        if (answered == selected) return Noticed is { } stood ? new FallbackChange(stood.Selected, null) : null;
        if (Noticed is { } n && n.Selected == selected && n.Active == answered) return null;
        var reason = failures.LastOrDefault(f => f.Model == selected) is { } failed ? failed.ReasonName : failures.LastOrDefault()?.ReasonName;
        return new FallbackChange(selected, new FallbackNotice(selected, answered, reason, DateTimeOffset.UtcNow));
    }

    /// <summary>The outcome of a run that could not be planned (no model to run).</summary>
    public Outcome NotPlanned(SessionRunError? error) => new(this, "", null, null, null, null, error);

    /// <summary>
    /// Runs <paramref name="request"/> over <paramref name="plan"/>: the answering model first (<see cref="RunModel"/>),
    /// then every event to the subscribers with back-pressure. The finish reason and usage are held back: the session
    /// sends them after the usage line, once the reply is journaled.
    /// </summary>
    public async Task<Outcome> ExecuteAsync(ChatRunner runner, RunPlan plan, ChatRequest request)
    {
        if (WholeAnswer) return await ExecuteWholeAsync(runner, plan, request).ConfigureAwait(false);
        var text = new StringBuilder();
        StringBuilder? reasoning = null;
        string? model = null, keyId = null, finish = null, signature = null;
        TokenUsage? usage = null;
        FallbackChange? fallback = null;
        SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? tools = null;
        try
        {
            var result = await runner.StreamAsync(plan, request, Cancel.Token).ConfigureAwait(false);
            if (result.Failure is { } f) return Failed(f);
            model = result.Value!.Model.ToString();
            keyId = result.Value.KeyId;
            fallback = FallbackOf(plan, result.Value.Failures, model);
            await Fanout.OfferAsync(new RunModel(model) { Headers = result.Value.Headers, Dropped = result.Value.Dropped, Fallback = fallback?.Notice })
                .ConfigureAwait(false);
            await foreach (var e in result.Value.Events.WithCancellation(Cancel.Token).ConfigureAwait(false))
            {
                // The transcript keeps the first choice (a turn asking for n > 1 still streams every choice to its client).
                switch (e)
                {
                    case TextDelta { Choice: 0 } d:
                        text.Append(d.Text);
                        await Fanout.OfferAsync(d).ConfigureAwait(false);
                        break;
                    case ReasoningDelta { Choice: 0 } r:
                        (reasoning ??= new StringBuilder()).Append(r.Text);
                        signature = r.Signature ?? signature;
                        await Fanout.OfferAsync(r).ConfigureAwait(false);
                        break;
                    case ToolCallDelta { Choice: 0 } t:
                        tools ??= [];
                        var call = tools.TryGetValue(t.Index, out var c) ? c : (null, null, new StringBuilder());
                        call.Arguments.Append(t.Arguments);
                        tools[t.Index] = (call.Id ?? t.Id, call.Name ?? t.Name, call.Arguments);
                        await Fanout.OfferAsync(t).ConfigureAwait(false);
                        break;
                    case Finished { Choice: 0 } fin: finish = fin.Reason; break;
                    case UsageReport u: usage = u.Usage; break;
                    default: await Fanout.OfferAsync(e).ConfigureAwait(false); break;
                }
            }
            // A cancelled stream may simply end: an interrupt still has to be reported as one.
            Cancel.Token.ThrowIfCancellationRequested();
            return new Outcome(this, text.ToString(), model, keyId, usage, finish ?? "stop", null)
            {
                Reasoning = reasoning?.ToString(),
                ReasoningSignature = signature,
                ToolCalls = tools is null ? [] : [.. tools.Values.Select(x => new ToolCall(x.Id ?? "", x.Name ?? "", x.Arguments.ToString()))],
                Fallback = fallback,
            };
        }
        catch (OperationCanceledException) when (Cancel.IsCancellationRequested)
        {
            return Stopped(text.ToString(), model, keyId, usage, fallback);
        }
        catch (UpstreamException e)
        {
            return new Outcome(this, text.ToString(), model, keyId, usage, null,
                new SessionRunError(502, e.Failure.Message ?? "The upstream stream failed.", "api_error", "upstream_stream_error")) { Fallback = fallback };
        }
        catch (Exception e)
        {
            return new Outcome(this, text.ToString(), model, keyId, usage, null, InternalError(e));
        }
    }

    /// <summary>
    /// The run as one upstream answer (<see cref="WholeAnswer"/>): the subscribers get the model, then the reasoning, the
    /// refusal, the text and each tool call in one event each, in the order a stream of the same answer gives them; the
    /// finish reason and usage are held back as in <see cref="ExecuteAsync"/>. A run interrupted before the answer came has
    /// no partial text; one interrupted after it keeps the answer.
    /// </summary>
    private async Task<Outcome> ExecuteWholeAsync(ChatRunner runner, RunPlan plan, ChatRequest request)
    {
        string? model = null, keyId = null;
        FallbackChange? fallback = null;
        ChatCompletion? answer = null;
        try
        {
            var result = await runner.CompleteAsync(plan, request, Cancel.Token).ConfigureAwait(false);
            if (result.Failure is { } f) return Failed(f);
            var run = result.Value!;
            answer = run.Completion;
            answer.ReleaseRaw(); // only its typed fields are read
            model = run.Model.ToString();
            keyId = run.KeyId;
            fallback = FallbackOf(plan, run.Failures, model);
            await Fanout.OfferAsync(new RunModel(model) { Headers = answer.Headers, Dropped = run.Dropped, Fallback = fallback?.Notice })
                .ConfigureAwait(false);
            if (answer.Reasoning is { Length: > 0 } || answer.ReasoningSignature is not null)
                await Fanout.OfferAsync(new ReasoningDelta(answer.Reasoning ?? "") { Signature = answer.ReasoningSignature }).ConfigureAwait(false);
            if (answer.Refusal is { Length: > 0 } refusal) await Fanout.OfferAsync(new RefusalDelta(refusal)).ConfigureAwait(false);
            if (answer.Text is { Length: > 0 } text) await Fanout.OfferAsync(new TextDelta(text)).ConfigureAwait(false);
            for (var i = 0; i < answer.ToolCalls.Length; i++)
            {
                var call = answer.ToolCalls[i];
                await Fanout.OfferAsync(new ToolCallDelta(i, call.Id, call.Name, call.Arguments)).ConfigureAwait(false);
            }
            Cancel.Token.ThrowIfCancellationRequested();
            return new Outcome(this, answer.Text ?? "", model, keyId, answer.Usage, answer.FinishReason, null)
            {
                Reasoning = answer.Reasoning,
                ReasoningSignature = answer.ReasoningSignature,
                ToolCalls = answer.ToolCalls,
                Fallback = fallback,
            };
        }
        catch (OperationCanceledException) when (Cancel.IsCancellationRequested)
        {
            return Stopped(answer?.Text ?? "", model, keyId, answer?.Usage, fallback);
        }
        catch (Exception e)
        {
            return new Outcome(this, answer?.Text ?? "", model, keyId, answer?.Usage, null, InternalError(e));
        }
    }

    private Outcome Failed(RunFailure f) =>
        new(this, "", null, null, null, null, new SessionRunError(f.HttpStatus, f.Message, f.Type, f.Code, f.RetryAfter)
            { Param = f.Param, Reason = f.Reason, Headers = f.Headers });

    /// <summary>The run was cancelled: aborted (<see cref="Abort"/>) or interrupted by a newer message, with what it had so far.</summary>
    private Outcome Stopped(string text, string? model, string? keyId, TokenUsage? usage, FallbackChange? fallback) =>
        new(this, text, model, keyId, usage, "stop", _aborted
            ? new SessionRunError(Runs.SessionRunLedger.AbortedStatus, Runs.SessionRunLedger.AbortedMessage, "conflict_error", Runs.SessionRunLedger.AbortedCode)
            : new SessionRunError(409, "The run was interrupted by a newer message.", "conflict_error", Runs.SessionRunLedger.InterruptedCode))
        { Fallback = fallback };

    private static SessionRunError InternalError(Exception e) => new(500, "internal error: " + e.GetType().Name, "api_error", "internal_error");
}
