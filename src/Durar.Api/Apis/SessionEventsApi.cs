using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Watching;

namespace Durar.Api.Apis;

/// <summary>
/// <c>GET /v1/sessions/{key}/events</c>: an SSE stream of everything that happens in a session, from any node (the session's
/// node hands each watcher its own stream as a SourceRef). Journaled facts carry their journal sequence number as the SSE
/// <c>id</c>, so a client that reconnects with <c>Last-Event-ID</c> gets what was journaled since (<see cref="SessionJournalReplay"/>)
/// and then the live stream, without a gap or a repeat; live-only events (deltas) carry no id and are not replayed. A
/// watcher that falls behind is cut with <c>event: dropped</c>; one whose session stops gets <c>event: closed</c>.
/// </summary>
internal static partial class SessionEventsApi
{
    /// <summary>The request header a reconnecting SSE client sends (browsers' <c>EventSource</c> do it themselves).</summary>
    public const string LastEventId = "Last-Event-ID";

    public static RouteGroupBuilder MapSessionEvents(this RouteGroupBuilder sessions)
    {
        sessions.MapGet("/events", WatchAsync);
        return sessions;
    }

    private static async Task WatchAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        IMaterializer materializer, ActorSystem system)
    {
        long? after = null;
        if (!SessionKeys.IsValid(key))
        {
            await SessionsApi.BadKey(key).WriteAsync(context.Response);
            return;
        }
        if (context.Request.Headers.TryGetValue(LastEventId, out var header))
        {
            if (!long.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                await ApiError.BadRequest($"`{LastEventId}` must be an event id of this stream (a non-negative integer), got \"{header}\".",
                    "invalid_last_event_id", LastEventId).WriteAsync(context.Response);
                return;
            }
            after = id;
        }
        if (!await SessionsApi.ExistsAsync(context, key, gateway)) return;
        var ct = context.RequestAborted;
        var answer = await region.ActorRef.Ask<object>(new WatchSessionEvents(key), gateway.AskTimeout * 2, ct);
        if (answer is not EventsWatched watched)
        {
            var rejected = (TurnRejected)answer;
            await new ApiError(rejected.Status, rejected.Message, "api_error", rejected.Code).RetryingBusy(rejected).WriteAsync(context.Response);
            return;
        }

        // The live stream is read from now on (it buffers what happens during the replay); the replay fills in before it.
        await using var live = SessionReply.Open(system, watched, materializer, ct);
        SseResponse.Prepare(context, closer: null);
        var body = context.Response.BodyWriter;
        // The headers go out now (StartAsync alone does not flush them): a watcher knows it is subscribed before the first event.
        await context.Response.StartAsync(ct);
        await body.FlushAsync(ct);
        try
        {
            if (after is { } resumeAfter)
                await foreach (var e in SessionJournalReplay.ReadAsync(system, materializer, key, resumeAfter, watched.FromSequenceNr,
                                   gateway.SessionEvents.ReplayMax, gateway.AskTimeout, live.Token))
                    await WriteAsync(body, e, live.Token);
            while (await live.MoveNextAsync())
                if (live.Current is SessionWatchEvent e)
                    await WriteAsync(body, e, live.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The watcher went away: nothing to write to.
        }
        catch (OperationCanceledException) when (live.Lost)
        {
            await WriteAsync(body, SessionEventFeed.Closed("session_lost"), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A stream that failed (the session's node lost the watcher's stream, the journal failed the replay): the watcher
            // is told to reconnect, never left with a stream that stops without a word.
            LogWatchFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Durar.Sessions"), key, e.Message);
            await WriteAsync(body, SessionEventFeed.Closed("stream_failed"), ct);
        }
    }

    /// <summary>One SSE event: <c>id:</c> for journaled facts only (so Last-Event-ID stays the last journaled one), name, data.</summary>
    private static async ValueTask WriteAsync(PipeWriter body, SessionWatchEvent e, CancellationToken ct)
    {
        var text = e.Id > 0 ? $"id: {e.Id}\nevent: {e.Name}\ndata: {e.Data}\n\n" : $"event: {e.Name}\ndata: {e.Data}\n\n";
        Encoding.UTF8.GetBytes(text, body);
        await body.FlushAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session [{SessionKey}] event stream failed: {Error}; the watcher was told to reconnect")]
    private static partial void LogWatchFailed(ILogger logger, string sessionKey, string error);
}
