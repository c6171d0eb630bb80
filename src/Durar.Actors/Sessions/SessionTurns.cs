using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Models;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>What a sent message amounts to, decided before anything is journaled.</summary>
internal abstract record SendDecision
{
    private SendDecision() { }

    /// <summary>A bad directive or a disallowed model: nothing is journaled.</summary>
    public sealed record Rejected(int Status, string Message, string Code) : SendDecision;

    /// <summary>Only directives: the events that change the session (possibly none) and the acknowledgement text.</summary>
    public sealed record DirectivesOnly(IReadOnlyList<ISessionEvent> Events, string Reply) : SendDecision;

    /// <summary>A turn: its text, its inline overrides, and what to journal before it is acknowledged.</summary>
    public sealed record Turn(string Content, SessionOverrides Inline, IReadOnlyList<ISessionEvent> Events) : SendDecision;
}

/// <summary>
/// The steps of a turn as pure functions over the session state: what a sent message amounts to (<see cref="Decide"/>),
/// the upstream request a run sends (<see cref="BuildRequest"/>), and what a finished run journals and sends after the
/// reply (<see cref="Conclude"/>). The session actor persists and sends what these return.
/// </summary>
internal static class SessionTurns
{
    /// <summary>
    /// Parses the directives of the message's content: a message of directives only changes the session (stored
    /// overrides, <c>/new</c>); otherwise its directives apply to this turn alone and its text is the user message.
    /// </summary>
    /// <remarks>
    /// A turn that carries its own messages (<see cref="SessionCommands.SendMessage.Input"/>)
    /// is literal (no directives) and journals them; one that continues a reply (<see cref="SessionCommands.SendMessage.After"/>)
    /// is refused when that reply is not the transcript's last turn.
    /// </remarks>
    public static SendDecision Decide(SessionCommands.SendMessage send, SessionState state, SessionServices services, DateTimeOffset now)
    {
        if (send.After is { } after)
        {
            var lastUser = state.Transcript.LastOrDefault(e => e.Role == "user");
            if (!state.Transcript.Any(e => e.Role == "user" && e.Seq == after))
                return TranscriptWindow.IsTrimmed(state, after)
                    // An older turn that left memory (the last user message never does): it exists, and is not the latest.
                    ? new SendDecision.Rejected(400, "Only the latest response of a stored conversation can be continued: this one has later turns.",
                        "previous_response_not_latest")
                    : new SendDecision.Rejected(404, "The response to continue was not found.", "previous_response_not_found");
            if (lastUser!.Seq != after)
                return new SendDecision.Rejected(400, "Only the latest response of a stored conversation can be continued: this one has later turns.",
                    "previous_response_not_latest");
        }
        if (!send.Input.IsDefaultOrEmpty)
            return new SendDecision.Turn(send.Content, SessionOverrides.None,
                [new SessionEvents.UserMessageAccepted(now, send.Content) { Messages = send.Input }]);
        var content = send.Content;
        var parsed = DirectiveParser.Parse(content);
        if (parsed.HasErrors) return new SendDecision.Rejected(400, string.Join("\n", parsed.Errors.Select(e => e.Message)), "invalid_directive");
        var (overrides, inline, replies, newSession, error) = SessionDirectives.Apply(parsed, state.Overrides, services, persistent: parsed.IsDirectiveOnly);
        if (error is { } e) return new SendDecision.Rejected(e.Status, e.Message, e.Code);
        var events = new List<ISessionEvent>();
        if (newSession) events.Add(new SessionEvents.SessionReset(now));
        if (parsed.IsDirectiveOnly)
        {
            if (overrides != state.Overrides) events.Add(new SessionEvents.OverridesChanged(now, overrides));
            return new SendDecision.DirectivesOnly(events, string.Join("\n", replies));
        }
        var text = parsed.Text.Trim();
        events.Add(new SessionEvents.UserMessageAccepted(now, text));
        return new SendDecision.Turn(text, inline, events);
    }

    /// <summary>
    /// The request for a run of <paramref name="turns"/>: the template's system messages, then the client's own history or
    /// the transcript's conversation (<paramref name="sent"/>: <see cref="SessionState.SentEntries"/> without the messages
    /// still waiting), the summary of <paramref name="dropped"/> messages before the last one, and the session's effective settings.
    /// </summary>
    public static ChatRequest BuildRequest(ImmutableArray<PendingTurn> turns, ImmutableArray<TranscriptEntry> sent, ImmutableList<string> dropped,
        SessionState state, SessionServices services, DateTimeOffset runStart)
    {
        var last = turns[^1];
        var template = last.Command.Template;
        var messages = ImmutableArray.CreateBuilder<ChatMessage>(sent.Length + 2);
        if (template is not null)
            foreach (var m in template.Messages.Where(m => m.Role is "system" or "developer")) messages.Add(m);
        if (last.Command.History is { Count: > 0 } history)
            messages.AddRange(history.Where(m => m.Role is not ("system" or "developer")));
        else
        {
            // After a compaction, its summary stands in for the turns it summarised (TurnPrompt finds it by reference).
            if (state.Summary is { } summary) messages.Add(new ChatMessage("system", summary.Text));
            foreach (var entry in sent)
            {
                if (!entry.Messages.IsDefaultOrEmpty) messages.AddRange(entry.Messages.Where(m => m.Role is not ("system" or "developer")));
                else messages.Add(entry.AsMessage()); // built once per entry, not once per turn (issue 17)
            }
        }
        if (!dropped.IsEmpty)
            messages.Insert(messages.Count - 1, new ChatMessage("user",
                "Earlier queued messages were dropped:\n" + string.Join("\n", dropped.Select(s => "• " + s))));
        var baseRequest = template ?? new ChatRequest { Messages = [] };
        var target = SessionDirectives.TargetModel(last.View, state, services);
        return SessionDirectives.WithSettings(baseRequest with { Messages = messages.DrainToImmutable(), Stream = true, IncludeUsage = true },
            last.Inline, state.Overrides, services, target, runStart);
    }

