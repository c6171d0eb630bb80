using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;

namespace Durar.Actors.Tests.ClientTokens;

/// <summary>
/// The pure rules of a client token: the order of the verdicts (secret, revoked, expired, budget, window), the budget period
/// rolling over at 00:00 UTC, and the secret's shape and hash.
/// </summary>
public sealed class ClientTokenStateSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 14, 22, 0, 0, TimeSpan.Zero);
    private static readonly string Hash = ClientTokenSecrets.Hash("secret");

    private static ClientTokenState Token(decimal? budget = null, DateTimeOffset? expires = null, string period = BudgetPeriods.Day) =>
        ClientTokenState.Apply(null, new ClientTokenEvents.Created("0123456789abcdef",
            new ClientTokenSpec("t", [ClientTokenScopes.Chat], [], null, null, budget, period, expires), Hash, T0))!;

    [Fact]
    public void Should_answer_ok_with_the_spec_for_the_right_secret()
    {
        var reply = Token().Decide(Hash, T0, null);

        Assert.Equal(AuthorizeVerdicts.Ok, reply.Verdict);
        Assert.NotNull(reply.Spec);
    }

    [Fact]
    public void Should_not_tell_a_wrong_secret_from_an_unknown_token()
    {
        Assert.Equal(AuthorizeVerdicts.Unknown, Token().Decide(ClientTokenSecrets.Hash("other"), T0, null).Verdict);
    }

    [Fact]
    public void Should_check_revoked_before_expired_before_budget_before_the_window()
    {
        var token = ClientTokenState.Apply(Token(budget: 1m, expires: T0.AddHours(1)), new ClientTokenEvents.Used(1, 10, 10, 2m, T0))!;
        Assert.Equal(AuthorizeVerdicts.BudgetExceeded, token.Decide(Hash, T0, T0.AddSeconds(30)).Verdict);
        Assert.Equal(AuthorizeVerdicts.Expired, token.Decide(Hash, T0.AddHours(1), null).Verdict);
        var revoked = ClientTokenState.Apply(token, new ClientTokenEvents.Revoked(T0))!;
        Assert.Equal(AuthorizeVerdicts.Revoked, revoked.Decide(Hash, T0.AddHours(2), null).Verdict);
        Assert.Equal(AuthorizeVerdicts.RateLimited, Token().Decide(Hash, T0, T0.AddSeconds(30)) is { Verdict: var v, RetryAt: var at } && at == T0.AddSeconds(30) ? v : "");
    }

    [Fact]
    public void Should_reset_the_spend_when_the_next_period_begins_and_say_when()
    {
        var spent = ClientTokenState.Apply(Token(budget: 1m), new ClientTokenEvents.Used(1, 10, 10, 1m, T0))!;
        var refused = spent.Decide(Hash, T0.AddHours(1), null);
        Assert.Equal((AuthorizeVerdicts.BudgetExceeded, new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero)), (refused.Verdict, refused.RetryAt));

        Assert.Equal(AuthorizeVerdicts.Ok, spent.Decide(Hash, T0.AddHours(2), null).Verdict); // 00:00 UTC the next day
        var next = ClientTokenState.Apply(spent, new ClientTokenEvents.Used(1, 10, 10, 0.25m, T0.AddHours(3)))!;
        Assert.Equal((0.25m, 1.25m), (next.SpendAt(T0.AddHours(3)), next.Usage.Cost));
    }

    [Fact]
    public void Should_roll_a_monthly_budget_on_the_first_of_the_month()
    {
        Assert.Equal(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero), BudgetPeriods.EndOf(BudgetPeriods.Month, T0));
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), BudgetPeriods.StartOf(BudgetPeriods.Month, T0.ToOffset(TimeSpan.FromHours(5))));
    }

    [Fact]
    public void Should_find_the_id_inside_a_secret_and_nothing_in_other_shapes()
    {
        var id = ClientTokenSecrets.NewId();
        var secret = ClientTokenSecrets.NewSecret(id);

        Assert.True(ClientTokenSecrets.TryParse(secret, out var parsed));
        Assert.Equal(id, parsed);
        Assert.False(ClientTokenSecrets.TryParse(secret[..^1], out _));
        Assert.False(ClientTokenSecrets.TryParse("sk-durar-" + new string('G', 16) + secret[25..], out _));
        Assert.False(ClientTokenSecrets.TryParse("operator-token-0123456789abcdef0123456789", out _));
        Assert.Equal(64, ClientTokenSecrets.Hash(secret).Length);
    }
}
