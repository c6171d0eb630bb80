using Durar.Actors.Catalog;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary><c>kind</c> on <c>models.providers.&lt;id&gt;.models[]</c>: read, validated with its key path, overlaid on the catalog.</summary>
public sealed class ModelKindSpecs
{
    private static ProviderCatalog Catalog(string hocon) => new(DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)));

    [Fact]
    public void Should_read_the_kind_of_a_configured_model_and_leave_an_unwritten_one_unmarked()
    {
        var mine = Catalog("""
            models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "e", kind = "embedding" }, { id = "c", kind = "chat" }, { id = "u" }] } } }
            """).Providers["mine"];

        Assert.Equal(ModelKind.Embedding, mine.FindModel("e")!.Kind);
        Assert.Equal(ModelKind.Chat, mine.FindModel("c")!.Kind);
        Assert.Null(mine.FindModel("u")!.Kind);
        Assert.Null(ModelDefinition.PassThrough("any").Kind);
    }

    [Fact]
    public void Should_keep_the_catalog_kind_when_an_override_does_not_write_one()
    {
        var openai = Catalog("""
            models { providers { openai { models = [{ id = "text-embedding-3-small", name = "Small" }, { id = "gpt-5.4", kind = "chat" }] } } }
            """).Providers["openai"];

        Assert.Equal(ModelKind.Embedding, openai.FindModel("text-embedding-3-small")!.Kind);
        Assert.Equal("Small", openai.FindModel("text-embedding-3-small")!.Name);
        Assert.Equal(ModelKind.Chat, openai.FindModel("gpt-5.4")!.Kind);
    }

    [Fact]
    public void Should_name_the_path_of_an_unknown_kind()
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""
            models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "a" }, { id = "b", kind = "embeddings" }] } } }
            """)));

        Assert.Equal("models.providers.mine.models[1].kind", e.Path);
        Assert.Contains("unknown kind \"embeddings\" (expected chat or embedding)", e.Problem);
    }
}
