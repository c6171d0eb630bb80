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

namespace Durar.Api.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI-compatible, JSON or SSE. <c>model</c> is a <c>provider/model</c> ref, an alias,
/// or <c>durar</c> (the configured primary with its fallbacks). Every answer carries <c>x-durar-model</c> (the model that
/// answered) and <c>x-durar-attempts</c>.
/// </summary>
public static partial class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder app)
    {
        // The handler's services are singletons, taken from the root provider once (at the first request: the actor system
        // is up by then), so a stateless request creates no request service scope.
        var root = app.ServiceProvider;
        Handler? handler = null;
        app.MapPost("/v1/chat/completions", (RequestDelegate)(context => (handler ??= new Handler(root)).HandleAsync(context)));
        return app;
    }

    private sealed class Handler(IServiceProvider root)
    {
        private readonly ModelResolver _resolver = root.GetRequiredService<ModelResolver>();
        private readonly ChatRunner _runner = root.GetRequiredService<ChatRunner>();
        private readonly DurarSettings _settings = root.GetRequiredService<DurarSettings>();
        private readonly ILogger<ChatRunner> _logger = root.GetRequiredService<ILogger<ChatRunner>>();
        private readonly DashboardFeed _dashboard = root.GetRequiredService<DashboardFeed>();

        public Task HandleAsync(HttpContext context) =>
            ChatCompletionsApi.HandleAsync(context, _resolver, _runner, _settings, _logger, _dashboard);
    }

    private static async Task HandleAsync(HttpContext context, ModelResolver resolver, ChatRunner runner, DurarSettings settings,
        ILogger<ChatRunner> logger, DashboardFeed dashboard)
    {
        var ct = context.RequestAborted;
        ParsedChatRequest parsed;
        RunPlan plan;
        string? idempotencyKey = null;
        var sessionKey = context.Request.Headers[DurarHeaders.SessionKey].ToString();
        // The body stays parsed until the answer is written: the request forwards it to the upstream field for field.
        JsonDocument? doc = null;
        try
        {
            try
            {
                if (sessionKey.Length > 0 && !SessionKeys.IsValid(sessionKey))
                    throw new ApiErrorException(ApiError.BadRequest($"Invalid {DurarHeaders.SessionKey} \"{sessionKey}\".", "invalid_session_key", DurarHeaders.SessionKey));
                var continueStream = ContinueHeader(context.Request);
                // Only a session turn is journaled, so only there can a repeated key be recognised; a stateless request ignores it.
                if (sessionKey.Length > 0) idempotencyKey = IdempotencyKeys.Read(context);
                doc = await JsonBody.ReadAsync(context);
                // A session keeps the request beyond this HTTP exchange (and may run on another node): it gets its own copy.
                parsed = ChatRequestParser.Parse(sessionKey.Length > 0 ? doc.RootElement.Clone() : doc.RootElement);
                Telemetry.RequestFacts.Of(context)?.RequestedModel = parsed.Model;
                if (continueStream is not null) parsed = parsed with { Request = parsed.Request with { ContinueStream = continueStream } };
                plan = Access.ClientModels.Restrict(context, Plan(resolver, parsed), parsed.Model, parsed.Fallbacks is not null);
            }
            catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
            {
                await refused.WriteAsync(context.Response);
                return;
            }

            if (sessionKey.Length > 0)
            {
                await RunInSessionAsync(context, sessionKey, parsed, idempotencyKey, context.RequestServices);
                return;
            }

            // A stateless request gets the configured thinking and fast mode, exactly as a session turn does (its own
            // reasoning_effort and service_tier win).
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

    /// <summary>
    /// Inside a session: its overrides and pins apply and the turn is journaled. The last user message is the turn; a client
    /// that sends the whole conversation keeps managing history itself.
    /// </summary>
    private static async Task RunInSessionAsync(HttpContext context, string sessionKey, ParsedChatRequest parsed, string? idempotencyKey,
        IServiceProvider services)
    {
        var request = parsed.Request;
        var turns = request.Messages.Where(m => m.Role is not ("system" or "developer")).ToList();
        var last = turns.LastOrDefault(m => m.Role == "user") ?? turns[^1];
        IReadOnlyList<ChatMessage>? history = turns.Count > 1 ? turns : null;
        var send = new SessionCommands.SendMessage(sessionKey, last.AllText, null, parsed.Model, history, request)
        {
            IdempotencyKey = idempotencyKey,
            // A lone message with more than text (an image) is journaled whole, so the turn's request carries it.
            Input = history is null && !last.Parts.IsDefaultOrEmpty && last.Parts.Any(p => p.Type != ContentPartTypes.Text) ? [last] : [],
        };
        await SessionTurnResponder.RunTurnAsync(context, services.GetRequiredService<IRequiredActor<SessionRegionKey>>(),
            services.GetRequiredService<GatewaySettings>(), services.GetRequiredService<IMaterializer>(),
            send, request.Stream, request.IncludeUsage);
    }

    /// <summary>The run's value, or null once its failure has been written (with the number of attempts it took).</summary>
    private static async Task<T?> AnsweredAsync<T>(HttpContext context, Task<RunResult<T>> running, RequestTrace trace) where T : class
    {
        var result = await running;
        if (result.Failure is not { } failure) return result.Value;
        trace.Failed(failure);
        await WriteFailureAsync(context.Response, failure);
        return null;
    }

    /// <summary>
    /// A run that produced no answer (chat or embeddings): the provider's request id and rate-limit figures, the number of
    /// attempts and the gateway's classification as headers, then the error body (whose own Retry-After, the soonest
    /// recovery, wins over the provider's).
    /// </summary>
    internal static Task WriteFailureAsync(HttpResponse response, RunFailure failure)
    {
        foreach (var (name, value) in failure.Headers.Values) response.Headers[name] = value;
        response.Headers[DurarHeaders.Attempts] = failure.AttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (failure.Reason.Length > 0) response.Headers[DurarHeaders.FailureReason] = failure.Reason;
        return ToApiError(failure).WriteAsync(response);
    }

    private static async Task CompleteAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, RequestTrace trace,
        CancellationToken ct)
    {
        if (await AnsweredAsync(context, runner.CompleteAsync(plan, request, ct), trace) is not { } run) return;
        try
        {
            var model = run.Model.ToString();
            SetRunHeaders(context.Response, model, run.Attempts, run.Completion.Headers, run.Dropped);
            var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
            Access.ClientPrincipal.RecordUse(context, run.Completion.Usage, run.Model);
            await writer.WriteCompletionAsync(context.Response, run.Completion);
            trace.Answered(run.Model, run.KeyId, run.Failures, run.Completion.Usage, null);
        }
        finally
        {
            run.Completion.ReleaseRaw(); // the upstream's answer, kept until written (ChatCompletion.RawDocument)
        }
    }

    private static async Task StreamAsync(HttpContext context, ChatRunner runner, RunPlan plan, ChatRequest request, RequestTrace trace,
        CancellationToken ct)
    {
        if (await AnsweredAsync(context, runner.StreamAsync(plan, request, ct), trace) is not { } run) return;
        var committed = trace.Elapsed;
        var response = context.Response;
        var model = run.Model.ToString();
        if (!await StartStreamAsync(context, run, model, ReplyDialect.ChatCompletions)) return;
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);
        TokenUsage? usage = null;
        var outcome = "cancelled";
        ApiError? failed = null;
        try
        {
            // The handler returns right after: the closing frames leave with the end of the response.
            usage = await writer.WriteStreamAsync(response, run.Events, request.IncludeUsage, ct, flushAtEnd: false);
            outcome = "ok";
        }
        catch (UpstreamException e) when (!ct.IsCancellationRequested)
        {
            outcome = "stream_error";
            failed = new ApiError(502, e.Failure.Message ?? "The upstream stream failed.", "api_error", "upstream_stream_error");
            Telemetry.RequestFacts.Of(context)?.Failed(failed.Code);
            await ChatCompletionWriter.WriteStreamErrorAsync(response.BodyWriter, failed, ct);
        }
        finally
        {
            Access.ClientPrincipal.RecordUse(context, usage, run.Model);
            trace.Answered(run.Model, run.KeyId, run.Failures, usage, committed, outcome, failed?.Code, failed?.Message);
        }
    }

    /// <summary>
    /// The headers of a committed stream's answer. Should setting them fail (Kestrel refuses a header value; the values
    /// are checked where they are read, so this is the last line of defence), the run is released, not left holding its
    /// upstream response and key, and the client gets a 502 instead of a 500.
    /// </summary>
    internal static async Task<bool> StartStreamAsync(HttpContext context, StreamingRun run, string model, IStreamCloser? closer)
    {
        try
        {
            SetRunHeaders(context.Response, model, run.Attempts, run.Headers, run.Dropped);
            SseResponse.Prepare(context, closer);
            return true;
        }
        catch (InvalidOperationException e)
        {
            await run.AbandonAsync();
            context.Response.Headers.Clear();
            var error = new ApiError(502, $"The upstream's answer could not be passed on: {e.Message}", "api_error", "upstream_invalid_answer");
            Telemetry.RequestFacts.Of(context)?.Failed(error.Code);
            await error.WriteAsync(context.Response);
            return false;
        }
    }

    /// <summary><c>x-durar-continue</c>: true, false, or absent (the node's setting).</summary>
    internal static bool? ContinueHeader(HttpRequest request)
    {
        var value = request.Headers[DurarHeaders.Continue].ToString();
        if (value.Length == 0) return null;
        if (bool.TryParse(value, out var on)) return on;
        throw new ApiErrorException(ApiError.BadRequest($"{DurarHeaders.Continue} must be true or false, not \"{value}\".", "invalid_header",
            DurarHeaders.Continue));
    }

    /// <summary>Builds the candidate chain (see <see cref="RunPlanner"/>, then <see cref="ImageRouting"/>), mapping planning errors to API errors.</summary>
    internal static RunPlan Plan(ModelResolver resolver, ParsedChatRequest parsed)
    {
        try
        {
            return ImageRouting.Route(RunPlanner.Plan(resolver, parsed.Model, parsed.Fallbacks is { } f ? f : null), parsed.Request, resolver);
        }
        catch (PlanException e)
        {
            var type = e.Status switch { 403 => "permission_error", 404 => "not_found_error", _ => "invalid_request_error" };
            throw new ApiErrorException(new ApiError(e.Status, e.Message, type, e.Code, e.Param));
        }
    }

    /// <summary>
    /// The gateway's headers, then the upstream's that a client reads (its request id, processing time, rate-limit
    /// figures); an upstream header never replaces one of the gateway's.
    /// </summary>
    internal static void SetRunHeaders(HttpResponse response, string model, int attempts, UpstreamHeaders upstream,
        System.Collections.Immutable.ImmutableArray<string> dropped)
    {
        foreach (var (name, value) in upstream.Values)
            if (!response.Headers.ContainsKey(name)) response.Headers[name] = value;
        response.Headers[DurarHeaders.Model] = model;
        response.Headers[DurarHeaders.Attempts] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Field names are client-chosen JSON keys: any that is not visible ASCII goes percent-encoded.
        if (!dropped.IsDefaultOrEmpty)
            response.Headers[DurarHeaders.Dropped] = string.Join(',', dropped.Select(f => UpstreamHttp.IsHeaderSafe(f) ? f : Uri.EscapeDataString(f)));
    }

    internal static ApiError ToApiError(RunFailure failure) =>
        new(failure.HttpStatus, failure.Message, failure.Type, failure.Code, failure.Param) { RetryAfter = failure.RetryAfter };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during request {TraceId}")]
    private static partial void LogClientGone(ILogger logger, string traceId);
}
