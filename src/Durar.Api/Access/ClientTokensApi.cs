using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Api.Apis;

namespace Durar.Api.Access;

/// <summary>
/// <c>/v1/admin/tokens</c>, the operator's client tokens ("virtual keys"): <c>POST</c> creates one (the secret is in that
/// answer only), <c>GET</c> lists them with usage and cost, <c>GET /{id}</c> reads one, <c>POST /{id}/rotate</c> gives a new
/// secret (the old one stops at once; usage, limits and sessions stay), <c>DELETE /{id}</c> revokes. The operator token only:
/// a client token, even one with <c>admin</c>, is refused.
/// </summary>
internal static class ClientTokensApi
{
    private static readonly string[] Fields = ["name", "scopes", "models", "rpm", "tpm", "budget", "budgetPeriod", "expiresAt"];

    public static IEndpointRouteBuilder MapClientTokens(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/tokens").AddEndpointFilter(async (ctx, next) =>
        {
            var auth = ctx.HttpContext.RequestServices.GetRequiredService<GatewayAuth>();
            if (auth.OperatorRefusal(ctx.HttpContext) is { } refusal) return new ErrorResult(refusal);
            return await next(ctx);
        });
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapGet("/{id}", (HttpContext c, string id, IRequiredActor<ClientTokenRegionKey> r, GatewaySettings g) =>
            AnswerAsync(c, id, r, g, new ClientTokenCommands.Get(id), null));
        group.MapPost("/{id}/rotate", (HttpContext c, string id, IRequiredActor<ClientTokenRegionKey> r, GatewaySettings g) =>
        {
            var secret = ClientTokenSecrets.NewSecret(id);
            return AnswerAsync(c, id, r, g, new ClientTokenCommands.Rotate(id, ClientTokenSecrets.Hash(secret)), secret);
        });
        group.MapDelete("/{id}", (HttpContext c, string id, IRequiredActor<ClientTokenRegionKey> r, GatewaySettings g) =>
            AnswerAsync(c, id, r, g, new ClientTokenCommands.Revoke(id), null));
        return app;
    }

    private static async Task CreateAsync(HttpContext context, IRequiredActor<ClientTokenRegionKey> region, GatewaySettings gateway)
    {
        ClientTokenSpec spec;
        try
        {
            using var doc = await JsonBody.ReadAsync(context);
            spec = ParseSpec(doc.RootElement, DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        var id = ClientTokenSecrets.NewId();
        var secret = ClientTokenSecrets.NewSecret(id);
        try
        {
            // Listed first: a token that exists is always in the list (an id listed without a token is skipped).
            await region.ActorRef.Ask<TokenIds>(new ClientTokenCommands.Register(id), gateway.AskTimeout * 2, context.RequestAborted);
            var reply = await region.ActorRef.Ask<ClientTokenReply>(new ClientTokenCommands.Create(id, spec, ClientTokenSecrets.Hash(secret)),
                gateway.AskTimeout * 2, context.RequestAborted);
            if (reply.Token is null)
            {
                await new ApiError(409, "A token with this id exists already; try again.", "invalid_request_error", "token_exists").WriteAsync(context.Response);
                return;
            }
            context.Response.StatusCode = 201;
            await JsonAnswer.WriteObjectAsync(context.Response, w => WriteToken(w, reply.Token, secret));
        }
        catch (AskTimeoutException)
        {
            await Unavailable().WriteAsync(context.Response);
        }
    }

    private static async Task ListAsync(HttpContext context, IRequiredActor<ClientTokenRegionKey> region, GatewaySettings gateway)
    {
        ClientTokenView[] views;
        try
        {
            var ids = await region.ActorRef.Ask<TokenIds>(ClientTokenCommands.List.Instance, gateway.AskTimeout * 2, context.RequestAborted);
            var replies = await Task.WhenAll(ids.Ids.Select(id =>
                region.ActorRef.Ask<ClientTokenReply>(new ClientTokenCommands.Get(id), gateway.AskTimeout * 2, context.RequestAborted)));
            views = [.. replies.Where(r => r.Token is not null).Select(r => r.Token!).OrderBy(v => v.CreatedAt)];
        }
        catch (AskTimeoutException)
        {
            await Unavailable().WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteObjectAsync(context.Response, w =>
        {
            w.WriteStartArray("tokens");
            foreach (var v in views)
            {
                w.WriteStartObject();
                WriteToken(w, v, null);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    private static async Task AnswerAsync(HttpContext context, string id, IRequiredActor<ClientTokenRegionKey> region, GatewaySettings gateway,
        IClientTokenCommand command, string? secret)
    {
        if (!ClientTokenSecrets.IsId(id))
        {
            await NotFound(id).WriteAsync(context.Response);
            return;
        }
        ClientTokenReply reply;
        try
        {
            reply = await region.ActorRef.Ask<ClientTokenReply>(command, gateway.AskTimeout * 2, context.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            await Unavailable().WriteAsync(context.Response);
            return;
        }
        if (reply.Error == "revoked")
        {
            await new ApiError(409, $"Client token `{id}` is revoked: create a new one.", "invalid_request_error", "token_revoked", "id").WriteAsync(context.Response);
            return;
        }
        if (reply.Token is null)
        {
            await NotFound(id).WriteAsync(context.Response);
            return;
        }
        await JsonAnswer.WriteObjectAsync(context.Response, w => WriteToken(w, reply.Token, secret));
    }

    /// <summary>The body of <c>POST /v1/admin/tokens</c>; every refusal is a 400 naming its field.</summary>
    internal static ClientTokenSpec ParseSpec(JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("The body must be a JSON object.", "invalid_json", null);
        foreach (var p in root.EnumerateObject())
            if (!Fields.Contains(p.Name)) throw Bad($"Unknown field `{p.Name}` (expected {string.Join(", ", Fields)}).", "unknown_field", p.Name);
        var name = root.TryGetProperty("name", out var n) && n.ValueKind != JsonValueKind.Null
            ? n.ValueKind == JsonValueKind.String && n.GetString()!.Length <= 200 ? n.GetString()! : throw Bad("`name` must be a string of at most 200 characters.", "invalid_type", "name")
            : "";
        var scopes = Strings(root, "scopes") ?? [ClientTokenScopes.Chat];
        if (scopes.IsEmpty) throw Bad("`scopes` must name at least one of chat, sessions, admin.", "invalid_value", "scopes");
        foreach (var s in scopes)
            if (!ClientTokenScopes.All.Contains(s)) throw Bad($"Unknown scope `{s}` (expected chat, sessions or admin).", "invalid_value", "scopes");
        var models = Strings(root, "models") ?? [];
        foreach (var m in models)
            if (!ModelPolicy.IsValidPattern(m)) throw Bad($"`{m}` is not a model ref (provider/model) or pattern (provider/*).", "invalid_value", "models");
        var period = root.TryGetProperty("budgetPeriod", out var bp) && bp.ValueKind != JsonValueKind.Null
            ? bp.ValueKind == JsonValueKind.String && bp.GetString() is BudgetPeriods.Day or BudgetPeriods.Month ? bp.GetString()!
                : throw Bad("`budgetPeriod` must be \"day\" or \"month\".", "invalid_value", "budgetPeriod")
            : BudgetPeriods.Month;
        DateTimeOffset? expires = null;
        if (root.TryGetProperty("expiresAt", out var e) && e.ValueKind != JsonValueKind.Null)
        {
            if (e.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                throw Bad("`expiresAt` must be an ISO 8601 time (2026-12-31T00:00:00Z).", "invalid_value", "expiresAt");
            if (at <= now) throw Bad("`expiresAt` is in the past.", "invalid_value", "expiresAt");
            expires = at;
        }
        var rpm = Number(root, "rpm", 1, int.MaxValue);
        var budget = root.TryGetProperty("budget", out var b) && b.ValueKind != JsonValueKind.Null
            ? b.ValueKind == JsonValueKind.Number && b.TryGetDecimal(out var d) && d >= 0 ? d : throw Bad("`budget` must be a number ≥ 0.", "invalid_value", "budget")
            : (decimal?)null;
        return new ClientTokenSpec(name, [.. scopes.Distinct()], [.. models.Distinct()], rpm is null ? null : (int)rpm, Number(root, "tpm", 1, long.MaxValue),
            budget, period, expires);
    }

    private static ImmutableArray<string>? Strings(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Bad($"`{field}` must be a list of strings.", "invalid_type", field);
        var list = ImmutableArray.CreateBuilder<string>();
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Bad($"`{field}` must be a list of strings.", "invalid_type", field));
        return list.ToImmutable();
    }

    private static long? Number(JsonElement root, string field, long min, long max)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= min && n <= max ? n
            : throw Bad($"`{field}` must be a whole number ≥ {min}.", "invalid_value", field);
    }

    private static ApiErrorException Bad(string message, string code, string? param) => new(ApiError.BadRequest(message, code, param));

    private static ApiError NotFound(string id) => ApiError.NotFound($"No client token `{id}` (see GET /v1/admin/tokens).", "token_not_found", "id");

    private static ApiError Unavailable() =>
        new(503, "The client-token store did not answer in time; try again.", "api_error", "token_unavailable") { RetryAfter = TimeSpan.FromSeconds(1) };

    /// <summary>A token's fields (inside an object the caller opened); <paramref name="secret"/> only at creation and rotation.</summary>
    private static void WriteToken(Utf8JsonWriter w, ClientTokenView v, string? secret)
    {
        w.WriteString("id", v.Id);
        if (secret is not null) w.WriteString("secret", secret);
        w.WriteString("name", v.Spec.Name);
        w.WriteString("status", v.Status);
        w.WriteStartArray("scopes");
        foreach (var s in v.Spec.Scopes) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteStartArray("models");
        foreach (var m in v.Spec.Models) w.WriteStringValue(m);
        w.WriteEndArray();
        if (v.Spec.Rpm is { } rpm) w.WriteNumber("rpm", rpm); else w.WriteNull("rpm");
        if (v.Spec.Tpm is { } tpm) w.WriteNumber("tpm", tpm); else w.WriteNull("tpm");
        if (v.Spec.Budget is { } budget) w.WriteNumber("budget", ApiNumbers.Normalize(budget)); else w.WriteNull("budget");
        w.WriteString("budgetPeriod", v.Spec.BudgetPeriod);
        Time(w, "expiresAt", v.Spec.ExpiresAt);
        Time(w, "createdAt", v.CreatedAt);
        Time(w, "rotatedAt", v.RotatedAt);
        Time(w, "revokedAt", v.RevokedAt);
        w.WriteStartObject("usage");
        w.WriteNumber("requests", v.Usage.Requests);
        w.WriteNumber("promptTokens", v.Usage.PromptTokens);
        w.WriteNumber("completionTokens", v.Usage.CompletionTokens);
        w.WriteNumber("cost", ApiNumbers.Normalize(v.Usage.Cost));
        w.WriteEndObject();
        w.WriteStartObject("period");
        w.WriteNumber("spend", ApiNumbers.Normalize(v.PeriodSpend));
        Time(w, "resetsAt", v.PeriodResetsAt);
        w.WriteEndObject();
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? at)
    {
        if (at is { } t) w.WriteString(name, t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        else w.WriteNull(name);
    }

    private sealed class ErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => error.WriteAsync(httpContext.Response);
    }
}
