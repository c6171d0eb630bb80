using System.Text.Json;
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

namespace Durar.Api.Apis.Messages;

/// <summary>
/// <c>POST /v1/messages</c>: Anthropic's Messages API as an edge adapter over the one run. The body is parsed into the
/// neutral request (<see cref="MessagesRequestParser"/>), planned and run exactly as chat completions are (the same
/// <see cref="ChatRunner"/>: keys, cooldowns, fallbacks, usage; a session with <see cref="DurarHeaders.SessionKey"/>), on any
/// upstream wire, and the answer written in Anthropic's shapes (<see cref="MessageWriter"/>, <see cref="MessageStreamWriter"/>,
/// errors by <see cref="MessagesErrors"/>). The <c>anthropic-version</c> header is accepted (every version answers the same).
/// Answers carry <c>x-durar-model</c> and <c>x-durar-attempts</c>, as on chat completions. A client token needs the <c>chat</c>
/// scope (checked by <see cref="Access.ClientAccess"/>); its model allowlist restricts the plan and its usage is recorded.
/// </summary>
internal static partial class MessagesApi
{
    public static IEndpointRouteBuilder MapMessages(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages", HandleAsync);
        app.MapPost("/v1/messages/count_tokens", MessagesTokenCount.HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelResolver resolver, ChatRunner runner, DurarSettings settings,
        ILogger<ChatRunner> logger, IServiceProvider services, DashboardFeed dashboard)
    {
        var ct = context.RequestAborted;
        var sessionKey = context.Request.Headers[DurarHeaders.SessionKey].ToString();
        JsonDocument? doc = null;
        try
        {
            ParsedChatRequest parsed;
            RunPlan plan;
            try
            {
                if (sessionKey.Length > 0 && !SessionKeys.IsValid(sessionKey))
                    throw new ApiErrorException(ApiError.BadRequest($"Invalid {DurarHeaders.SessionKey} \"{sessionKey}\".", "invalid_session_key", DurarHeaders.SessionKey));
                var continueStream = ChatCompletionsApi.ContinueHeader(context.Request);
                doc = await JsonBody.ReadAsync(context);
                // The neutral request copies what it keeps (tools, cache breakpoints): it may outlive the body (a session).
                parsed = MessagesRequestParser.Parse(doc.RootElement);
                Telemetry.RequestFacts.Of(context)?.RequestedModel = parsed.Model;
                if (continueStream is not null) parsed = parsed with { Request = parsed.Request with { ContinueStream = continueStream } };
                plan = Access.ClientModels.Restrict(context, ChatCompletionsApi.Plan(resolver, parsed), parsed.Model, parsed.Fallbacks is not null);
            }
            catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
            {
                await refused.WriteAsync(context.Response);
                return;
            }

            if (sessionKey.Length > 0)
            {
                await RunInSessionAsync(context, sessionKey, parsed, services);
                return;
            }
            var request = EffectiveSettings.ApplyTo(parsed.Request, SessionOverrides.None, SessionOverrides.None, settings.Agents, plan.Requested, DateTimeOffset.UtcNow);
            var trace = RequestTrace.Start(dashboard, parsed.Model, request.Stream);
            if (request.Stream) await StreamAsync(context, runner, plan, request, trace, ct);
            else await CompleteAsync(context, runner, plan, request, trace, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogClientGone(logger, context.TraceIdentifier);
        }
        finally
        {
            doc?.Dispose();
        }
    }

    /// <summary>A session turn, as on chat completions: the last user message is the turn, the rest the client's history.</summary>
    private static async Task RunInSessionAsync(HttpContext context, string sessionKey, ParsedChatRequest parsed, IServiceProvider services)
    {
        var request = parsed.Request;
        var turns = request.Messages.Where(m => m.Role is not ("system" or "developer")).ToList();
        var last = turns.LastOrDefault(m => m.Role == "user") ?? turns[^1];
        IReadOnlyList<ChatMessage>? history = turns.Count > 1 ? turns : null;
        var send = new SessionCommands.SendMessage(sessionKey, last.AllText, null, parsed.Model, history, request);
        await SessionTurnResponder.RunTurnAsync(context, services.GetRequiredService<IRequiredActor<SessionRegionKey>>(),
            services.GetRequiredService<GatewaySettings>(), services.GetRequiredService<IMaterializer>(),
            send, request.Stream, includeUsage: true, MessagesReplyDialect.Instance);
    }

    private static async Task CompleteAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, RequestTrace trace,
        CancellationToken ct)
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
        await MessageWriter.WriteAsync(context.Response, MessageWriter.NewId(), model, run.Completion);
        trace.Answered(run.Model, run.KeyId, run.Failures, run.Completion.Usage, null);
    }

    private static async Task StreamAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, RequestTrace trace,
        CancellationToken ct)
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
        var response = context.Response;
        var model = run.Model.ToString();
        if (!await ChatCompletionsApi.StartStreamAsync(context, run, model, MessagesReplyDialect.Instance)) return;
        TokenUsage? usage = null;
        var outcome = "cancelled";
        ApiError? failed = null;
        try
        {
            usage = await MessageStreamWriter.WriteAsync(response, MessageWriter.NewId(), model, run.Events, ct, flushAtEnd: false);
            outcome = "ok";
        }
        catch (UpstreamException e) when (!ct.IsCancellationRequested)
        {
            outcome = "stream_error";
            failed = new ApiError(502, e.Failure.Message ?? "The upstream stream failed.", e.Failure.ErrorType ?? "api_error", "upstream_stream_error");
            Telemetry.RequestFacts.Of(context)?.Failed(failed.Code);
            await MessagesErrors.WriteStreamErrorAsync(response.BodyWriter, failed, e.Failure.Status == 529 ? "overloaded" : null, ct);
        }
        finally
        {
            Access.ClientPrincipal.RecordUse(context, usage, run.Model);
            trace.Answered(run.Model, run.KeyId, run.Failures, usage, committed, outcome, failed?.Code, failed?.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during messages request {TraceId}")]
    private static partial void LogClientGone(ILogger logger, string traceId);
}
