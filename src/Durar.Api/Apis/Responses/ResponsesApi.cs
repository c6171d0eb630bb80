using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Transports;
using Durar.Api.Dashboard;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// The OpenAI Responses API as an edge dialect: <c>POST /v1/responses</c> maps the request onto the neutral
/// <see cref="ChatRequest"/> and runs it through the same run as chat completions (keys, cooldowns, fallbacks, usage, any
/// upstream wire); the answer is written back as a <c>response</c> object or its event stream. <c>store: true</c> (the
/// default) makes the response a turn of a session (a conversation is one session, <see cref="ResponseIds"/>), so
/// <c>previous_response_id</c> continues it with the session's transcript as the history, from any node and after a
/// restart; <c>GET</c>, <c>DELETE /v1/responses/{id}</c> and <c>POST .../cancel</c> read, delete and cancel it (<see cref="StoredResponses"/>),
/// <c>GET .../input_items</c> lists its input (<see cref="ResponseInputItems"/>). With <see cref="DurarHeaders.SessionKey"/> the
/// response is a turn of that session. <c>store: false</c> is a stateless run.
/// </summary>
public static partial class ResponsesApi
{
    public static IEndpointRouteBuilder MapResponses(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", HandleAsync);
        app.MapGet("/v1/responses/{id}", StoredResponses.GetAsync);
        app.MapGet("/v1/responses/{id}/input_items", ResponseInputItems.ListAsync);
        app.MapDelete("/v1/responses/{id}", StoredResponses.DeleteAsync);
        app.MapPost("/v1/responses/{id}/cancel", StoredResponses.CancelAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelResolver resolver, ChatRunner runner, DurarSettings settings,
        ILogger<ChatRunner> logger, DashboardFeed dashboard)
    {
        var ct = context.RequestAborted;
        var sessionKey = context.Request.Headers[DurarHeaders.SessionKey].ToString();
        ParsedResponsesRequest parsed;
        RunPlan plan;
        try
        {
            if (sessionKey.Length > 0 && !SessionKeys.IsValid(sessionKey))
                throw new ApiErrorException(ApiError.BadRequest($"Invalid {DurarHeaders.SessionKey} \"{sessionKey}\".", "invalid_session_key", DurarHeaders.SessionKey));
            using (var doc = await JsonBody.ReadAsync(context))
                // The response echoes the request's settings, and a stored turn outlives this exchange: its own copy.
                parsed = ResponsesRequestParser.Parse(doc.RootElement.Clone());
            Telemetry.RequestFacts.Of(context)?.RequestedModel = parsed.Model;
            if (!parsed.Store && parsed.PreviousResponseId is not null)
                throw ResponsesRequestParser.Bad("`previous_response_id` continues a stored conversation: it needs `store: true`.", "invalid_value", "store");
            if (!parsed.Store && sessionKey.Length > 0)
                throw ResponsesRequestParser.Bad($"`{DurarHeaders.SessionKey}` makes the response a turn of that stored session: it needs `store: true`.",
                    "invalid_value", "store");
            if (parsed.Store && parsed.Fallbacks is not null)
                throw ResponsesRequestParser.Bad("`fallbacks` applies to `store: false` requests; a stored conversation runs with the configured fallbacks.",
                    "unsupported_parameter", "fallbacks");
            plan = Access.ClientModels.Restrict(context, ChatCompletionsApi.Plan(resolver, new ParsedChatRequest(parsed.Model, parsed.Request, parsed.Fallbacks)),
                parsed.Model, parsed.Fallbacks is not null);
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        try
        {
            if (parsed.Store)
            {
                await StoredResponses.RunTurnAsync(context, parsed, sessionKey.Length > 0 ? sessionKey : null);
                return;
            }
            var request = EffectiveSettings.ApplyTo(parsed.Request, SessionOverrides.None, SessionOverrides.None, settings.Agents, plan.Requested, DateTimeOffset.UtcNow);
            var trace = RequestTrace.Start(dashboard, parsed.Model, request.Stream);
            if (request.Stream) await StreamAsync(context, runner, plan, request, parsed, trace, ct);
            else await CompleteAsync(context, runner, plan, request, parsed, trace, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogClientGone(logger, context.TraceIdentifier);
        }
    }

    private static ResponseHead Head(ParsedResponsesRequest parsed, string id, string model) =>
        new(id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model, parsed.Body, parsed.Store, parsed.PreviousResponseId);

    private static async Task CompleteAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, ParsedResponsesRequest parsed,
        RequestTrace trace, CancellationToken ct)
    {
        var result = await runner.CompleteAsync(plan, request, ct);
        if (result.Failure is { } failure)
        {
            trace.Failed(failure);
            await ChatCompletionsApi.WriteFailureAsync(context.Response, failure);
            return;
        }
        var run = result.Value!;
        run.Completion.ReleaseRaw(); // this dialect's answer is written from the typed fields, not the upstream's own object
        var model = run.Model.ToString();
        ChatCompletionsApi.SetRunHeaders(context.Response, model, run.Attempts, run.Completion.Headers, run.Dropped);
        Access.ClientPrincipal.RecordUse(context, run.Completion.Usage, run.Model);
        await ResponseObjectWriter.WriteAsync(context.Response, Head(parsed, ResponseIds.NewStateless(), model), run.Completion);
        trace.Answered(run.Model, run.KeyId, run.Failures, run.Completion.Usage, null);
    }

    private static async Task StreamAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, ParsedResponsesRequest parsed,
        RequestTrace trace, CancellationToken ct)
    {
        var result = await runner.StreamAsync(plan, request, ct);
        if (result.Failure is { } failure)
        {
            trace.Failed(failure);
            await ChatCompletionsApi.WriteFailureAsync(context.Response, failure);
            return;
        }
        var run = result.Value!;
        var committed = trace.Elapsed;
        var model = run.Model.ToString();
        if (!await ChatCompletionsApi.StartStreamAsync(context, run, model, closer: null)) return;
        var writer = new ResponseStreamWriter(context.Response, Head(parsed, ResponseIds.NewStateless(), model));
        SseResponse.EndsEarlyWith(context, writer);
        var outcome = "cancelled";
        ApiError? failed = null;
        try
        {
            await writer.WriteAsync(run.Events, ct);
            outcome = "ok";
        }
        catch (UpstreamException e) when (!ct.IsCancellationRequested)
        {
            outcome = "stream_error";
            failed = new ApiError(502, e.Failure.Message ?? "The upstream stream failed.", "api_error", "upstream_stream_error");
            Telemetry.RequestFacts.Of(context)?.Failed(failed.Code);
            await writer.FailAsync(failed, ct);
        }
        finally
        {
            Access.ClientPrincipal.RecordUse(context, writer.Usage, run.Model);
            trace.Answered(run.Model, run.KeyId, run.Failures, writer.Usage, committed, outcome, failed?.Code, failed?.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during response request {TraceId}")]
    private static partial void LogClientGone(ILogger logger, string traceId);
}
