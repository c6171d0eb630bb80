using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;

namespace Durar.Actors.Tests.Routing;

/// <summary>The candidate chain keeps to one kind of model: chat or embeddings, refused by name before any call.</summary>
public sealed class RunPlannerSpecs
{
    private static ModelResolver Resolver(string hocon = "")
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""
            models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "e", kind = "embedding" }, { id = "c", kind = "chat" }, { id = "u" }] } } }
            """ + "\n" + hocon));
        return new ModelResolver(new ProviderCatalog(settings), settings.Agents);
    }

    [Fact]
    public void Should_plan_each_kind_on_its_own_models_and_unmarked_ones()
    {
        var r = Resolver();

        var chat = RunPlanner.Plan(r, "mine/c", ["mine/u"]);
        var embeddings = RunPlanner.Plan(r, "mine/e", ["mine/u", "openai/text-embedding-3-small"], ModelKind.Embedding, null);

        Assert.Equal(["mine/c", "mine/u"], chat.Candidates.Select(c => c.ToString()));
        Assert.Equal(ModelKind.Chat, chat.Kind);
        Assert.Equal(["mine/e", "mine/u", "openai/text-embedding-3-small"], embeddings.Candidates.Select(c => c.ToString()));
        Assert.Equal(ModelKind.Embedding, embeddings.Kind);
    }

    [Theory]
    [InlineData("mine/e", ModelKind.Chat, "`mine/e` is an embedding model: use POST /v1/embeddings.")]
    [InlineData("openai/text-embedding-3-large", ModelKind.Chat, "`openai/text-embedding-3-large` is an embedding model: use POST /v1/embeddings.")]
    [InlineData("mine/c", ModelKind.Embedding, "`mine/c` is a chat model, not an embedding model: use POST /v1/chat/completions.")]
    [InlineData("anthropic/claude-opus-4-6", ModelKind.Embedding, "`anthropic/claude-opus-4-6` is a chat model, not an embedding model: use POST /v1/chat/completions.")]
    public void Should_refuse_a_model_of_the_other_kind_naming_it(string model, ModelKind kind, string message)
    {
        var e = Assert.Throws<PlanException>(() => RunPlanner.Plan(Resolver(), model, null, kind, null));

        Assert.Equal(400, e.Status);
        Assert.Equal("model", e.Param);
        Assert.Equal("unsupported_model", e.Code);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Should_refuse_a_client_fallback_of_the_other_kind_naming_its_index()
    {
        var e = Assert.Throws<PlanException>(() => RunPlanner.Plan(Resolver(), "mine/e", ["mine/u", "mine/c"], ModelKind.Embedding, null));

        Assert.Equal("fallbacks", e.Param);
        Assert.StartsWith("fallbacks[1]: `mine/c` is a chat model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_leave_embedding_models_out_of_the_configured_chat_chain()
    {
        var r = Resolver("""agents { defaults { model { primary = "mine/c", fallbacks = ["mine/e", "mine/u"] } } }""");

        var plan = RunPlanner.Plan(r, "durar", null);

        Assert.Equal(["mine/c", "mine/u"], plan.Candidates.Select(c => c.ToString()));
    }

    [Fact]
    public void Should_apply_the_further_check_to_every_candidate()
    {
        var e = Assert.Throws<PlanException>(() => RunPlanner.Plan(Resolver(), "mine/e", ["mine/u"], ModelKind.Embedding,
            m => m.Model.Id == "u" ? "no endpoint" : null));

        Assert.Equal("fallbacks[0]: no endpoint", e.Message);
    }
}
