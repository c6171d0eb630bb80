using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Api.Apis;

/// <summary>
/// Runs one session turn for an HTTP request and writes its reply in the client's dialect (<see cref="ReplyDialect"/>: the
/// chat-completion shapes unless told otherwise), JSON or SSE. <c>POST /v1/sessions/{key}/messages</c>, and
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/messages</c> with <see cref="DurarHeaders.SessionKey"/>, all come through
/// here, so no endpoint calls another. The reply is read with <see cref="SessionReply"/> (which
/// learns when the session's node died); this type only maps it to HTTP.
/// </summary>
internal static partial class SessionTurnResponder
{
    /// <summary>Sends <paramref name="send"/> to its session and writes the answer: an error, a directive acknowledgement, or the reply.</summary>
    public static async Task RunTurnAsync(HttpContext context, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        IMaterializer materializer, SessionCommands.SendMessage send, bool stream, bool includeUsage, ReplyDialect? dialect = null)
    {
        dialect ??= ReplyDialect.ChatCompletions;
        var ct = context.RequestAborted;
        var answer = await AskTurnAsync(context, region, gateway, stream ? send : send with { WholeAnswer = true });
        switch (answer)
        {
            case null:
                return;
            case TurnRejected rejected:
                await Rejection(rejected).WriteAsync(context.Response);
                return;
            case DirectivesApplied applied:
                await WriteTextReplyAsync(context, applied.Reply, stream, includeUsage, dialect, ct);
                return;
            case TurnAccepted accepted:
                if (accepted.RunId is not null) context.Response.Headers[DurarHeaders.RunId] = accepted.RunId;
                await WriteReplyAsync(context, accepted, stream, includeUsage, materializer, dialect, ct);
                return;
        }
    }

    /// <summary>
    /// Sends <paramref name="send"/> to its session and returns the session's answer (<see cref="TurnAccepted"/>,
    /// <see cref="DirectivesApplied"/> or <see cref="TurnRejected"/>), or null once an error has been written (the journal is
    /// down, the session did not answer in time). Every dialect's session turn asks through here.
    /// </summary>
    public static async Task<object?> AskTurnAsync(HttpContext context, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        SessionCommands.SendMessage send)
    {
        var health = JournalHealth.For(context.RequestServices.GetRequiredService<ActorSystem>());
        if (health.IsDown(DateTimeOffset.UtcNow, out var wait))
        {
            await JournalUnavailable(wait).WriteAsync(context.Response);
            return null;
        }
        object answer;
        try
        {
            // A session failing on the journal (its recovery or write) marks it down: this turn need not wait for its timeout.
            var ask = region.ActorRef.Ask<object>(send, TurnTimeout(gateway), context.RequestAborted);
            if (await Task.WhenAny(ask, health.WentDown) != ask && health.IsDown(DateTimeOffset.UtcNow, out wait))
            {
                _ = ask.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                await JournalUnavailable(wait).WriteAsync(context.Response);
                return null;
            }
            answer = await ask;
        }
        catch (AskTimeoutException)
        {
            await new ApiError(503, "The session did not answer in time.", "api_error", "session_timeout").WriteAsync(context.Response);
            return null;
        }
        context.Response.Headers[DurarHeaders.SessionKey] = Access.ClientModels.OutwardKey(context, send.SessionKey);
        if (answer is TurnRejected { Code: SessionActor.JournalUnavailable } && health.IsDown(DateTimeOffset.UtcNow, out wait))
        {
            await JournalUnavailable(wait).WriteAsync(context.Response);
            return null;
        }
        return answer;
    }

    /// <summary>The error a rejected turn answers with.</summary>
    public static ApiError Rejection(TurnRejected rejected) =>
        new ApiError(rejected.Status, rejected.Message, rejected.Status == 429 ? "rate_limit_error" : rejected.Status >= 500 ? "api_error"
            : rejected.Status == 404 ? "not_found_error" : "invalid_request_error", rejected.Code).RetryingBusy(rejected);

    /// <summary>
    /// <paramref name="error"/> with a <c>Retry-After</c> when <paramref name="rejected"/> is a session refused because every
    /// session resident on its node is busy (<c>sessions_busy</c>); unchanged otherwise.
    /// </summary>
    public static ApiError RetryingBusy(this ApiError error, TurnRejected rejected) =>
        rejected.Code == SessionActor.SessionsBusy ? error with { RetryAfter = SessionActor.SessionsBusyRetryAfter } : error;

    private static ApiError JournalUnavailable(TimeSpan retryAfter) =>
        new(503, "The session journal is unavailable; try again shortly.", "api_error", SessionActor.JournalUnavailable) { RetryAfter = retryAfter };

    /// <summary>A turn waits for the journal write and, on another node, a hop each way: more than one actor answer.</summary>
    private static TimeSpan TurnTimeout(GatewaySettings gateway) => gateway.AskTimeout * 3;

