using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// The sessions API: <c>POST /v1/sessions/{key}/messages</c> (a turn; SSE or JSON in the chat-completion shapes),
/// <c>GET /v1/sessions/{key}</c>, <c>GET /v1/sessions/{key}/messages</c>, <c>PATCH /v1/sessions/{key}</c>,
/// <c>POST /v1/sessions/{key}/reset</c>, <c>DELETE /v1/sessions/{key}</c>. Every call goes to the session's shard entity.
/// </summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/v1/sessions/{key}");
        sessions.MapPost("/messages", PostMessageAsync);
        sessions.MapSessionRuns();
        sessions.MapSessionEvents();
        sessions.MapGet("", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g) =>
            AskAndWrite<SessionView>(c, key, region, g, new SessionCommands.GetSession(key), WriteView, mustExist: true));
        sessions.MapGet("/messages", (HttpContext c, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings g, int? offset, int? limit) =>
            AskAndWrite<TranscriptPage>(c, key, region, g, new SessionCommands.GetMessages(key, offset ?? 0, limit ?? 100), WritePage, mustExist: true));
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

    internal static ApiError BadKey(string? key) =>
        ApiError.BadRequest($"Invalid session key \"{key}\": {SessionKeys.Rule}", "invalid_session_key", "key");

    private static async Task PostMessageAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        IMaterializer materializer, ModelResolver resolver)
    {
        if (!SessionKeys.IsValid(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        string content;
        bool stream;
        QueueMode? queueMode = null;
        string? model;
        string? idempotencyKey;
        try
        {
            idempotencyKey = IdempotencyKeys.Read(context);
            using var doc = await JsonBody.ReadAsync(context);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(c.GetString()))
                throw new ApiErrorException(ApiError.BadRequest("`content` must be a non-empty string.", "missing_content", "content"));
            content = c.GetString()!;
            stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            if (root.TryGetProperty("queueMode", out var q) && q.ValueKind == JsonValueKind.String)
                queueMode = WireNames.TryParseQueue(q.GetString(), out var mode) ? mode
                    : throw new ApiErrorException(ApiError.BadRequest(DirectiveReplies.UnrecognizedQueueMode(q.GetString()!), "invalid_value", "queueMode"));
            model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? ModelIds.Check(m.GetString()!, "model") : null;
            // The turn's model is client-chosen: refused before the message is journaled, as chat completions refuses it.
            if (model is not null && !ModelResolver.IsDefaultTarget(model) && resolver.Resolve(model) is { Success: true } resolved)
            {
                if (!resolver.Policy.IsAllowed(resolved.Model!.Ref))
                    throw new ApiErrorException(new ApiError(403, ModelPolicy.RejectionMessage(resolved.Model.Ref), "permission_error", "model_not_allowed", "model"));
                Access.ClientModels.Check(context, resolved.Model, "model");
            }
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        await SessionTurnResponder.RunTurnAsync(context, region, gateway, materializer, new SessionCommands.SendMessage(key, content, queueMode, model) { IdempotencyKey = idempotencyKey },
            stream, false);
    }

    private static async Task PatchAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        if (!SessionKeys.IsValid(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        SessionCommands.PatchSession patch;
        try
        {
            using var doc = await JsonBody.ReadAsync(context);
            patch = ParsePatch(key, doc.RootElement);
            if (patch.Model is { } patched && !ModelResolver.IsDefaultTarget(patched)
                && context.RequestServices.GetRequiredService<ModelResolver>().Resolve(patched) is { Success: true } resolvedPatch)
                Access.ClientModels.Check(context, resolvedPatch.Model!, "model");
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        var answer = await region.ActorRef.Ask<object>(patch, gateway.AskTimeout * 2, context.RequestAborted);
        if (answer is TurnRejected rejected)
        {
            await new ApiError(rejected.Status, rejected.Message, rejected.Status == 403 ? "permission_error" : rejected.Status >= 500 ? "api_error"
                : "invalid_request_error", rejected.Code, rejected.Status >= 500 ? null : "model").RetryingBusy(rejected).WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteObjectAsync(context.Response, w => WriteView(w, (SessionView)Access.ClientModels.Outward(context, answer)));
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
            Str("model") is { } model ? ModelIds.Check(model, "model") : null,
            Str("authProfile"),
            Parse<ThinkingLevel>("thinkingLevel", WireNames.TryParseThinking, DirectiveReplies.UnrecognizedThinkingLevel),
            Parse<FastMode>("fastMode", WireNames.TryParseFast, DirectiveReplies.UnrecognizedFastMode),
            Parse<ResponseUsageMode>("responseUsage", WireNames.TryParseResponseUsage, DirectiveReplies.UnrecognizedUsageMode),
            Parse<QueueMode>("queueMode", WireNames.TryParseQueue, DirectiveReplies.UnrecognizedQueueMode),
            clear.ToImmutable());
    }

    private delegate bool TryParse<T>(string? text, out T value);

    private static async Task AskAndWrite<T>(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway,
        ISessionCommand command, Action<Utf8JsonWriter, T> write, bool mustExist = false)
    {
        if (!SessionKeys.IsValid(key))
        {
            await BadKey(key).WriteAsync(context.Response);
            return;
        }
        if (mustExist && !await ExistsAsync(context, key, gateway))
            return;
        var answer = await region.ActorRef.Ask<object>(command, gateway.AskTimeout * 2, context.RequestAborted);
        if (answer is TurnRejected rejected)
        {
            await new ApiError(rejected.Status, rejected.Message, rejected.Status >= 500 ? "api_error" : "invalid_request_error", rejected.Code)
                .RetryingBusy(rejected).WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteObjectAsync(context.Response, w => write(w, (T)Access.ClientModels.Outward(context, answer)));
    }

    /// <summary>
    /// A read of a session that was never written (or was deleted) answers 404 <c>session_not_found</c> without starting
    /// its entity; a journal that cannot be read answers 503 <c>journal_unavailable</c>. False when an answer was written.
    /// </summary>
    internal static async Task<bool> ExistsAsync(HttpContext context, string key, GatewaySettings gateway)
    {
        ApiError error;
        try
        {
            if (await SessionExistence.ExistsAsync(context.RequestServices.GetRequiredService<ActorSystem>(), key, gateway.AskTimeout, context.RequestAborted))
                return true;
            error = ApiError.NotFound($"No session \"{Access.ClientModels.OutwardKey(context, key)}\".", "session_not_found", null);
        }
        catch (Exception e) when (e is JournalUnreadableException or AskTimeoutException)
        {
            error = new ApiError(503, "The session journal could not be read; try again shortly.", "api_error", "journal_unavailable");
        }
        await error.WriteAsync(context.Response);
        return false;
    }

    private static void WriteView(Utf8JsonWriter w, SessionView v)
    {
        w.WriteString("key", v.SessionKey);
        w.WriteString("state", v.Failure is null ? "ok" : "failed");
        if (v.Failure is not null)
        {
            w.WriteStartObject("failure");
            w.WriteNumber("sequenceNr", v.FailedSequenceNr ?? 0);
            w.WriteString("reason", v.Failure);
            w.WriteEndObject();
        }
        w.WriteStartObject("overrides");
        Opt(w, "model", v.Overrides.Model);
        Opt(w, "modelSource", v.Overrides.ModelSource is { } ms ? WireNames.ToWire(ms) : null);
        Opt(w, "thinkingLevel", v.Overrides.Thinking is { } t ? WireNames.ToWire(t) : null);
        Opt(w, "fastMode", v.Overrides.Fast is { } f ? WireNames.ToWire(f) : null);
        Opt(w, "responseUsage", v.Overrides.ResponseUsage is { } u ? WireNames.ToWire(u) : null);
        Opt(w, "queueMode", v.Overrides.Queue is { } q ? WireNames.ToWire(q) : null);
        if (v.Overrides.QueueDebounce is { } d) w.WriteNumber("queueDebounceMs", (long)d.TotalMilliseconds); else w.WriteNull("queueDebounceMs");
        if (v.Overrides.QueueCap is { } cap) w.WriteNumber("queueCap", cap); else w.WriteNull("queueCap");
        Opt(w, "queueDrop", v.Overrides.QueueDrop is { } drop ? WireNames.ToWire(drop) : null);
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
        w.WriteNumber("compactionCount", v.CompactionCount);
        w.WriteStartObject("context");
        w.WriteNumber("contextTokens", v.ContextTokens);
        w.WriteNumber("outputCap", v.OutputCap);
        w.WriteNumber("inputBudget", v.InputBudget);
        Opt(w, "tokenizer", v.Tokenizer);
        if (v.LastInputTokens is { } last) w.WriteNumber("lastInputTokens", last); else w.WriteNull("lastInputTokens");
        w.WriteEndObject();
        if (v.Fallback is { } fb)
        {
            w.WriteStartObject("fallback");
            w.WriteString("selectedModel", fb.Selected);
            w.WriteString("activeModel", fb.Active);
            Opt(w, "reason", fb.Reason);
            w.WriteString("at", fb.At.ToUniversalTime().ToString("O"));
            w.WriteEndObject();
        }
        else w.WriteNull("fallback");
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
            if (e.Aborted) w.WriteBoolean("aborted", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Opt(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }
}
