using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Api.Access;
using Durar.Api.Apis;

namespace Durar.Api.SessionList;

/// <summary>
/// <c>GET /v1/sessions?prefix=&amp;limit=&amp;cursor=</c>: the sessions there are, newest activity first, a page at a time,
/// answered by the node's <see cref="SessionDirectoryActor"/> from the journal's query side (no session actor is
/// started). A client token lists only its own namespace (its prefix is added to the filter and taken off every key);
/// the operator token sees every session, namespaced keys included.
/// </summary>
internal static class SessionListApi
{
    /// <summary>The page size when <c>limit</c> is absent.</summary>
    public const int DefaultLimit = 20;

    /// <summary>The largest page a request may ask for (400 above it).</summary>
    public const int MaxLimit = 100;

    public static IEndpointRouteBuilder MapSessionList(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/sessions", ListAsync);
        return app;
    }

    private static async Task ListAsync(HttpContext context, IRequiredActor<SessionDirectoryKey> directory, GatewaySettings gateway,
        string? prefix, string? limit, string? cursor)
    {
        int size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, out size) || size < 1 || size > MaxLimit))
        {
            await ApiError.BadRequest($"`limit` must be an integer from 1 to {MaxLimit}.", "invalid_value", "limit").WriteAsync(context.Response);
            return;
        }
        SessionListCursor? after = null;
        if (!string.IsNullOrEmpty(cursor) && (after = SessionListCursor.TryDecode(cursor)) is null)
        {
            await ApiError.BadRequest("`cursor` is not a cursor this list returned.", "invalid_value", "cursor").WriteAsync(context.Response);
            return;
        }
        var scoped = (ClientPrincipal.Of(context)?.SessionPrefix ?? "") + (prefix ?? "");
        object answer;
        try
        {
            answer = await directory.ActorRef.Ask<object>(new SessionDirectoryActor.List(new SessionListQuery(scoped, size, after)),
                // Generous: the first list of a node reads the whole journal once (later ones only what is new).
                gateway.AskTimeout * 6, context.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            answer = new Status.Failure(new TimeoutException("the session list did not answer in time"));
        }
        if (answer is not SessionListPage page)
        {
            await new ApiError(503, "The session journal could not be read; try again shortly.", "api_error", "journal_unavailable").WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteObjectAsync(context.Response, w =>
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var s in page.Items)
            {
                w.WriteStartObject();
                w.WriteString("key", ClientModels.OutwardKey(context, s.Key));
                w.WriteString("lastActivity", s.LastActivity.ToUniversalTime().ToString("O"));
                if (s.LastModel is null) w.WriteNull("lastModel"); else w.WriteString("lastModel", s.LastModel);
                if (s.ModelOverride is null) w.WriteNull("modelOverride"); else w.WriteString("modelOverride", s.ModelOverride);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("hasMore", page.NextCursor is not null);
            if (page.NextCursor is null) w.WriteNull("nextCursor"); else w.WriteString("nextCursor", page.NextCursor);
        });
    }
}
