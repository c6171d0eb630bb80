using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Runs;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// Stored responses (<c>store: true</c>): each is a turn of the session its id names (<see cref="ResponseIds"/>). A new
/// response starts a conversation; <c>previous_response_id</c> sends the next turn to the same session, which builds the
/// history from its transcript (the input messages and tool calls it journaled). <c>GET</c> rebuilds a response from the
/// transcript, <c>DELETE</c> deletes its conversation, <c>POST .../cancel</c> cancels its running run. The turn is asked through <see cref="SessionTurnResponder"/> and its
/// reply read with <see cref="SessionReply"/>, as for every session turn.
/// </summary>
internal static class StoredResponses
{
    /// <summary>
    /// Runs a stored response as a turn: of the conversation <c>previous_response_id</c> names, of the session
    /// <paramref name="sessionKey"/> (<see cref="DurarHeaders.SessionKey"/>, the gateway's own key), or of a new conversation.
    /// When both name a session they must name the same one: a response id of another session is a 400 naming both.
    /// </summary>
    public static async Task RunTurnAsync(HttpContext context, ParsedResponsesRequest parsed, string? sessionKey)
    {
        long? after = null;
        if (parsed.PreviousResponseId is { } previous)
        {
            if (!ResponseIds.TryParse(context, previous, out var previousKey, out var seq))
            {
                await PreviousNotFound(previous).WriteAsync(context.Response);
                return;
            }
            if (sessionKey is not null && previousKey != sessionKey)
            {
                await ApiError.BadRequest($"`previous_response_id` \"{previous}\" belongs to another session than {DurarHeaders.SessionKey} "
                    + $"\"{Access.ClientModels.OutwardKey(context, sessionKey)}\": send one of them, or both naming the same session.",
                    "session_key_mismatch", "previous_response_id").WriteAsync(context.Response);
                return;
            }
            sessionKey = previousKey;
            after = seq;
        }
        sessionKey ??= ResponseIds.NewConversation(context);

        var services = context.RequestServices;
        var request = parsed.Request;
        var template = request with { Messages = [.. request.Messages.Where(m => m.Role is "system" or "developer")] };
        var content = string.Join("\n", parsed.Input.Where(m => m.Role == "user").Select(m => m.AllText));
        var send = new SessionCommands.SendMessage(sessionKey, content, null, parsed.Model, null, template) { Input = parsed.Input, After = after };
        var answer = await SessionTurnResponder.AskTurnAsync(context, services.GetRequiredService<IRequiredActor<SessionRegionKey>>(),
            services.GetRequiredService<GatewaySettings>(), send);
        switch (answer)
        {
            case null:
                return;
            case TurnRejected { Code: "previous_response_not_found" }:
                await PreviousNotFound(parsed.PreviousResponseId!).WriteAsync(context.Response);
                return;
            case TurnRejected rejected:
                var error = SessionTurnResponder.Rejection(rejected);
                await (rejected.Code == "previous_response_not_latest" ? error with { Param = "previous_response_id" } : error).WriteAsync(context.Response);
                return;
            case TurnAccepted accepted:
                await WriteReplyAsync(context, accepted, parsed, services.GetRequiredService<IMaterializer>());
                return;
            default:
                // A turn with input is literal (no directives): nothing else can come back.
                await new ApiError(500, "The session answered a response turn with " + answer.GetType().Name + ".", "api_error", "internal_error")
                    .WriteAsync(context.Response);
                return;
        }
    }

