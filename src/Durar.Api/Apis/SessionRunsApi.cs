using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Api.Apis;

/// <summary>
/// The runs of a session over HTTP: <c>GET /v1/sessions/{key}/runs/{runId}</c> (status; <c>?wait=30s</c> waits for the end,
/// OpenClaw's <c>agent.wait</c>) and <c>POST /v1/sessions/{key}/abort</c> (<c>{"runId"?, "clearQueued"?}</c>, OpenClaw's
/// <c>sessions.abort</c>). Both go to the session's shard entity, so any node serves them.
/// </summary>
internal static partial class SessionRunsApi
{
    public static RouteGroupBuilder MapSessionRuns(this RouteGroupBuilder sessions)
    {
        sessions.MapGet("/runs/{runId}", GetRunAsync);
        sessions.MapPost("/abort", AbortAsync);
        return sessions;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex RunIdPattern();

    private static async Task GetRunAsync(HttpContext context, string key, string runId, string? wait, IRequiredActor<SessionRegionKey> region,
        GatewaySettings gateway)
    {
        TimeSpan waitFor;
        try
        {
            if (!SessionKeys.IsValid(key)) throw new ApiErrorException(SessionsApi.BadKey(key));
            if (!RunIdPattern().IsMatch(runId))
                throw new ApiErrorException(ApiError.BadRequest($"Invalid run id \"{runId}\": 1 to 64 letters, digits, _ or -.", "invalid_run_id", "runId"));
            waitFor = ParseWait(wait, gateway.SessionRuns.MaxWait);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }
        if (!await SessionsApi.ExistsAsync(context, key, gateway)) return;
        object answer;
        try
        {
            // The session answers when the run ends or the wait is over; the Ask allows for the hops on top.
            answer = await region.ActorRef.Ask<object>(new SessionCommands.GetRun(key, runId, waitFor), waitFor + gateway.AskTimeout * 2, context.RequestAborted);
        }
        catch (AskTimeoutException) when (waitFor > TimeSpan.Zero)
        {
            answer = await region.ActorRef.Ask<object>(new SessionCommands.GetRun(key, runId, TimeSpan.Zero), gateway.AskTimeout * 2, context.RequestAborted);
        }
        switch (answer)
        {
            case TurnRejected rejected:
                await new ApiError(rejected.Status, rejected.Message, rejected.Status >= 500 ? "api_error" : "invalid_request_error", rejected.Code)
                    .RetryingBusy(rejected).WriteAsync(context.Response);
                return;
            case RunView view:
                await JsonAnswer.WriteObjectAsync(context.Response, w => WriteRun(w, view with { SessionKey = Access.ClientModels.OutwardKey(context, view.SessionKey) }));
                return;
        }
    }

    /// <summary>
    /// <c>?wait=</c>: a duration (<c>500ms</c>, <c>30s</c>, <c>2m</c>; a bare number is seconds), capped at
    /// <paramref name="max"/> (<c>gateway.sessions.runs.maxWait</c>); absent = answer at once.
    /// </summary>
    /// <exception cref="ApiErrorException">Not a non-negative duration (400 <c>invalid_wait</c>).</exception>
    internal static TimeSpan ParseWait(string? text, TimeSpan max)
    {
        if (string.IsNullOrEmpty(text)) return TimeSpan.Zero;
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, 1.0);
        if (number.Length == 0 || number.Length > 12 || !number.All(c => char.IsAsciiDigit(c) || c == '.')
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            throw new ApiErrorException(ApiError.BadRequest(
                $"Invalid wait \"{text}\": a duration such as 500ms, 30s or 2m (at most {max.TotalSeconds:0} s).", "invalid_wait", "wait"));
        var seconds = value * unit;
        return seconds >= max.TotalSeconds ? max : TimeSpan.FromSeconds(seconds);
    }

    private static async Task AbortAsync(HttpContext context, string key, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway)
    {
        SessionCommands.AbortRun abort;
        try
        {
            if (!SessionKeys.IsValid(key)) throw new ApiErrorException(SessionsApi.BadKey(key));
            abort = await ReadAbortAsync(context, key);
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        if (!await SessionsApi.ExistsAsync(context, key, gateway)) return;
        var answer = await region.ActorRef.Ask<object>(abort, gateway.AskTimeout * 2, context.RequestAborted);
        switch (answer)
        {
            case TurnRejected rejected:
                await new ApiError(rejected.Status, rejected.Message, rejected.Status >= 500 ? "api_error" : "invalid_request_error", rejected.Code,
                    rejected.Code == "run_not_found" ? "runId" : null).RetryingBusy(rejected).WriteAsync(context.Response);
                return;
            case AbortResult result:
                await JsonAnswer.WriteObjectAsync(context.Response, w =>
                {
                    w.WriteString("key", Access.ClientModels.OutwardKey(context, result.SessionKey));
                    w.WriteBoolean("aborted", result.Aborted);
                    w.WriteStartArray("runIds");
                    foreach (var id in result.RunIds) w.WriteStringValue(id);
                    w.WriteEndArray();
                });
                return;
        }
    }

    /// <summary>The abort's optional body: <c>runId</c> (a string) and <c>clearQueued</c> (a boolean); any other field is a 400 naming it.</summary>
    private static async Task<SessionCommands.AbortRun> ReadAbortAsync(HttpContext context, string key)
    {
        var request = context.Request;
        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any(v => v?.Contains("chunked") == true)))
            return new SessionCommands.AbortRun(key, null, false);
        using var doc = await JsonBody.ReadAsync(context);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ApiErrorException(ApiError.BadRequest("The body must be a JSON object.", "invalid_json"));
        string? runId = null;
        var clear = false;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "runId" when p.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "runId" when p.Value.ValueKind == JsonValueKind.String && RunIdPattern().IsMatch(p.Value.GetString()!):
                    runId = p.Value.GetString();
                    break;
                case "runId":
                    throw new ApiErrorException(ApiError.BadRequest("`runId` must be a run id (1 to 64 letters, digits, _ or -) or null.", "invalid_run_id", "runId"));
                case "clearQueued" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    clear = p.Value.GetBoolean();
                    break;
                case "clearQueued":
                    throw new ApiErrorException(ApiError.BadRequest("`clearQueued` must be a boolean.", "invalid_type", "clearQueued"));
                default:
                    throw new ApiErrorException(ApiError.BadRequest($"Unknown field `{p.Name}` (expected runId, clearQueued).", "unknown_field", p.Name));
            }
        }
        return new SessionCommands.AbortRun(key, runId, clear);
    }

    private static void WriteRun(Utf8JsonWriter w, RunView v)
    {
        w.WriteString("runId", v.RunId);
        w.WriteString("key", v.SessionKey);
        w.WriteString("status", v.Status);
        w.WriteString("acceptedAt", v.AcceptedAt.ToUniversalTime().ToString("O"));
        if (v.EndedAt is { } ended) w.WriteString("endedAt", ended.ToUniversalTime().ToString("O")); else w.WriteNull("endedAt");
        if (v.Model is { } model) w.WriteString("model", model); else w.WriteNull("model");
        if (v.Usage is { } u)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input", u.Input);
            w.WriteNumber("output", u.Output);
            w.WriteNumber("cacheRead", u.CacheRead);
            w.WriteNumber("cacheWrite", u.CacheWrite);
            w.WriteEndObject();
        }
        else w.WriteNull("usage");
        if (v.ErrorCode is { } code)
        {
            w.WriteStartObject("error");
            w.WriteNumber("status", v.ErrorStatus ?? 500);
            w.WriteString("code", code);
            w.WriteString("message", v.ErrorMessage);
            w.WriteEndObject();
        }
        else w.WriteNull("error");
    }
}
