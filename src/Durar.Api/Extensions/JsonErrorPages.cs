using Durar.Api.Apis;

namespace Durar.Api.Extensions;

/// <summary>
/// Every answer the gateway gives has a body a client can read: an unknown route (404), a known route with the wrong
/// method (405) or any other status left without a body gets the OpenAI-shaped <c>{"error":{...}}</c>, and an exception no
/// endpoint handled becomes a 500 with the same shape and the trace id, never a stack trace or an empty body.
/// </summary>
/// <remarks>
/// One middleware frame per request does both (ASP.NET Core's exception handler and status-code pages took one each, with a
/// feature object per request). As there: an exception after the answer started is rethrown (the connection is cut), and
/// one that is the client's own cancellation is not an error (status 499, nothing logged or written).
/// </remarks>
public static partial class JsonErrorPages
{
    public static WebApplication UseJsonErrors(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Durar.Api");
        app.Use((context, next) => InvokeAsync(context, next, logger));
        return app;
    }

    private static async Task InvokeAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        var response = context.Response;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested && !response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return;
        }
        catch (Exception failure) when (!response.HasStarted)
        {
            LogUnhandled(logger, failure, context.Request.Method, context.Request.Path, context.TraceIdentifier);
            response.Clear();
            await new ApiError(500, $"Internal error (trace {context.TraceIdentifier}); the gateway logged it.", "api_error", "internal_error")
                .WriteAsync(response);
            return;
        }
        if (response.HasStarted || response.StatusCode is < 400 or >= 600 || response.ContentLength is not null
            || !string.IsNullOrEmpty(response.ContentType))
            return;
        var error = response.StatusCode switch
        {
            404 => new ApiError(404, $"No route {context.Request.Method} {context.Request.Path}. See the README for the gateway's endpoints.",
                "not_found_error", "unknown_route"),
            405 => new ApiError(405, $"{context.Request.Method} is not allowed on {context.Request.Path}.", "invalid_request_error",
                "method_not_allowed"),
            var code => new ApiError(code, $"The request ended with status {code}.", code >= 500 ? "api_error" : "invalid_request_error",
                "http_" + code),
        };
        await error.WriteAsync(response);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path} (trace {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception error, string method, string path, string traceId);
}
