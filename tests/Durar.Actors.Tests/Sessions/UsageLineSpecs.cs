using Durar.Actors.Models;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Chat;

namespace Durar.Actors.Tests.Sessions;

public sealed class UsageLineSpecs
{
    private const string Model = "openai/gpt-5.4";

    [Fact]
    public void Should_show_nothing_when_usage_display_is_off() =>
        Assert.Null(UsageLine.Format(ResponseUsageMode.Off, new TokenUsage(10, 5, 3, 2), 1.5m, Model));

    [Theory]
    [InlineData(ResponseUsageMode.Tokens)]
    [InlineData(ResponseUsageMode.Full)]
    public void Should_show_nothing_without_usage(ResponseUsageMode mode) => Assert.Null(UsageLine.Format(mode, null, 1m, Model));

    [Theory]
    [InlineData(0, 0, "Usage: 0 in · 0 out · 0 total")]
    [InlineData(10, 5, "Usage: 10 in · 5 out · 15 total")]
    [InlineData(1234, 56, "Usage: 1,234 in · 56 out · 1,290 total")]
    [InlineData(1_234_567, 999, "Usage: 1,234,567 in · 999 out · 1,235,566 total")]
    public void Should_format_the_tokens_line_with_invariant_thousands_separators(long input, long output, string expected) =>
        Assert.Equal(expected, UsageLine.Format(ResponseUsageMode.Tokens, new TokenUsage(input, output), null, Model));

    [Fact]
    public void Should_leave_cache_cost_and_model_out_of_the_tokens_line() =>
        Assert.Equal("Usage: 1,000 in · 200 out · 1,200 total",
            UsageLine.Format(ResponseUsageMode.Tokens, new TokenUsage(1000, 200, 5000, 100), 0.25m, Model));

    [Fact]
    public void Should_append_the_model_to_the_full_line() =>
        Assert.Equal("Usage: 10 in · 5 out · 15 total · openai/gpt-5.4", UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(10, 5), null, Model));

    [Fact]
    public void Should_append_cache_tokens_when_there_are_any() =>
        Assert.Equal("Usage: 1,000 in · 200 out · 1,200 total · cache 5,000 read / 0 write · openai/gpt-5.4",
            UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(1000, 200, 5000, 0), null, Model));

    [Fact]
    public void Should_append_cache_writes_alone_too() =>
        Assert.Equal("Usage: 1 in · 2 out · 3 total · cache 0 read / 1,024 write · openai/gpt-5.4",
            UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(1, 2, 0, 1024), null, Model));

    [Theory]
    [InlineData("3", "$3.0000")]
    [InlineData("0.0123", "$0.0123")]
    [InlineData("0.123456", "$0.1235")]
    [InlineData("0", "$0.0000")]
    [InlineData("1234.5", "$1,234.5000")]
    public void Should_append_the_cost_with_four_decimals_when_known(string cost, string expected) =>
        Assert.Equal($"Usage: 10 in · 5 out · 15 total · {expected} · openai/gpt-5.4",
            UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(10, 5), decimal.Parse(cost, System.Globalization.CultureInfo.InvariantCulture), Model));

    [Fact]
    public void Should_put_every_part_of_the_full_line_in_order() =>
        Assert.Equal("Usage: 1,000,000 in · 0 out · 1,000,000 total · cache 10 read / 20 write · $3.0000 · anthropic/claude-opus-4-6",
            UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(1_000_000, 0, 10, 20), 3m, "anthropic/claude-opus-4-6"));

    [Fact]
    public void Should_omit_an_empty_model_name() =>
        Assert.Equal("Usage: 10 in · 5 out · 15 total · $0.5000", UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(10, 5), 0.5m, ""));

    [Fact]
    public void Should_price_one_million_input_tokens_at_three_dollars_as_three_dollars()
    {
        var cost = ModelPricing.Cost(new TokenUsage(1_000_000, 0), new ModelCost(3, 15, 0.3, 3.75));
        Assert.Equal(3m, cost);
        Assert.Equal("Usage: 1,000,000 in · 0 out · 1,000,000 total · $3.0000 · openai/gpt-5.4",
            UsageLine.Format(ResponseUsageMode.Full, new TokenUsage(1_000_000, 0), cost, Model));
    }

    [Fact]
    public void Should_sum_every_bucket_with_exact_decimal_arithmetic()
    {
        // 1000 × 3 + 500 × 15 + 2000 × 0.3 + 100 × 3.75 = 3000 + 7500 + 600 + 375 = 11475 → / 1e6
        var cost = ModelPricing.Cost(new TokenUsage(1000, 500, 2000, 100), new ModelCost(3, 15, 0.3, 3.75));
        Assert.Equal(0.011475m, cost);
    }

    [Theory]
    [InlineData(1_000_000, 0, 0, 0, 3.0)]
    [InlineData(0, 1_000_000, 0, 0, 15.0)]
    [InlineData(0, 0, 1_000_000, 0, 0.3)]
    [InlineData(0, 0, 0, 1_000_000, 3.75)]
    public void Should_price_each_bucket_separately(long input, long output, long cacheRead, long cacheWrite, double expected) =>
        Assert.Equal((decimal)expected, ModelPricing.Cost(new TokenUsage(input, output, cacheRead, cacheWrite), new ModelCost(3, 15, 0.3, 3.75)));

    [Fact]
    public void Should_cost_nothing_for_free_models_or_no_tokens()
    {
        Assert.Equal(0m, ModelPricing.Cost(new TokenUsage(123_456, 789), ModelCost.Zero));
        Assert.Equal(0m, ModelPricing.Cost(TokenUsage.Zero, new ModelCost(3, 15, 0.3, 3.75)));
    }

    [Fact]
    public void Should_keep_sub_cent_precision_for_single_tokens() =>
        Assert.Equal(0.000003m, ModelPricing.Cost(new TokenUsage(1, 0), new ModelCost(3, 0, 0, 0)));
}
