using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers.Messages;

namespace Durar.Api.Apis;

/// <summary>
/// The operator surface: <c>GET /v1/admin/providers</c> (every provider and key with its state, keys masked to their last
/// four characters) and <c>POST /v1/admin/keys/{id}/reset</c> (clear a cooldown or disable, which OpenClaw users had to do
/// by editing files). With a gateway token configured the token is required (as for all of <c>/v1</c>); without one,
/// admin routes answer loopback clients only.
/// </summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/providers", ListProvidersAsync);
        admin.MapPost("/keys/{id}/reset", ResetKeyAsync);
        return app;
    }

    /// <summary>
    /// The <c>/v1/admin</c> route group with the admin rule every operator route shares: the gateway token when one is
    /// configured (checked for all of <c>/v1</c>), else loopback callers only.
    /// </summary>
    internal static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("/v1/admin").AddEndpointFilter(async (ctx, next) =>
        {
            var auth = ctx.HttpContext.RequestServices.GetRequiredService<GatewayAuth>();
            if (auth.AdminRefusal(ctx.HttpContext) is { } refusal) return new ErrorResult(refusal);
            return await next(ctx);
        });

    private static async Task ListProvidersAsync(HttpContext context, IRequiredActor<ProvidersRegistryKey> providers, GatewaySettings gateway)
    {
        var states = await providers.ActorRef.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), gateway.AskTimeout * 2,
            context.RequestAborted);
        await JsonAnswer.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("providers");
            foreach (var p in states.Providers) AdminJson.WriteProvider(w, p);
            w.WriteEndArray();
            w.WriteEndObject();
        }, ChatCompletionWriter.Options);
    }

    private static async Task ResetKeyAsync(HttpContext context, string id, IRequiredActor<ProvidersRegistryKey> providers, GatewaySettings gateway)
    {
        id = Uri.UnescapeDataString(id);
        var colon = id.IndexOf(':');
        if (colon <= 0)
        {
            await ApiError.NotFound($"No key `{id}` (key ids look like provider:key-xxxxxxxx; see GET /v1/admin/providers).", "key_not_found", "id")
                .WriteAsync(context.Response);
            return;
        }
        KeyResetDone done;
        try
        {
            done = await providers.ActorRef.Ask<KeyResetDone>(new ProviderCommands.ResetKey(id[..colon], id), gateway.AskTimeout, context.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            await new ApiError(503, $"Key `{id}` did not answer in time (its actor may be restarting); try again.", "api_error", "key_unavailable")
                .WriteAsync(context.Response);
            return;
        }
        if (!done.Found)
        {
            await ApiError.NotFound($"No key `{id}`.", "key_not_found", "id").WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("state", "ready");
            w.WriteEndObject();
        });
    }

    private sealed class ErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => error.WriteAsync(httpContext.Response);
    }
}