    /// <summary><c>GET /v1/responses/{id}</c>: the response rebuilt from its conversation's transcript.</summary>
    public static async Task GetAsync(HttpContext context, string id, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (await FindAsync(context, id, region, gateway) is not { } found) return;
        var (page, seq) = found;
        var entries = page.Entries;
        var index = -1;
        for (var i = 0; i < entries.Length && index < 0; i++)
            if (entries[i].Role == "user" && entries[i].Seq == seq) index = i;
        if (index < 0)
        {
            await NotFound(id).WriteAsync(context.Response);
            return;
        }
        var previous = entries.Take(index).LastOrDefault(e => e.Role == "user");
        var reply = entries.FirstOrDefault(e => e.Role == "assistant" && e.ReplyTo == seq);
        // A run that broke after output journals its partial reply and then the failure.
        var failure = entries.Skip(index + 1).TakeWhile(e => e.Role != "user").FirstOrDefault(e => e.Role == "error");
        var head = new ResponseHead(id, entries[index].At.ToUnixTimeSeconds(), reply?.Model ?? "durar", null, true,
            previous is null ? null : ResponseIds.For(context, page.SessionKey, previous.Seq));
        var items = reply is null ? [] : OutputItem.Of(id, reply.Reasoning, reply.Content, null, reply.ToolCalls);
        // A cancel is a run abort: its partial reply is kept marked aborted, or (nothing streamed) its failure has the abort's text.
        var status = reply is { Aborted: true } || failure?.Content == SessionRunLedger.AbortedMessage ? "cancelled"
            : failure is not null ? "failed"
            : reply is not null ? "completed" : "in_progress";
        var error = failure is null || status == "cancelled" ? null : new ApiError(502, failure.Content, "api_error", "upstream_error");
        await ResponseObjectWriter.WriteJsonAsync(context.Response, w => ResponseObjectWriter.Write(w, head, status, items,
            reply is null ? null : reply.Usage ?? TokenUsage.Zero, error, null));
    }

    /// <summary>
    /// <c>POST /v1/responses/{id}/cancel</c>: cancels a stored response while its run is running; its client's stream ends
    /// with an <c>error</c> (<c>aborted</c>: it is the session run abort of <c>POST /v1/sessions/{key}/abort</c>) and
    /// <c>response.failed</c>, and it reads back as <c>cancelled</c> (its partial output kept). A response
    /// that is not running (finished, or still queued behind another turn) is a 400.
    /// </summary>
    public static async Task CancelAsync(HttpContext context, string id, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (await FindAsync(context, id, region, gateway) is not { } found) return;
        var (page, seq) = found;
        var turn = page.Entries.FirstOrDefault(e => e.Role == "user" && e.Seq == seq);
        if (turn is null)
        {
            await NotFound(id).WriteAsync(context.Response);
            return;
        }
        if (await AskSessionAsync<TurnCancelled>(context, region, new SessionCommands.CancelTurn(page.SessionKey, seq), gateway) is not { } cancelled)
            return;
        if (!cancelled.WasRunning)
        {
            await ApiError.BadRequest("Only a running response can be cancelled.", "response_not_running", null).WriteAsync(context.Response);
            return;
        }
        var head = new ResponseHead(id, turn.At.ToUnixTimeSeconds(), "durar", null, true, null);
        await ResponseObjectWriter.WriteJsonAsync(context.Response, w => ResponseObjectWriter.Write(w, head, "cancelled", [], null, null, null));
    }

