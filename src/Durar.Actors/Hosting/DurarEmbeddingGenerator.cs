using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>
/// Durar as a Microsoft.Extensions.AI <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/>: the same candidate chain, key
/// rotation, cooldowns, failover and per-key usage as <c>POST /v1/embeddings</c>, in-process. <see cref="EmbeddingGenerationOptions.ModelId"/>
/// names an embedding model (a <c>provider/model</c> ref or an alias; there is no default embedding model, so it is required);
/// <see cref="EmbeddingGenerationOptions.Dimensions"/> is sent as <c>dimensions</c>; <c>AdditionalProperties["fallbacks"]</c>
/// (string[]) lists fallbacks, and every other additional property goes upstream as a body field of that name. Each
/// embedding carries the model that answered; <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> the input tokens.
/// </summary>
internal sealed class DurarEmbeddingGenerator(EmbeddingRunner runner, ModelResolver resolver) : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <exception cref="PlanException">The model or a fallback cannot embed (its status and message are the gateway's 400/403/404).</exception>
    /// <exception cref="DurarRunException">No candidate answered; carries the status, code and every attempt.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values.ToImmutableArray();
        if (texts.IsEmpty) return [];
        var extra = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        IReadOnlyList<string>? fallbacks = null;
        foreach (var (name, value) in options?.AdditionalProperties ?? [])
        {
            if (name == "fallbacks") fallbacks = value is IEnumerable<string> list ? list.ToList() : throw new ArgumentException("AdditionalProperties[\"fallbacks\"] must be a list of model refs.", nameof(options));
            else extra[name] = JsonSerializer.SerializeToElement(value);
        }
        var request = new EmbeddingRequest
        {
            Texts = texts,
            Dimensions = options?.Dimensions,
            Encoding = EmbeddingEncoding.Float,
            Extra = extra.ToImmutable(),
        };
        var plan = runner.Plan(resolver, options?.ModelId ?? ModelResolver.DefaultTarget, fallbacks);
        var result = await runner.EmbedAsync(plan, request, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new DurarRunException(failure);
        var run = result.Value!;
        var model = run.Model.ToString();
        var created = DateTimeOffset.UtcNow;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(run.Result.ReadVectors().Select(v => new Embedding<float>(v)
        {
            ModelId = model,
            CreatedAt = created,
        }));
        if (run.Result.Usage is { } usage) embeddings.Usage = new UsageDetails { InputTokenCount = usage.Input, TotalTokenCount = usage.Total };
        return embeddings;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("durar")
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() { }
}
