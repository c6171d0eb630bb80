using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Resilience;
using Durar.Actors.Routing;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// A session run bounded by its model's context (issue 18): the turn's input is measured (<see cref="TurnPrompt"/>); when it
/// would not fit, older turns are summarised first (<see cref="Compactor"/>, by <c>agents.defaults.compaction.model</c> or the
/// session's own model, through the normal run: keys, failover); and when the upstream still answers context overflow (a
/// model whose tokenizer the gateway only estimates, a fallback with a smaller context), the session compacts once more,
/// harder, and retries once, instead of failing (OpenClaw: overflow is "rethrown to compaction/retry", never failed over).
/// It runs on the run's task, off the actor's thread; the session journals the <see cref="CompactionResult"/> it returns
/// with the run's outcome.
/// </summary>
internal static class SessionCompaction
{
    /// <summary>What a retried overflow aims at: this share of what the upstream refused (or of the budget, when less).</summary>
    private const double OverflowRetryShare = 2.0 / 3.0;

    /// <summary>How many times a summary request refused for its size is split before the compaction gives up.</summary>
    private const int MaxPieceSplits = 8;

    /// <summary>Runs <paramref name="run"/> with <paramref name="request"/> built from <paramref name="state"/> and its conversation
    /// <paramref name="sent"/>, compacting as needed. Never throws.</summary>
    public static async Task<SessionRun.Outcome> ExecuteAsync(SessionRun run, SessionServices services, RunPlan plan, ChatRequest request,
        SessionState state, ImmutableArray<TranscriptEntry> sent)
    {
        var runFirstSeq = run.Turns[0].Seq;
        TurnPrompt prompt;
        try
        {
            prompt = TurnPrompt.Prepare(request, ContextBudget.For(plan.Requested, request.MaxTokens), state, sent);
        }
        catch (Exception e)
        {
            return run.NotPlanned(new SessionRunError(500, "internal error while counting the turn's tokens: " + e.GetType().Name, "api_error", "internal_error"));
        }
        CompactionResult? compaction = null;
        // A client that sent its own history (no transcript entries in the request) is sent as it came: the upstream decides.
        if (!prompt.Fits && !prompt.Entries.IsEmpty)
        {
            var (compacted, error) = await CompactAsync(run, services, plan, prompt, prompt.Budget.Input, runFirstSeq).ConfigureAwait(false);
            if (error is not null) return run.NotPlanned(error) with { Compaction = null, InputTokens = prompt.Total };
            (prompt, compaction) = compacted!.Value;
            plan = MovedOn(plan, state, run);
        }

        var outcome = await run.ExecuteAsync(services.Runner, plan, prompt.Request).ConfigureAwait(false);
        if (outcome is { Model: null, Error.Reason: var reason } && reason == FailoverReason.ContextOverflow.ToWireName()
            && !run.Cancel.IsCancellationRequested)
        {
            var target = (long)(Math.Min(prompt.Budget.Input, prompt.Total) * OverflowRetryShare);
            var (compacted, error) = await CompactAsync(run, services, plan, prompt, target, runFirstSeq).ConfigureAwait(false);
            if (error is null)
            {
                var (retried, again) = compacted!.Value;
                // One compaction journaled per turn: the second folds the first's summary in.
                compaction = again with { TokensBefore = compaction?.TokensBefore ?? again.TokensBefore };
                prompt = retried;
                outcome = await run.ExecuteAsync(services.Runner, MovedOn(plan, state, run), prompt.Request).ConfigureAwait(false);
            }
        }
        return outcome with { Compaction = compaction, InputTokens = prompt.Total };
    }

    /// <summary>
    /// After a compaction an automatic auth pin moves on (reference item 30): the reply goes through the provider's usual key
    /// order instead of the pinned key, and the session pins whichever key answers. A user or inline pin stays.
    /// </summary>
    private static RunPlan MovedOn(RunPlan plan, SessionState state, SessionRun run) =>
        state.Overrides.AuthProfileSource == OverrideSource.Auto && run.Turns[^1].Inline.AuthProfile is null && plan.PreferredKeyId == state.Overrides.AuthProfile
            ? plan with { PreferredKeyId = null }
            : plan;

