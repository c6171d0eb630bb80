using Durar.Api.Apis;
using Microsoft.AspNetCore.Diagnostics;

namespace Durar.Api.Extensions;

/// <summary>
/// Every answer the gateway gives has a body a client can read: an unknown route (404), a known route with the wrong
/// method (405) or any other status left without a body gets the OpenAI-shaped <c>{"error":{...}}</c>, and an exception no
/// endpoint handled becomes a 500 with the same shape and the trace id, never a stack trace or an empty body.
/// </summary>
public static partial class JsonErrorPages
{
    public static WebApplication UseJsonErrors(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (failure is not null)
                LogUnhandled(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Durar.Api"), failure, context.Request.Method,
                    context.Request.Path, context.TraceIdentifier);
            await new ApiError(500, $"Internal error (trace {context.TraceIdentifier}); the gateway logged it.", "api_error", "internal_error")
                .WriteAsync(context.Response);
        }));
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            var error = context.Response.StatusCode switch
            {
                404 => new ApiError(404, $"No route {context.Request.Method} {context.Request.Path}. See the README for the gateway's endpoints.",
                    "not_found_error", "unknown_route"),
                405 => new ApiError(405, $"{context.Request.Method} is not allowed on {context.Request.Path}.", "invalid_request_error",
                    "method_not_allowed"),
                var code => new ApiError(code, $"The request ended with status {code}.", code >= 500 ? "api_error" : "invalid_request_error",
                    "http_" + code),
            };
            await error.WriteAsync(context.Response);
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path} (trace {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception error, string method, string path, string traceId);
}
