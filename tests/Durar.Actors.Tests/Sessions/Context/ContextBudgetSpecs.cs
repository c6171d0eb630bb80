using System.Collections.Immutable;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Sessions.Context;

namespace Durar.Actors.Tests.Sessions.Context;

/// <summary>A turn's budget: contextTokens, else contextWindow, else 200,000, minus the output cap; the counter follows the model.</summary>
public sealed class ContextBudgetSpecs
{
    private static ResolvedModel Model(string id, long window, long? contextTokens, long maxTokens, int? providerMax = null) =>
        new(new ProviderDefinition { Id = "p", Name = "p", Api = "openai-completions", Auth = "api-key", MaxTokens = providerMax },
            new ModelDefinition(id, id, false, ["text"], ModelCost.Zero, window, contextTokens, maxTokens, null), null);

    [Fact]
    public void Should_prefer_context_tokens_to_the_window_and_subtract_the_output_cap()
    {
        var budget = ContextBudget.For(Model("gpt-4o", 128_000, 4_000, 1_000), null);

        Assert.Equal(new ContextBudget(4_000, 1_000, 3_000, TokenCounter.O200kBase), budget);
    }

    [Fact]
    public void Should_use_the_window_when_no_context_tokens_are_set() =>
        Assert.Equal(120_000, ContextBudget.For(Model("gpt-4o", 128_000, null, 8_000), null).Input);

    [Fact]
    public void Should_take_the_output_cap_from_the_request_then_the_provider_then_the_model()
    {
        Assert.Equal(9_500, ContextBudget.For(Model("m", 10_000, null, 2_000, providerMax: 1_000), 500).Input);
        Assert.Equal(9_000, ContextBudget.For(Model("m", 10_000, null, 2_000, providerMax: 1_000), null).Input);
        Assert.Equal(8_000, ContextBudget.For(Model("m", 10_000, null, 2_000), null).Input);
    }

    [Fact]
    public void Should_default_to_200000_tokens_and_keep_a_quarter_for_input_when_the_cap_eats_the_context()
    {
        var unknown = ContextBudget.For(null, null);
        Assert.Equal(200_000, unknown.Context);
        Assert.Equal(200_000 - ModelDefinition.DefaultMaxTokens, unknown.Input);
        Assert.Equal("estimate", unknown.Counter.Name);

        Assert.Equal(1_000, ContextBudget.For(Model("m", 4_000, null, 8_192), null).Input);
    }
}