    /// <summary>Summarises what <paramref name="prompt"/> can spare so that it fits <paramref name="target"/>; or the error that prevents it.</summary>
    private static async Task<((TurnPrompt Prompt, CompactionResult Result)? Done, SessionRunError? Error)> CompactAsync(SessionRun run,
        SessionServices services, RunPlan turnPlan, TurnPrompt prompt, long target, long runFirstSeq)
    {
        if (Compactor.Plan(prompt, target, runFirstSeq) is not { } cut)
            return (null, new SessionRunError(400,
                $"Context overflow: the turn needs {prompt.Total} tokens and the model takes {prompt.Budget.Input} (context {prompt.Budget.Context} " +
                $"minus {prompt.Budget.OutputCap} for the answer), and nothing older is left to compact. Shorten the message, try /reset (or /new), " +
                "or use a larger-context model.", "invalid_request_error", "context_overflow") { Reason = FailoverReason.ContextOverflow.ToWireName() });

        RunPlan plan;
        try
        {
            plan = services.Settings.Compaction.Model is { } model ? RunPlanner.Plan(services.Resolver, model, null) : turnPlan;
        }
        catch (PlanException e)
        {
            return (null, new SessionRunError(e.Status, "agents.defaults.compaction.model: " + e.Message, "invalid_request_error", e.Code));
        }

        var budget = ContextBudget.For(plan.Requested, cut.SummaryCap);
        var summary = prompt.SummaryBody;
        var pieces = Compactor.Pieces(prompt.Entries[..cut.Cut], budget, cut.SummaryCap);
        if (pieces.Count == 0) pieces.Add("(no new messages: shorten the summary so far)");
        long input = 0, output = 0, cacheRead = 0, cacheWrite = 0;
        decimal cost = 0;
        string? summarisedBy = null;
        var queue = new Queue<string>(pieces);
        var overflows = 0;
        try
        {
            while (queue.TryDequeue(out var piece))
            {
                var result = await services.Runner.CompleteAsync(plan, Compactor.SummaryRequest(summary, piece, cut.SummaryCap), run.Cancel.Token)
                    .ConfigureAwait(false);
                // The summarising model takes less than its catalog entry says: the piece is halved and tried again.
                if (result.Failure is { } tooLong && tooLong.Reason == FailoverReason.ContextOverflow.ToWireName() && ++overflows <= MaxPieceSplits
                    && Compactor.Halve(piece) is { } halves)
                {
                    queue = new Queue<string>([halves.First, halves.Second, .. queue]);
                    continue;
                }
                if (result.Failure is { } f)
                    return (null, new SessionRunError(f.HttpStatus, "The session's older turns had to be summarised to fit the model's context, and that failed: " + f.Message,
                        f.Type, f.Code, f.RetryAfter) { Param = f.Param, Reason = f.Reason, Headers = f.Headers });
                var done = result.Value!;
                done.Completion.ReleaseRaw(); // only the text and usage are read
                summary = (done.Completion.Text ?? "").Trim();
                summarisedBy = done.Model.ToString();
                if (done.Completion.Usage is { } u)
                {
                    (input, output, cacheRead, cacheWrite) = (input + u.Input, output + u.Output, cacheRead + u.CacheRead, cacheWrite + u.CacheWrite);
                    cost += ModelPricing.Cost(u, done.Model);
                }
            }
        }
        catch (OperationCanceledException) when (run.Cancel.IsCancellationRequested)
        {
            return (null, new SessionRunError(409, "The run was interrupted by a newer message.", "conflict_error", "interrupted"));
        }

        var after = Compactor.Apply(prompt, cut, summary ?? "", target);
        var usage = input + output + cacheRead + cacheWrite > 0 ? new TokenUsage(input, output, cacheRead, cacheWrite) : null;
        return ((after, new CompactionResult(cut.KeepFromSeq(prompt), after.SummaryBody ?? "", summarisedBy!, prompt.Total, after.Total, usage, cost)), null);
    }
}