    /// <summary><c>DELETE /v1/responses/{id}</c>: deletes the conversation the response belongs to (every response of it).</summary>
    public static async Task DeleteAsync(HttpContext context, string id, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (await FindAsync(context, id, region, gateway) is not { } found) return;
        if (!found.Page.Entries.Any(e => e.Role == "user" && e.Seq == found.Seq))
        {
            await NotFound(id).WriteAsync(context.Response);
            return;
        }
        if (await AskSessionAsync<SessionDeleted>(context, region, new SessionCommands.DeleteSession(found.Page.SessionKey), gateway) is null) return;
        await ResponseObjectWriter.WriteJsonAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "response");
            w.WriteBoolean("deleted", true);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The transcript of the conversation <paramref name="id"/> names, or null once a 404 (an unknown id, a conversation never
    /// stored or deleted: no session entity is started for it) or a 503 (an unreadable journal) has been written.
    /// </summary>
    internal static async Task<(TranscriptPage Page, long Seq)?> FindAsync(HttpContext context, string id, IRequiredActor<SessionRegionKey> region,
        GatewaySettings gateway)
    {
        if (!ResponseIds.TryParse(context, id, out var key, out var seq))
        {
            await NotFound(id).WriteAsync(context.Response);
            return null;
        }
        try
        {
            if (!await SessionExistence.ExistsAsync(context.RequestServices.GetRequiredService<ActorSystem>(), key, gateway.AskTimeout, context.RequestAborted))
            {
                await NotFound(id).WriteAsync(context.Response);
                return null;
            }
        }
        catch (Exception e) when (e is JournalUnreadableException or AskTimeoutException)
        {
            await new ApiError(503, "The response store could not be read; try again shortly.", "api_error", "journal_unavailable").WriteAsync(context.Response);
            return null;
        }
        try
        {
            return (await WindowAsync(region, key, seq, gateway, context.RequestAborted), seq);
        }
        catch (SessionRejectedException e)
        {
            await SessionTurnResponder.Rejection(e.Rejected).WriteAsync(context.Response);
            return null;
        }
    }

    /// <summary>
    /// Asks the session for a <typeparamref name="T"/>; a <see cref="TurnRejected"/> answer (e.g. 503 <c>sessions_busy</c>
    /// when every session resident on its node is busy) is written as the error, and null returned.
    /// </summary>
    private static async Task<T?> AskSessionAsync<T>(HttpContext context, IRequiredActor<SessionRegionKey> region, ISessionCommand command,
        GatewaySettings gateway) where T : class
    {
        var answer = await region.ActorRef.Ask<object>(command, gateway.AskTimeout * 2, context.RequestAborted);
        if (answer is not TurnRejected rejected) return (T)answer;
        await SessionTurnResponder.Rejection(rejected).WriteAsync(context.Response);
        return null;
    }

    /// <summary>A session answered a transcript read with <see cref="TurnRejected"/> (see <see cref="FindAsync"/>).</summary>
    private sealed class SessionRejectedException(TurnRejected rejected) : Exception(rejected.Message)
    {
        public TurnRejected Rejected { get; } = rejected;
    }

    /// <summary>Transcript entries read per ask (the sessions API's own page limit).</summary>
    private const int PageSize = 500;

    /// <summary>
    /// The transcript around the entry <paramref name="seq"/>: the page that holds it with the pages before and after (the
    /// turn before it, its reply and a failure that followed it may sit across a page boundary). Pages are read from the start
    /// until one reaches <paramref name="seq"/>, so a response deep in a long session is found (entries are in seq order).
    /// </summary>
    private static async Task<TranscriptPage> WindowAsync(IRequiredActor<SessionRegionKey> region, string key, long seq, GatewaySettings gateway,
        CancellationToken ct)
    {
        async Task<TranscriptPage> Read(int offset) =>
            await region.ActorRef.Ask<object>(new SessionCommands.GetMessages(key, offset, PageSize), gateway.AskTimeout * 2, ct) switch
            {
                TranscriptPage read => read,
                TurnRejected rejected => throw new SessionRejectedException(rejected),
                var other => throw new InvalidOperationException("unexpected session answer " + other.GetType().Name),
            };

        TranscriptPage? previous = null;
        var page = await Read(0);
        while (page.Entries.Length == PageSize && page.Offset + PageSize < page.Total && page.Entries[^1].Seq < seq)
        {
            previous = page;
            page = await Read(page.Offset + PageSize);
        }
        var next = page.Entries.Length == PageSize && page.Offset + PageSize < page.Total ? await Read(page.Offset + PageSize) : null;
        if (previous is null && next is null) return page;
        var entries = (previous?.Entries ?? []).AddRange(page.Entries).AddRange(next?.Entries ?? []);
        return new TranscriptPage(page.SessionKey, previous?.Offset ?? page.Offset, page.Total, entries);
    }

    internal static ApiError NotFound(string id) => ApiError.NotFound($"Response with id '{id}' not found.", "response_not_found", null);

    private static ApiError PreviousNotFound(string id) =>
        ApiError.NotFound($"Previous response with id '{id}' not found.", "previous_response_not_found", "previous_response_id");

    private static async Task WriteReplyAsync(HttpContext context, TurnAccepted accepted, ParsedResponsesRequest parsed, IMaterializer materializer)
    {
        var ct = context.RequestAborted;
        var reply = SessionReply.Open(context.RequestServices.GetRequiredService<ActorSystem>(), accepted, materializer, ct);
        var id = ResponseIds.For(context, accepted.SessionKey, accepted.Seq);
        ResponseStreamWriter? stream = null;
        try
        {
            // The model that answered (or the run's error) comes first: a run that fails before any output is an error status.
            if (!await reply.MoveNextAsync())
            {
                ct.ThrowIfCancellationRequested();
                await new ApiError(502, "The session run ended without an answer.", "api_error", "empty_run").WriteAsync(context.Response);
                return;
            }
            if (reply.Current is SessionRunError first)
            {
                foreach (var (name, value) in first.Headers.Values) context.Response.Headers[name] = value;
                if (first.Reason is { Length: > 0 } reason) context.Response.Headers[DurarHeaders.FailureReason] = reason;
                await SessionTurnResponder.ToApiError(first).WriteAsync(context.Response);
                return;
            }
            var model = "durar";
            if (reply.Current is RunModel rm)
            {
                model = rm.Model;
                foreach (var (name, value) in rm.Headers.Values)
                    if (!context.Response.Headers.ContainsKey(name)) context.Response.Headers[name] = value;
                if (!rm.Dropped.IsDefaultOrEmpty) context.Response.Headers[DurarHeaders.Dropped] = string.Join(',', rm.Dropped);
            }
            context.Response.Headers[DurarHeaders.Model] = model;
            var head = new ResponseHead(id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model, parsed.Body, true, parsed.PreviousResponseId);
            if (parsed.Request.Stream)
            {
                SseResponse.Prepare(context, closer: null);
                stream = new ResponseStreamWriter(context.Response, head);
                SseResponse.EndsEarlyWith(context, stream);
                try
                {
                    await stream.WriteAsync(Rest(reply), reply.Token);
                }
                catch (RunFailedException failed)
                {
                    await stream.FailAsync(SessionTurnResponder.ToApiError(failed.Error), ct);
                }
                return;
            }
            var answer = new ChatEventCollector();
            try
            {
                await foreach (var e in Rest(reply)) answer.Add(e);
            }
            catch (RunFailedException failed)
            {
                await SessionTurnResponder.ToApiError(failed.Error).WriteAsync(context.Response);
                return;
            }
            reply.Token.ThrowIfCancellationRequested();
            await ResponseObjectWriter.WriteAsync(context.Response, head, answer.ToCompletion(model));
        }
        catch (OperationCanceledException) when (reply.Lost && !ct.IsCancellationRequested)
        {
            var error = new ApiError(503, "The node running this conversation went away before the response was complete; send it again.",
                "api_error", "session_lost");
            if (stream is not null) await stream.FailAsync(error, ct);
            else await error.WriteAsync(context.Response);
        }
        finally
        {
            await reply.DisposeAsync();
        }
    }

    /// <summary>The events after the first; a <see cref="SessionRunError"/> among them becomes <see cref="RunFailedException"/>.</summary>
    private static async IAsyncEnumerable<ChatEvent> Rest(IAsyncEnumerator<ChatEvent> events)
    {
        while (await events.MoveNextAsync())
        {
            if (events.Current is SessionRunError error) throw new RunFailedException(error);
            yield return events.Current;
        }
    }

    private sealed class RunFailedException(SessionRunError error) : Exception(error.Message)
    {
        public SessionRunError Error { get; } = error;
    }
}
