using Durar.Actors.Hosting;
using Durar.Actors.Routing;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>Durar embedded as a Microsoft.Extensions.AI IEmbeddingGenerator: the same run as /v1/embeddings, no HTTP hop.</summary>
public sealed class DurarEmbeddingGeneratorSpecs
{
    private const string Config = """
        models { providers {
          gen { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-gen-1111", models = [{ id = "e1", kind = "embedding" }, { id = "c1" , kind = "chat" }] }
          genb { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-genb-2222", models = [{ id = "e2", kind = "embedding" }] }
        } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    [Fact]
    public async Task Should_generate_embeddings_in_process_with_usage_and_the_answering_model()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var generator = gw.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var embeddings = await generator.GenerateAsync(["alpha beta", "gamma"], new EmbeddingGenerationOptions
        {
            ModelId = "gen/e1",
            Dimensions = 4,
            AdditionalProperties = new() { ["input_type"] = "query" },
        });

        Assert.Equal(2, embeddings.Count);
        Assert.Equal(FakeEmbeddings.Vector("alpha beta", 4), embeddings[0].Vector.ToArray());
        Assert.Equal(FakeEmbeddings.Vector("gamma", 4), embeddings[1].Vector.ToArray());
        Assert.All(embeddings, e => Assert.Equal("gen/e1", e.ModelId));
        Assert.Equal(3, embeddings.Usage!.InputTokenCount);
        Assert.Equal(3, embeddings.Usage.TotalTokenCount);
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("e1", sent.GetProperty("model").GetString());
        Assert.Equal(4, sent.GetProperty("dimensions").GetInt32());
        Assert.Equal("float", sent.GetProperty("encoding_format").GetString());
        Assert.Equal("query", sent.GetProperty("input_type").GetString());
        Assert.Equal("durar", generator.GetService<EmbeddingGeneratorMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task Should_fail_over_like_the_gateway_and_name_the_model_that_answered()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Script = r => r.Model == "e1" ? FakeResponse.Error(402, "insufficient credits") : null;
        var generator = gw.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var vector = await generator.GenerateAsync("fall back", new EmbeddingGenerationOptions
        {
            ModelId = "gen/e1",
            AdditionalProperties = new() { ["fallbacks"] = new[] { "genb/e2" } },
        });

        Assert.Equal("genb/e2", vector.ModelId);
        Assert.Equal(FakeEmbeddings.Vector("fall back", FakeEmbeddings.DefaultDimensions), vector.Vector.ToArray());
        Assert.Equal(["sk-gen-1111", "sk-genb-2222"], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_throw_a_run_exception_when_nothing_answers_and_a_plan_exception_for_a_chat_model()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = FakeResponse.Error(400, "input is too long for this model");
        var generator = gw.Services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var failed = await Assert.ThrowsAsync<DurarRunException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { ModelId = "gen/e1" }));
        Assert.Equal(400, failed.Failure.HttpStatus);
        Assert.Equal("context_overflow", failed.Failure.Code);
        Assert.StartsWith("Context overflow: an input is longer than the model takes (input is too long", failed.Message, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<PlanException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { ModelId = "gen/c1" }));
        Assert.Equal(400, refused.Status);
        Assert.Equal("model", refused.Param);
        Assert.Contains("`gen/c1` is a chat model", refused.Message, StringComparison.Ordinal);
    }
}