    private static async Task WriteReplyAsync(HttpContext context, TurnAccepted accepted, bool stream, bool includeUsage, IMaterializer materializer,
        ReplyDialect dialect, CancellationToken ct)
    {
        var reply = SessionReply.Open(context.RequestServices.GetRequiredService<ActorSystem>(), accepted, materializer, ct);
        try
        {
            // A run's answer is named after the run: a repeated Idempotency-Key gets the same id as the first answer.
            await WriteEventsAsync(context, reply, stream, includeUsage, dialect.ForRun(accepted.RunId), reply.Token);
        }
        catch (OperationCanceledException) when (reply.Lost && !ct.IsCancellationRequested)
        {
            LogSessionLost(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Durar.Sessions"), accepted.SessionKey);
            var error = new ApiError(503, "The node running this session went away before the reply was complete; send the message again.",
                "api_error", "session_lost");
            if (context.Response.HasStarted) await dialect.WriteStreamErrorAsync(context.Response.BodyWriter, error, ct);
            else await error.WriteAsync(context.Response);
        }
        finally
        {
            await reply.DisposeAsync();
        }
    }

    private static async Task WriteEventsAsync(HttpContext context, IAsyncEnumerator<ChatEvent> events, bool stream, bool includeUsage,
        ReplyDialect dialect, CancellationToken ct)
    {
        // The model that answered (or the error) comes first; headers wait for it so a failed turn is a proper error status.
        if (!await events.MoveNextAsync())
        {
            ct.ThrowIfCancellationRequested(); // a cancelled stream just ends: not an empty run
            await new ApiError(502, "The session run ended without an answer.", "api_error", "empty_run").WriteAsync(context.Response);
            return;
        }
        if (events.Current is SessionRunError error)
        {
            // The provider's request id and rate-limit figures, as on a stateless error answer.
            foreach (var (name, value) in error.Headers.Values) context.Response.Headers[name] = value;
            if (error.Reason is { Length: > 0 } reason) context.Response.Headers[DurarHeaders.FailureReason] = reason;
            await ToApiError(error).WriteAsync(context.Response);
            return;
        }
        var model = "durar";
        if (events.Current is RunModel rm)
        {
            model = rm.Model;
            // As on a stateless answer: the upstream's request id and rate-limit figures, and the fields it did not get.
            foreach (var (name, value) in rm.Headers.Values)
                if (!context.Response.Headers.ContainsKey(name)) context.Response.Headers[name] = value;
            if (!rm.Dropped.IsDefaultOrEmpty) context.Response.Headers[DurarHeaders.Dropped] = string.Join(',', rm.Dropped);
            if (rm.Fallback is { } fallback)
            {
                context.Response.Headers[DurarHeaders.FallbackFrom] = fallback.Selected;
                if (fallback.Reason is { } why) context.Response.Headers[DurarHeaders.FallbackReason] = why;
            }
        }
        context.Response.Headers[DurarHeaders.Model] = model;
        if (stream)
        {
            SseResponse.Prepare(context, dialect);
            try
            {
                await dialect.WriteStreamAsync(context.Response, model, Rest(events), includeUsage, ct);
            }
            catch (SessionRunFailed failed)
            {
                await dialect.WriteStreamErrorAsync(context.Response.BodyWriter, ToApiError(failed.Error), ct);
            }
            return;
        }
        var answer = new ChatEventCollector();
        try
        {
            await foreach (var e in Rest(events)) answer.Add(e);
        }
        catch (SessionRunFailed failed)
        {
            await ToApiError(failed.Error).WriteAsync(context.Response);
            return;
        }
        ct.ThrowIfCancellationRequested(); // a cancelled stream just ends: its text so far is not the answer
        await dialect.WriteCompletionAsync(context.Response, model, answer.ToCompletion(model));
    }

    internal static ApiError ToApiError(SessionRunError error) =>
        new(error.Status, error.Message, error.Type, error.Code, error.Param) { RetryAfter = error.RetryAfter };

    /// <summary>
    /// The events after the first; a <see cref="SessionRunError"/> in the stream becomes <see cref="SessionRunFailed"/>. The
    /// run's spend is not charged here: the session charges its client token once per run (SessionTurns.Charge), merged
    /// collect turns and compaction included, whether or not this reader stays to the end.
    /// </summary>
    private static async IAsyncEnumerable<ChatEvent> Rest(IAsyncEnumerator<ChatEvent> events)
    {
        while (await events.MoveNextAsync())
        {
            if (events.Current is SessionRunError error) throw new SessionRunFailed(error);
            yield return events.Current;
        }
    }

    private sealed class SessionRunFailed(SessionRunError error) : Exception(error.Message)
    {
        public SessionRunError Error { get; } = error;
    }

    /// <summary>A directive acknowledgement, written as a completion from the model <c>durar</c>.</summary>
    private static async Task WriteTextReplyAsync(HttpContext context, string text, bool stream, bool includeUsage, ReplyDialect dialect,
        CancellationToken ct)
    {
        context.Response.Headers[DurarHeaders.Model] = "durar";
        if (!stream)
        {
            await dialect.WriteCompletionAsync(context.Response, "durar", new ChatCompletion(text, [], "stop", TokenUsage.Zero, "durar"));
            return;
        }
        SseResponse.Prepare(context, dialect);
        await dialect.WriteStreamAsync(context.Response, "durar", Once(text), includeUsage, ct);

        static async IAsyncEnumerable<ChatEvent> Once(string text)
        {
            await Task.CompletedTask;
            yield return new TextDelta(text);
            yield return new Finished("stop");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Session [{SessionKey}] stopped before its reply was complete (its node left); ending the reply with session_lost")]
    private static partial void LogSessionLost(ILogger logger, string sessionKey);
}
