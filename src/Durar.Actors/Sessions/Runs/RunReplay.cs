using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Runs;

/// <summary>
/// The reply of an ended run, rebuilt from the journal for a repeated <c>Idempotency-Key</c>: the same text, model, finish
/// and usage (or the same error) the first request got, as reply events. Pure.
/// </summary>
internal static class RunReplay
{
    /// <summary>
    /// The events of <paramref name="run"/>'s reply. <paramref name="reply"/> is its transcript entry (null when a reset
    /// removed it); <paramref name="usageMode"/> decides the usage line, as for a live reply.
    /// </summary>
    public static IReadOnlyList<ChatEvent> Events(RunRecord run, TranscriptEntry? reply, ResponseUsageMode usageMode)
    {
        if (run.Model is null || run.ReplySeq is null)
            return [Error(run)];
        if (reply is null)
            return [new SessionRunError(409, "The run's reply is no longer in the session (it was reset or deleted).", "conflict_error", "run_result_gone")];
        var events = new List<ChatEvent> { new RunModel(run.Model) };
        if (reply.Reasoning is { Length: > 0 } reasoning) events.Add(new ReasoningDelta(reasoning) { Signature = reply.ReasoningSignature });
        if (reply.Content.Length > 0) events.Add(new TextDelta(reply.Content));
        if (run.Status != RunStatus.Done)
        {
            events.Add(Error(run));
            return events;
        }
        if (UsageLine.Format(usageMode, run.Usage, run.Cost, run.Model) is { } line) events.Add(new TextDelta("\n\n" + line));
        events.Add(new Finished(run.Finish ?? "stop"));
        if (run.Usage is { } usage) events.Add(new UsageReport(usage));
        return events;
    }

    private static SessionRunError Error(RunRecord run)
    {
        var status = run.ErrorStatus ?? 502;
        var type = status switch
        {
            409 => "conflict_error",
            429 => "rate_limit_error",
            403 => "permission_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        };
        return new SessionRunError(status, run.ErrorMessage ?? "The run failed.", type, run.ErrorCode ?? "run_failed");
    }
}
