using System.Text.Json;
using Durar.Actors.Catalog;
using Durar.Actors.Models;

namespace Durar.Api.Apis;

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in OpenAI's list shape: <c>durar</c> (the configured primary) and
/// every <c>provider/model</c> of the catalog and the configured providers. Ids contain <c>/</c>; the single-model route
/// takes the id URL-encoded or as a path. Called with an <c>anthropic-version</c> header (Anthropic's SDKs), both answer in
/// Anthropic's shapes instead: <c>{"data":[{"type":"model","id","display_name","created_at"}],"has_more":false,"first_id","last_id"}</c>
/// (every model on one page, whatever <c>limit</c> asks) and one such model object.
/// </summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context, ProviderCatalog catalog) => WriteListAsync(context.Response, catalog, Anthropic(context)));
        app.MapGet("/v1/models/{**id}", async (HttpContext context, string id, ProviderCatalog catalog, ModelResolver resolver) =>
        {
            id = Uri.UnescapeDataString(id);
            var entry = Entries(catalog).FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase));
            if (entry.Id is null && !id.Contains('/') && resolver.Resolve(id) is { Success: true } alias)
                entry = (id, alias.Model!.Provider.Id);
            if (entry.Id is null)
            {
                await ApiError.NotFound($"The model `{id}` does not exist.").WriteAsync(context.Response);
                return;
            }
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                if (Anthropic(context)) WriteAnthropicModel(w, entry.Id);
                else WriteModel(w, entry.Id, entry.Owner);
            });
        });
        return app;
    }

    private static bool Anthropic(HttpContext context) => context.Request.Headers.ContainsKey(Messages.MessagesErrors.VersionHeader);

    private static async Task WriteListAsync(HttpResponse response, ProviderCatalog catalog, bool anthropic)
    {
        await JsonAnswer.WriteAsync(response, w =>
        {
            if (anthropic)
            {
                WriteAnthropicList(w, catalog);
                return;
            }
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var (id, owner) in Entries(catalog)) WriteModel(w, id, owner);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static IEnumerable<(string Id, string Owner)> Entries(ProviderCatalog catalog)
    {
        yield return (ModelResolver.DefaultTarget, "durar");
        foreach (var provider in catalog.Providers.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            foreach (var model in provider.Models)
                yield return ($"{provider.Id}/{model.Id}", provider.Id);
            foreach (var model in catalog.Discovered.For(provider.Id)) // installed models a local server reported (Ollama)
                if (provider.FindModel(model.Id) is null) yield return ($"{provider.Id}/{model.Id}", provider.Id);
        }
    }

    private static void WriteAnthropicList(Utf8JsonWriter w, ProviderCatalog catalog)
    {
        string? first = null, last = null;
        w.WriteStartObject();
        w.WriteStartArray("data");
        foreach (var (id, _) in Entries(catalog))
        {
            WriteAnthropicModel(w, id);
            first ??= id;
            last = id;
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more", false);
        w.WriteString("first_id", first);
        w.WriteString("last_id", last);
        w.WriteEndObject();
    }

    /// <summary>Anthropic's model object; the catalog has no release dates, so <c>created_at</c> is the Unix epoch.</summary>
    private static void WriteAnthropicModel(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteString("type", "model");
        w.WriteString("id", id);
        w.WriteString("display_name", id);
        w.WriteString("created_at", "1970-01-01T00:00:00Z");
        w.WriteEndObject();
    }

    private static void WriteModel(Utf8JsonWriter w, string id, string owner)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", 0);
        w.WriteString("owned_by", owner);
        w.WriteEndObject();
    }
}
