using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.AuthProfiles;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Configuration;

namespace Durar.Api.Apis;

/// <summary>
/// The operator surface of the auth-profile store: <c>GET /v1/admin/auth-profiles</c> (every profile, secrets masked to
/// their last four characters), <c>POST /v1/admin/auth-profiles</c> (create or replace), <c>DELETE
/// /v1/admin/auth-profiles/{id}</c> and <c>PUT /v1/admin/auth-profiles/order/{provider}</c> (the stored order, which wins
/// over <c>auth.order</c>). Same admin rule as <see cref="AdminApi"/>. No secret is ever written back whole or logged.
/// </summary>
public static class AuthProfilesApi
{
    private static readonly string[] InputFields =
        ["provider", "type", "email", "id", "key", "token", "access", "refresh", "expires", "tokenUrl", "clientId"];

    public static IEndpointRouteBuilder MapAuthProfiles(this IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/auth-profiles", ListAsync);
        admin.MapPost("/auth-profiles", UpsertAsync);
        admin.MapDelete("/auth-profiles/{id}", DeleteAsync);
        admin.MapPut("/auth-profiles/order/{provider}", SetOrderAsync);
        return app;
    }

    private static Task ListAsync(HttpContext context, ActorRegistry registry, GatewaySettings gateway) =>
        AskAsync<AuthProfileList>(context, registry, gateway, AuthProfileCommands.ListProfiles.Instance, async list =>
        {
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("profiles");
                foreach (var profile in list.Profiles) WriteProfile(w, profile);
                w.WriteEndArray();
                w.WriteStartObject("order");
                foreach (var (provider, order) in list.Orders)
                {
                    w.WriteStartArray(provider);
                    foreach (var entry in order) w.WriteStringValue(entry);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }, ChatCompletionWriter.Options);
        });

    private static async Task UpsertAsync(HttpContext context, ActorRegistry registry, GatewaySettings gateway)
    {
        AuthProfileInput input;
        try
        {
            input = await ReadInputAsync(context);
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        await AskAsync<AuthProfileSaved>(context, registry, gateway, new AuthProfileCommands.UpsertProfile(input), async saved =>
        {
            context.Response.StatusCode = saved.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK;
            if (saved.Created) context.Response.Headers.Location = "/v1/admin/auth-profiles/" + Uri.EscapeDataString(saved.Profile.Id);
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                WriteProfile(w, saved.Profile);
            }, ChatCompletionWriter.Options);
        });
    }

    private static Task DeleteAsync(HttpContext context, string id, ActorRegistry registry, GatewaySettings gateway)
    {
        id = Uri.UnescapeDataString(id);
        return AskAsync<AuthProfileDeleted>(context, registry, gateway, new AuthProfileCommands.RemoveProfile(id), async deleted =>
        {
            if (!deleted.Found)
            {
                await ApiError.NotFound($"No auth profile `{id}` (see GET /v1/admin/auth-profiles).", "auth_profile_not_found", "id")
                    .WriteAsync(context.Response);
                return;
            }
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                w.WriteStartObject();
                w.WriteString("id", deleted.ProfileId);
                w.WriteBoolean("deleted", true);
                w.WriteEndObject();
            });
        });
    }

    private static async Task SetOrderAsync(HttpContext context, string provider, ActorRegistry registry, GatewaySettings gateway)
    {
        provider = Uri.UnescapeDataString(provider);
        ImmutableArray<string> order;
        try
        {
            using var doc = await ReadJsonObjectAsync(context);
            if (!doc.RootElement.TryGetProperty("order", out var list) || list.ValueKind != JsonValueKind.Array
                || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw new ApiErrorException(ApiError.BadRequest("The body must be {\"order\": [\"<profile or key id>\", ...]}.", "invalid_order", "order"));
            order = [.. list.EnumerateArray().Select(e => e.GetString()!)];
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        await AskAsync<AuthProfileOrderSaved>(context, registry, gateway, new AuthProfileCommands.SetOrder(provider, order), async saved =>
        {
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                w.WriteStartObject();
                w.WriteString("provider", saved.Provider);
                w.WriteStartArray("order");
                foreach (var entry in saved.Order) w.WriteStringValue(entry);
                w.WriteEndArray();
                w.WriteEndObject();
            }, ChatCompletionWriter.Options);
        });
    }

    /// <summary>
    /// Asks the store (bounded by the gateway's ask timeout and the client's connection) and writes the answer: the expected
    /// reply through <paramref name="write"/>, a rejection as a 400, a missing store or no answer as a 503. In a cluster the
    /// store may run on another node; after a change the answer waits until this node's providers hold it, so the caller's
    /// next request through this node already sees it (other nodes follow within milliseconds).
    /// </summary>
    private static async Task AskAsync<T>(HttpContext context, ActorRegistry registry, GatewaySettings gateway, IAuthProfileCommand command,
        Func<T, Task> write)
    {
        if (!registry.TryGet<AuthProfileStoreKey>(out var store))
        {
            await new ApiError(503, "Auth profiles are not enabled on this gateway.", "server_error", "auth_profiles_disabled").WriteAsync(context.Response);
            return;
        }
        object reply;
        try
        {
            reply = await store.Ask<object>(command, gateway.AskTimeout, context.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            await new ApiError(503, "The auth-profile store did not answer in time; try again.", "server_error", "auth_profiles_timeout")
                .WriteAsync(context.Response);
            return;
        }
        switch (reply)
        {
            case T expected:
                if (expected is IAuthProfileChange { Revision: { } revision } && registry.TryGet<AuthProfileSubscriberKey>(out var subscriber))
                    await AwaitAppliedHereAsync(subscriber, revision, gateway, context.RequestAborted);
                await write(expected);
                break;
            case AuthProfileNotSaved notSaved:
                // The store could not encrypt the secret (key ring unreadable); its message names the profile, never the secret.
                await new ApiError(500, notSaved.Message, "server_error", "auth_profile_not_saved").WriteAsync(context.Response);
                break;
            case AuthProfileRejected rejected:
                await ApiError.BadRequest(rejected.Message, command is AuthProfileCommands.SetOrder ? "invalid_order" : "invalid_auth_profile", rejected.Param)
                    .WriteAsync(context.Response);
                break;
            default:
                await new ApiError(500, "Unexpected answer from the auth-profile store.", "server_error", "internal_error").WriteAsync(context.Response);
                break;
        }
    }

    /// <summary>
    /// Waits (bounded) until this node's subscriber has handed <paramref name="revision"/> to the providers. The change is
    /// persisted either way: past the bound it is answered as saved and reaches this node's providers shortly after.
    /// </summary>
    private static async Task AwaitAppliedHereAsync(IActorRef subscriber, AuthProfileRevision revision, GatewaySettings gateway, CancellationToken aborted)
    {
        try
        {
            await subscriber.Ask<AuthProfileRevisionApplied>(new AwaitAuthProfileRevision(revision), gateway.AskTimeout, aborted);
        }
        catch (AskTimeoutException)
        {
        }
    }

    /// <summary>Reads the POST body into an input; wrong JSON types and unknown fields are 400s naming the field.</summary>
    private static async Task<AuthProfileInput> ReadInputAsync(HttpContext context)
    {
        using var doc = await ReadJsonObjectAsync(context);
        var root = doc.RootElement;
        foreach (var property in root.EnumerateObject())
            if (!InputFields.Contains(property.Name, StringComparer.Ordinal))
                throw new ApiErrorException(ApiError.BadRequest(
                    $"Unknown field `{property.Name}` (expected {string.Join(", ", InputFields)}).", "invalid_auth_profile", property.Name));
        return new AuthProfileInput(
            Provider: String(root, "provider"),
            Type: String(root, "type"),
            Email: String(root, "email"),
            Id: String(root, "id"),
            Key: String(root, "key"),
            Token: String(root, "token"),
            Access: String(root, "access"),
            Refresh: String(root, "refresh"),
            Expires: Expires(root),
            TokenUrl: String(root, "tokenUrl"),
            ClientId: String(root, "clientId"));
    }

    private static async Task<JsonDocument> ReadJsonObjectAsync(HttpContext context)
    {
        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(new Utf8CheckedBody(context.Request.Body), default, context.RequestAborted);
        }
        catch (InvalidUtf8Exception e)
        {
            throw new ApiErrorException(ApiError.BadRequest(e.Message, "invalid_json")); // names an offset, never the bytes
        }
        catch (JsonException)
        {
            // JsonException's message can quote the body (and so a secret): never repeat it.
            throw new ApiErrorException(ApiError.BadRequest("The request body is not valid JSON.", "invalid_json"));
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new ApiErrorException(ApiError.BadRequest("The request body must be a JSON object.", "invalid_json"));
        }
        return doc;
    }

    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new ApiErrorException(ApiError.BadRequest($"`{name}` must be a string.", "invalid_auth_profile", name));

    /// <summary>
    /// <c>expires</c> as epoch milliseconds (the reference's unit) or an ISO 8601 instant. Numbers out of range are kept out of
    /// range, so the profile is stored but ineligible (<c>invalid_expires</c>), as the reference has it.
    /// </summary>
    private static long? Expires(JsonElement root)
    {
        if (!root.TryGetProperty("expires", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetInt64(out var ms):
                return ms;
            case JsonValueKind.Number when value.TryGetDouble(out var big):
                return big >= long.MaxValue ? long.MaxValue : big <= long.MinValue ? long.MinValue : (long)Math.Round(big);
            case JsonValueKind.String when DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at):
                return at.ToUnixTimeMilliseconds();
            default:
                throw new ApiErrorException(ApiError.BadRequest("`expires` must be epoch milliseconds or an ISO 8601 time.", "invalid_auth_profile", "expires"));
        }
    }

    private static void WriteProfile(Utf8JsonWriter w, AuthProfileView p)
    {
        w.WriteStartObject();
        w.WriteString("id", p.Id);
        w.WriteString("provider", p.Provider);
        w.WriteString("type", p.Type);
        WriteOptional(w, "email", p.Email);
        // Masked values only (…abcd); the store never hands out a whole secret.
        WriteOptional(w, "key", p.Key);
        WriteOptional(w, "token", p.Token);
        WriteOptional(w, "access", p.Access);
        WriteOptional(w, "refresh", p.Refresh);
        if (p.Expires is { } expires) w.WriteNumber("expires", expires); else w.WriteNull("expires");
        WriteOptional(w, "tokenUrl", p.TokenUrl);
        WriteOptional(w, "clientId", p.ClientId);
        w.WriteBoolean("eligible", p.Eligible);
        WriteOptional(w, "reason", p.Reason);
        w.WriteString("createdAt", p.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("updatedAt", p.UpdatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
