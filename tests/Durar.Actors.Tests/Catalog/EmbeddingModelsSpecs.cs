using Durar.Actors.Catalog;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Catalog;

/// <summary>The built-in catalog marks its embedding models, with the vendors' published input prices and input limits.</summary>
public sealed class EmbeddingModelsSpecs
{
    [Theory]
    [InlineData("openai", "text-embedding-3-small", 0.02, 8192)]
    [InlineData("openai", "text-embedding-3-large", 0.13, 8192)]
    [InlineData("openai", "text-embedding-ada-002", 0.1, 8192)]
    [InlineData("google", "gemini-embedding-001", 0.15, 2048)]
    [InlineData("mistral", "mistral-embed", 0.1, 8192)]
    [InlineData("qwen", "text-embedding-v4", 0.07, 8192)]
    [InlineData("ollama", "nomic-embed-text", 0, 8192)]
    public void Should_mark_the_well_known_embedding_models(string provider, string id, double inputPrice, long inputLimit)
    {
        var model = BuiltInCatalog.Providers[provider].FindModel(id)!;

        Assert.Equal(ModelKind.Embedding, model.Kind);
        Assert.Equal(inputPrice, model.Cost.Input);
        Assert.Equal(0, model.Cost.Output);
        Assert.Equal(inputLimit, model.ContextWindow);
        // The provider's wire has an embeddings endpoint (OpenAI's, or Ollama's OpenAI-compatible /v1/embeddings).
        Assert.NotNull(new Durar.Actors.Transports.TransportRegistry(new NoClients()).FindEmbeddings(BuiltInCatalog.Providers[provider].Api));
    }

    /// <summary>No HTTP: the registry is only asked which wires embed.</summary>
    private sealed class NoClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("no HTTP in this spec");
    }

    [Fact]
    public void Should_mark_every_other_built_in_model_as_chat()
    {
        var chat = BuiltInCatalog.Providers.Values.SelectMany(p => p.Models).Where(m => !m.Id.Contains("embed", StringComparison.OrdinalIgnoreCase));

        Assert.All(chat, m => Assert.Equal(ModelKind.Chat, m.Kind));
    }

    [Fact]
    public void Should_embed_gemini_at_its_openai_compatible_endpoint()
    {
        var google = BuiltInCatalog.Providers["google"];

        Assert.Equal("https://generativelanguage.googleapis.com/v1beta/openai/embeddings", google.BaseUrl + "/embeddings");
        Assert.Equal(ModelKind.Embedding, google.FindModel("gemini-embedding-001")!.Kind);
    }

    [Fact]
    public void Should_give_echo_an_embedding_model_beside_its_chat_model()
    {
        var echo = BuiltInCatalog.Providers["echo"];

        Assert.Equal(ModelKind.Chat, echo.FindModel("echo")!.Kind);
        Assert.Equal(ModelKind.Embedding, echo.FindModel("echo-embedding")!.Kind);
    }
}
