using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;
using Microsoft.AspNetCore.Http.Features;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// The sessions API: <c>POST /v1/sessions/{key}/messages</c> (a turn; SSE or JSON in the chat-completion shapes),
/// <c>GET /v1/sessions/{key}</c>, <c>GET /v1/sessions/{key}/messages</c>, <c>PATCH /v1/sessions/{key}</c>,
/// <c>POST /v1/sessions/{key}/reset</c>, <c>DELETE /v1/sessions/{key}</c>. Every call goes to the session's shard entity.
/// </summary>
public static partial class SessionsApi
{
    public const string SessionKeyHeader = "x-durar-session-key";

    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/v1/sessions/{key}");
        sessions.MapPost("/messages", PostMessageAsync);
        sessions.MapGet("", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g) =>
            AskAndWrite<SessionView>(c, key, region, g, new SessionCommands.GetSession(key), WriteView));
        sessions.MapGet("/messages", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g, int? offset, int? limit) =>
            AskAndWrite<TranscriptPage>(c, key, region, g, new SessionCommands.GetMessages(key, offset ?? 0, limit ?? 100), WritePage));
        sessions.MapPatch("", PatchAsync);
        sessions.MapPost("/reset", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g) =>
            AskAndWrite<SessionView>(c, key, region, g, new SessionCommands.ResetSession(key), WriteView));
        sessions.MapDelete("", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g) =>
            AskAndWrite<SessionDeleted>(c, key, region, g, new SessionCommands.DeleteSession(key), (w, d) =>
            {
                w.WriteString("key", d.SessionKey);
                w.WriteBoolean("deleted", true);
            }));
        return app;
    }

    /// <summary>Session keys: 1–200 characters of letters, digits and <c>: . _ - @</c>, starting with a letter or digit.</summary>
    public static bool IsValidKey(string? key) => key is { Length: > 0 and <= 200 } && KeyPattern().IsMatch(key);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9:._@-]*$")]
    private static partial Regex KeyPattern();

    private static ApiError BadKey(string? key) =>
        ApiError.BadRequest($"Invalid session key \"{key}\": use 1-200 letters, digits or : . _ - @, starting with a letter or digit.",
            "invalid_session_key", "key");

    private static async Task PostMessageAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        IMaterializer materializer)
    {
        if (!IsValidKey(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        string content;
        bool stream;
        QueueMode? queueMode = null;
        string? model;
        try
        {
            using var doc = await ChatCompletionsApi.ReadJsonAsync(context);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(c.GetString()))
                throw new ApiErrorException(ApiError.BadRequest("`content` must be a non-empty string.", "missing_content", "content"));
            content = c.GetString()!;
            stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            if (root.TryGetProperty("queueMode", out var q) && q.ValueKind == JsonValueKind.String)
                queueMode = WireNames.TryParseQueue(q.GetString(), out var mode) ? mode
                    : throw new ApiErrorException(ApiError.BadRequest(DirectiveReplies.UnrecognizedQueueMode(q.GetString()!), "invalid_value", "queueMode"));
            model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }
        await RunTurnAsync(context, region, gateway, materializer, new SessionCommands.SendMessage(key, content, queueMode, model), stream, false);
    }

    /// <summary>Sends a turn to the session and writes the reply (also used by chat/completions with the session header).</summary>
    internal static async Task RunTurnAsync(HttpContext context, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        IMaterializer materializer, SessionCommands.SendMessage send, bool stream, bool includeUsage)
    {
        var ct = context.RequestAborted;
        object answer;
        try
        {
            answer = await region.ActorRef.Ask<object>(send, TurnTimeout(gateway), ct);
        }
        catch (AskTimeoutException)
        {
            await new ApiError(503, "The session did not answer in time.", "api_error", "session_timeout").WriteAsync(context.Response);
            return;
        }
        context.Response.Headers[ChatCompletionsApi.SessionHeader] = send.SessionKey;
        switch (answer)
        {
            case TurnRejected rejected:
                await new ApiError(rejected.Status, rejected.Message, rejected.Status == 429 ? "rate_limit_error" : rejected.Status >= 500 ? "api_error" : "invalid_request_error",
                    rejected.Code).WriteAsync(context.Response);
                return;
            case DirectivesApplied applied:
                await WriteTextReplyAsync(context, applied.Reply, stream, includeUsage, ct);
                return;
            case TurnAccepted accepted:
                await WriteRunAsync(context, accepted, stream, includeUsage, materializer, ct);
                return;
        }
    }

    private static TimeSpan TurnTimeout(GatewaySettings gateway) => gateway.AskTimeout * 3;

    private static async Task WriteRunAsync(HttpContext context, TurnAccepted accepted, bool stream, bool includeUsage, IMaterializer materializer,
        CancellationToken ct)
    {
        // The reply stream comes from the session's node: if that node dies before the run ends, the stream would wait
        // forever, so the node's removal (seen by watching the session's shard there) cancels the stream and the client
        // gets an error. A session that stops on a live node (hand-off, passivation) ends its streams itself.
        using var sessionLost = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lost = false;
        var lostSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef? watcher = null;
        if (accepted.Host is { } host)
        {
            var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher = context.RequestServices.GetRequiredService<ActorSystem>().ActorOf(SessionWatcher.Props(host, died));
            _ = died.Task.ContinueWith(_ =>
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Durar.Sessions")
                    .LogWarning("Session [{SessionKey}] stopped before its reply was complete (its node left); ending the reply with session_lost",
                        accepted.SessionKey);
                lost = true;
                lostSignal.TrySetResult();
                sessionLost.Cancel();
            }, sessionLost.Token, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        var events = new UntilSessionLost(accepted.Events.Source.RunAsAsyncEnumerable(materializer).GetAsyncEnumerator(sessionLost.Token),
            lostSignal.Task);
        try
        {
            await WriteEventsAsync(context, events, stream, includeUsage, sessionLost.Token);
        }
        catch (OperationCanceledException) when (lost && !ct.IsCancellationRequested)
        {
            var error = new ApiError(503, "The node running this session went away before the reply was complete; send the message again.",
                "api_error", "session_lost");
            if (context.Response.HasStarted) await ChatCompletionWriter.WriteStreamErrorAsync(context.Response.BodyWriter, error, ct);
            else await error.WriteAsync(context.Response);
        }
        finally
        {
            await sessionLost.CancelAsync();
            if (watcher is not null) context.RequestServices.GetRequiredService<ActorSystem>().Stop(watcher);
            await events.DisposeAsync();
        }
    }

    /// <summary>
    /// Watches the node of a (usually remote) session for the length of one reply, through an actor there: the node's
    /// removal from the cluster completes the task. That actor stopping on a live node (its shard handed off) is not a lost
    /// node: the session's own stop ends the reply stream then.
    /// </summary>
    private sealed class SessionWatcher : ReceiveActor
    {
        public SessionWatcher(IActorRef host, TaskCompletionSource died)
        {
            Context.Watch(host);
            Receive<Terminated>(terminated =>
            {
                if (terminated.AddressTerminated) died.TrySetResult();
                Context.Stop(Self);
            });
        }

        public static Props Props(IActorRef host, TaskCompletionSource died) =>
            Akka.Actor.Props.Create(() => new SessionWatcher(host, died));
    }

    /// <summary>
    /// The reply's events until the session's death: a wait for the next event that the death wins ends with an
    /// <see cref="OperationCanceledException"/>. Events already buffered are read without the race (no allocation).
    /// </summary>
    private sealed class UntilSessionLost(IAsyncEnumerator<ChatEvent> inner, Task lost) : IAsyncEnumerator<ChatEvent>
    {
        public ChatEvent Current => inner.Current;

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        public ValueTask<bool> MoveNextAsync()
        {
            var next = inner.MoveNextAsync();
            return next.IsCompleted ? next : RaceAsync(next);
        }

        private async ValueTask<bool> RaceAsync(ValueTask<bool> next)
        {
            var pending = next.AsTask();
            if (await Task.WhenAny(pending, lost).ConfigureAwait(false) == lost)
            {
                _ = pending.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // observed: the stream is being torn down
                throw new OperationCanceledException("The session stopped before the reply was complete.");
            }
            return await pending.ConfigureAwait(false);
        }
    }

    private static async Task WriteEventsAsync(HttpContext context, IAsyncEnumerator<ChatEvent> events, bool stream, bool includeUsage,
        CancellationToken ct)
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
            await new ApiError(error.Status, error.Message, error.Type, error.Code) { RetryAfter = error.RetryAfter }.WriteAsync(context.Response);
            return;
        }
        var model = events.Current is RunModel rm ? rm.Model : "durar";
        context.Response.Headers[ChatCompletionsApi.ModelHeader] = model;
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
        if (stream)
        {
            PrepareSse(context);
            try
            {
                await writer.WriteStreamAsync(context.Response.BodyWriter, Rest(events), includeUsage, ct);
            }
            catch (SessionRunFailed failed)
            {
                await ChatCompletionWriter.WriteStreamErrorAsync(context.Response.BodyWriter,
                    new ApiError(failed.Error.Status, failed.Error.Message, failed.Error.Type, failed.Error.Code), ct);
            }
            return;
        }
        var text = new System.Text.StringBuilder();
        TokenUsage? usage = null;
        var finish = "stop";
        try
        {
            await foreach (var e in Rest(events))
                switch (e)
                {
                    case TextDelta d: text.Append(d.Text); break;
                    case UsageReport u: usage = u.Usage; break;
                    case Finished f: finish = f.Reason; break;
                }
        }
        catch (SessionRunFailed failed)
        {
            await new ApiError(failed.Error.Status, failed.Error.Message, failed.Error.Type, failed.Error.Code).WriteAsync(context.Response);
            return;
        }
        ct.ThrowIfCancellationRequested(); // a cancelled stream just ends: its text so far is not the answer
        await writer.WriteCompletionAsync(context.Response, new ChatCompletion(text.ToString(), [], finish, usage, model));
    }

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

    private static async Task WriteTextReplyAsync(HttpContext context, string text, bool stream, bool includeUsage, CancellationToken ct)
    {
        context.Response.Headers[ChatCompletionsApi.ModelHeader] = "durar";
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), "durar");
        if (!stream)
        {
            await writer.WriteCompletionAsync(context.Response, new ChatCompletion(text, [], "stop", TokenUsage.Zero, "durar"));
            return;
        }
        PrepareSse(context);
        await writer.WriteStreamAsync(context.Response.BodyWriter, Once(text), includeUsage, ct);

        static async IAsyncEnumerable<ChatEvent> Once(string text)
        {
            await Task.CompletedTask;
            yield return new TextDelta(text);
            yield return new Finished("stop");
        }
    }

    private static void PrepareSse(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    private static async Task PatchAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (!IsValidKey(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        SessionCommands.PatchSession patch;
        try
        {
            using var doc = await ChatCompletionsApi.ReadJsonAsync(context);
            patch = ParsePatch(key, doc.RootElement);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }
        var answer = await region.ActorRef.Ask<object>(patch, gateway.AskTimeout * 2, context.RequestAborted);
        if (answer is TurnRejected rejected)
        {
            await new ApiError(rejected.Status, rejected.Message, rejected.Status == 403 ? "permission_error" : "invalid_request_error", rejected.Code, "model")
                .WriteAsync(context.Response);
            return;
        }
        await WriteJsonAsync(context, w => WriteView(w, (SessionView)answer));
    }

    internal static SessionCommands.PatchSession ParsePatch(string key, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ApiErrorException(ApiError.BadRequest("The body must be a JSON object.", "invalid_json"));
        var clear = ImmutableHashSet.CreateBuilder<string>();
        string? Str(string name)
        {
            if (!root.TryGetProperty(name, out var v)) return null;
            if (v.ValueKind == JsonValueKind.Null) { clear.Add(name); return null; }
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new ApiErrorException(ApiError.BadRequest($"`{name}` must be a string or null.", "invalid_type", name));
        }
        T? Parse<T>(string name, TryParse<T> parse, Func<string, string> error) where T : struct
        {
            var text = Str(name);
            if (text is null) return null;
            return parse(text, out var value) ? value : throw new ApiErrorException(ApiError.BadRequest(error(text), "invalid_value", name));
        }
        var known = new[] { "model", "authProfile", "thinkingLevel", "fastMode", "responseUsage", "queueMode" };
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name))
                throw new ApiErrorException(ApiError.BadRequest($"Unknown field `{p.Name}` (expected {string.Join(", ", known)}).", "unknown_field", p.Name));
        return new SessionCommands.PatchSession(key,
            Str("model"),
            Str("authProfile"),
            Parse<ThinkingLevel>("thinkingLevel", WireNames.TryParseThinking, DirectiveReplies.UnrecognizedThinkingLevel),
            Parse<FastMode>("fastMode", WireNames.TryParseFast, DirectiveReplies.UnrecognizedFastMode),
            Parse<ResponseUsageMode>("responseUsage", WireNames.TryParseResponseUsage, DirectiveReplies.UnrecognizedUsageMode),
            Parse<QueueMode>("queueMode", WireNames.TryParseQueue, DirectiveReplies.UnrecognizedQueueMode),
            clear.ToImmutable());
    }

    private delegate bool TryParse<T>(string? text, out T value);

    private static async Task AskAndWrite<T>(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        ISessionCommand command, Action<Utf8JsonWriter, T> write)
    {
        if (!IsValidKey(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        var answer = await region.ActorRef.Ask<T>(command, gateway.AskTimeout * 2, context.RequestAborted);
        await WriteJsonAsync(context, w => write(w, answer));
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
    {
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.BodyWriter, ChatCompletionWriter.Options);
        w.WriteStartObject();
        body(w);
        w.WriteEndObject();
    }

    private static void WriteView(Utf8JsonWriter w, SessionView v)
    {
        w.WriteString("key", v.SessionKey);
        w.WriteStartObject("overrides");
        Opt(w, "model", v.Overrides.Model);
        Opt(w, "modelSource", v.Overrides.ModelSource is { } ms ? WireNames.ToWire(ms) : null);
        Opt(w, "thinkingLevel", v.Overrides.Thinking is { } t ? WireNames.ToWire(t) : null);
        Opt(w, "fastMode", v.Overrides.Fast is { } f ? WireNames.ToWire(f) : null);
        Opt(w, "responseUsage", v.Overrides.ResponseUsage is { } u ? WireNames.ToWire(u) : null);
        Opt(w, "queueMode", v.Overrides.Queue is { } q ? WireNames.ToWire(q) : null);
        w.WriteEndObject();
        w.WriteStartObject("authProfile");
        Opt(w, "id", v.Overrides.AuthProfile);
        Opt(w, "source", v.Overrides.AuthProfileSource is { } s ? WireNames.ToWire(s) : null);
        if (v.Overrides.AuthProfileCompactionCount is { } cc) w.WriteNumber("compactionCount", cc); else w.WriteNull("compactionCount");
        w.WriteEndObject();
        w.WriteStartObject("usage");
        w.WriteNumber("input", v.Usage.Input);
        w.WriteNumber("output", v.Usage.Output);
        w.WriteNumber("cacheRead", v.Usage.CacheRead);
        w.WriteNumber("cacheWrite", v.Usage.CacheWrite);
        w.WriteNumber("total", v.Usage.Total);
        w.WriteNumber("cost", ApiNumbers.Normalize(v.Usage.Cost));
        w.WriteEndObject();
        Opt(w, "lastModel", v.LastModel);
        w.WriteNumber("transcriptLength", v.TranscriptLength);
        w.WriteBoolean("running", v.Running);
        w.WriteNumber("queued", v.Queued);
    }

    private static void WritePage(Utf8JsonWriter w, TranscriptPage page)
    {
        w.WriteString("key", page.SessionKey);
        w.WriteNumber("offset", page.Offset);
        w.WriteNumber("total", page.Total);
        w.WriteStartArray("messages");
        foreach (var e in page.Entries)
        {
            w.WriteStartObject();
            w.WriteNumber("seq", e.Seq);
            w.WriteString("role", e.Role);
            w.WriteString("content", e.Content);
            w.WriteString("at", e.At.ToUniversalTime().ToString("O"));
            Opt(w, "model", e.Model);
            if (e.Usage is { } u)
            {
                w.WriteStartObject("usage");
                w.WriteNumber("input", u.Input);
                w.WriteNumber("output", u.Output);
                w.WriteNumber("cacheRead", u.CacheRead);
                w.WriteNumber("cacheWrite", u.CacheWrite);
                w.WriteEndObject();
            }
            if (e.Cost is { } cost) w.WriteNumber("cost", ApiNumbers.Normalize(cost));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Opt(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }
}