    /// <summary>
    /// What a finished run of a client token's session (<see cref="ClientTokenSessions"/>) spent, as the usage
    /// report the token's actor adds to its usage, tpm window and budget (no request counted: the HTTP request that sent the
    /// message counts itself): the answer (complete or not, priced at the model that answered) and the summarising calls
    /// of a compaction. One report per run, so a collect-mode run that merged several messages is charged once, not once
    /// per message waiting for its reply. Null for an operator's session or a run that spent nothing.
    /// </summary>
    public static ClientTokenCommands.ReportUsage? Charge(string sessionKey, SessionRun.Outcome done, SessionServices services)
    {
        if (ClientTokenSessions.TokenOf(sessionKey) is not { } token) return null;
        long prompt = 0, completion = 0;
        var cost = 0m;
        if (done.Usage is { } u)
        {
            (prompt, completion) = (u.Prompt, u.Output);
            if (done.Model is not null && services.Resolver.Resolve(done.Model) is { Success: true } r) cost += ModelPricing.Cost(u, r.Model!.Model.Cost);
        }
        if (done.Compaction is { } c)
        {
            if (c.Usage is { } cu) (prompt, completion) = (prompt + cu.Prompt, completion + cu.Output);
            cost += c.Cost;
        }
        return prompt + completion > 0 || cost > 0 ? new(token, prompt, completion, cost, Requests: 0) : null;
    }

    /// <summary>
    /// What a finished run journals (the reply with its cost, the automatic auth pin, the failure) and the events its
    /// subscribers get after the streamed text (the usage line, the finish reason, the usage, or the error).
    /// </summary>
    public static (List<ISessionEvent> Events, List<ChatEvent> Tail) Conclude(SessionRun.Outcome done, SessionState state, SessionServices services,
        DateTimeOffset now)
    {
        var events = new List<ISessionEvent>();
        var tail = new List<ChatEvent>();
        var last = done.Run.Turns[^1];
        if (done.Fallback is { Notice: { } notice })
            events.Add(new SessionEvents.FallbackNoticed(now, notice.Selected, notice.Active, notice.Reason));
        else if (done.Fallback is { } cleared && state.Fallback is not null)
            events.Add(new SessionEvents.FallbackCleared(now, cleared.Selected));
        if (done.Compaction is { } c)
            events.Add(new SessionEvents.Compacted(now, c.KeepFromSeq, c.Summary, c.Model, c.TokensBefore, c.TokensAfter) { Usage = c.Usage, Cost = c.Cost });
        var runIds = done.Run.Turns.Select(t => t.RunId).Where(id => id.Length > 0).ToImmutableArray();
        // An abort keeps the partial reply, marked aborted, as the run's end (no error entry in the transcript).
        var aborted = done.Error?.Code == Runs.SessionRunLedger.AbortedCode;
        if (done.Model is not null && (done.Text.Length > 0 || done.Error is null))
        {
            var cost = done.Usage is { } u && services.Resolver.Resolve(done.Model) is { Success: true } r ? ModelPricing.Cost(u, r.Model!.Model.Cost) : 0m;
            events.Add(new SessionEvents.AssistantReplied(now, done.Text, done.Model, done.KeyId, done.Usage, cost)
                {
                    ReplyTo = last.Seq, Reasoning = done.Reasoning, ReasoningSignature = done.ReasoningSignature, ToolCalls = done.ToolCalls,
                    InputTokens = done.InputTokens, RunIds = runIds, Aborted = aborted,
                    Finish = done.Error is null && done.Finish != "stop" ? done.Finish : null,
                });
            var mode = SessionDirectives.UsageMode(last.Inline, state.Overrides, services);
            if (done.Error is null && UsageLine.Format(mode, done.Usage, cost, done.Model) is { } line) tail.Add(new TextDelta("\n\n" + line));
            if (done.Error is null)
            {
                tail.Add(new Finished(done.Finish ?? "stop"));
                if (done.Usage is not null) tail.Add(new UsageReport(done.Usage));
            }
            // The automatic auth pin follows the key that answered (reference item 30); a user pin is never overwritten, and
            // an image turn's switch to the image model leaves the pin alone (item 33).
            if (done.KeyId is not null && !done.Run.ImageRouted && state.Overrides.AuthProfileSource != OverrideSource.User
                && state.Overrides.AuthProfile != done.KeyId)
                events.Add(new SessionEvents.OverridesChanged(now, state.Overrides with
                {
                    AuthProfile = done.KeyId,
                    AuthProfileSource = OverrideSource.Auto,
                    AuthProfileCompactionCount = state.CompactionCount + (done.Compaction is null ? 0 : 1),
                }));
        }
        if (done.Error is { } error)
        {
            if (!aborted || !events.OfType<SessionEvents.AssistantReplied>().Any())
                events.Add(new SessionEvents.RunFailed(now, error.Message, error.Status) { RunIds = runIds, Code = error.Code });
            tail.Add(error);
        }
        return (events, tail);
    }
}
