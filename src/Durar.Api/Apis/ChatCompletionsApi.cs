using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Microsoft.AspNetCore.Http.Features;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI-compatible, JSON or SSE. <c>model</c> is a <c>provider/model</c> ref, an alias,
/// or <c>durar</c> (the configured primary with its fallbacks). Every answer carries <c>x-durar-model</c> (the model that
/// answered) and <c>x-durar-attempts</c>.
/// </summary>
public static partial class ChatCompletionsApi
{
    public const string ModelHeader = "x-durar-model";
    public const string AttemptsHeader = "x-durar-attempts";
    public const string SessionHeader = "x-durar-session-key";

    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelResolver resolver, ChatRunner runner, ILogger<ChatRunner> logger,
        IServiceProvider services)
    {
        var ct = context.RequestAborted;
        ParsedChatRequest parsed;
        RunPlan plan;
        var sessionKey = context.Request.Headers[SessionHeader].ToString();
        try
        {
            if (sessionKey.Length > 0 && !SessionsApi.IsValidKey(sessionKey))
                throw new ApiErrorException(ApiError.BadRequest($"Invalid {SessionHeader} \"{sessionKey}\".", "invalid_session_key", SessionHeader));
            using var doc = await ReadJsonAsync(context);
            parsed = ChatRequestParser.Parse(doc.RootElement);
            plan = Plan(resolver, parsed);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }

        if (sessionKey.Length > 0)
        {
            // Inside a session: its overrides and pins apply and the turn is journaled. The last user message is the turn;
            // a client that sends the whole conversation keeps managing history itself.
            var request = parsed.Request;
            var turns = request.Messages.Where(m => m.Role is not ("system" or "developer")).ToList();
            var last = turns.LastOrDefault(m => m.Role == "user") ?? turns[^1];
            IReadOnlyList<Durar.Actors.Chat.ChatMessage>? history = turns.Count > 1 ? turns : null;
            var send = new Durar.Actors.Sessions.Messages.SessionCommands.SendMessage(sessionKey, last.AllText, null, parsed.Model, history, request);
            try
            {
                await SessionsApi.RunTurnAsync(context, services.GetRequiredService<Akka.Hosting.IRequiredActor<Durar.Actors.Sessions.SessionRegionKey>>(),
                    services.GetRequiredService<Durar.Actors.Configuration.GatewaySettings>(), services.GetRequiredService<Akka.Streams.IMaterializer>(),
                    send, request.Stream, request.IncludeUsage);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                LogClientGone(logger, context.TraceIdentifier);
            }
            return;
        }

        try
        {
            if (parsed.Request.Stream) await StreamAsync(context, runner, plan, parsed.Request, ct);
            else await CompleteAsync(context, runner, plan, parsed.Request, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogClientGone(logger, context.TraceIdentifier);
        }
    }

    private static async Task CompleteAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var result = await runner.CompleteAsync(plan, request, ct);
        if (result.Failure is { } failure)
        {
            context.Response.Headers[AttemptsHeader] = failure.AttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ToApiError(failure).WriteAsync(context.Response);
            return;
        }
        var run = result.Value!;
        var model = run.Model.ToString();
        SetRunHeaders(context.Response, model, run.Attempts);
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
        await writer.WriteCompletionAsync(context.Response, run.Completion);
    }

    private static async Task StreamAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, CancellationToken ct)
    {
        var result = await runner.StreamAsync(plan, request, ct);
        if (result.Failure is { } failure)
        {
            context.Response.Headers[AttemptsHeader] = failure.AttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ToApiError(failure).WriteAsync(context.Response);
            return;
        }
        var run = result.Value!;
        var response = context.Response;
        var model = run.Model.ToString();
        SetRunHeaders(response, model, run.Attempts);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
        try
        {
            // The handler returns right after: the closing frames leave with the end of the response.
            await writer.WriteStreamAsync(response.BodyWriter, run.Events, request.IncludeUsage, ct, flushAtEnd: false);
        }
        catch (UpstreamException e) when (!ct.IsCancellationRequested)
        {
            var error = new ApiError(502, e.Failure.Message ?? "The upstream stream failed.", "api_error", "upstream_stream_error");
            await ChatCompletionWriter.WriteStreamErrorAsync(response.BodyWriter, error, ct);
        }
    }

    /// <summary>Builds the candidate chain (see <see cref="RunPlanner"/>), mapping planning errors to API errors.</summary>
    internal static RunPlan Plan(ModelResolver resolver, ParsedChatRequest parsed)
    {
        try
        {
            return RunPlanner.Plan(resolver, parsed.Model, parsed.Fallbacks is { } f ? f : null);
        }
        catch (PlanException e)
        {
            var type = e.Status switch { 403 => "permission_error", 404 => "not_found_error", _ => "invalid_request_error" };
            throw new ApiErrorException(new ApiError(e.Status, e.Message, type, e.Code, e.Param));
        }
    }

    private static void SetRunHeaders(HttpResponse response, string model, int attempts)
    {
        response.Headers[ModelHeader] = model;
        response.Headers[AttemptsHeader] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static ApiError ToApiError(RunFailure failure) =>
        new(failure.HttpStatus, failure.Message, failure.Type, failure.Code) { RetryAfter = failure.RetryAfter };

    /// <summary>Reads the body as JSON, enforcing the size limit with a 413 and malformed JSON with a 400.</summary>
    internal static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max) throw new ApiErrorException(ApiError.TooLarge(max));
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new ApiErrorException(ApiError.BadRequest($"The request body is not valid JSON: {e.Message}", "invalid_json"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiErrorException(ApiError.TooLarge(limit ?? 0));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during request {TraceId}")]
    private static partial void LogClientGone(ILogger logger, string traceId);
}
