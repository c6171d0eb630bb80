using Durar.Actors.Catalog;
using Durar.Actors.Providers.Keys;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// <see cref="MinuteWindow"/>, a key's sliding minute (<c>rpm</c> and <c>tpm</c> of <see cref="KeyLimits"/>): rpm N admits N
/// leases per minute and is spent until the N-th newest lease leaves; tpm is spent from the answer that reaches it until enough
/// of the oldest answers leave; with both, the later end wins; <see cref="MinuteWindow.Grant"/> and
/// <see cref="MinuteWindow.Spend"/> say true exactly when that call spent the budget; no limits, never spent; a change of
/// <see cref="MinuteWindow.Limits"/> takes effect at once. The clock is passed in: virtual instants only.
/// </summary>
public sealed class MinuteWindowSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    // ---------------------------------------------------------------- rpm

    [Fact]
    public void Should_admit_rpm_grants_in_a_sliding_minute()
    {
        var w = new MinuteWindow(new KeyLimits(3, null));

        Assert.False(w.Grant(At(0)));
        Assert.Null(w.LimitedUntil(At(0)));
        Assert.False(w.Grant(At(10)));
        Assert.Null(w.LimitedUntil(At(10)));
        Assert.True(w.Grant(At(20)));              // the third: the minute's last
        Assert.Equal(At(60), w.LimitedUntil(At(20))); // the 3rd newest grant (at 0) + 1 min
    }

    [Fact]
    public void Should_free_the_rpm_budget_as_grants_leave_the_window()
    {
        var w = new MinuteWindow(new KeyLimits(3, null));
        w.Grant(At(0));
        w.Grant(At(10));
        w.Grant(At(20));

        Assert.Equal(At(60), w.LimitedUntil(At(60) - Tick));
        Assert.Null(w.LimitedUntil(At(60)));        // the grant of second 0 is exactly a minute old: gone
        Assert.True(w.Grant(At(60)));               // the freed place is taken again
        Assert.Equal(At(70), w.LimitedUntil(At(60))); // now the grant of second 10 must leave
        Assert.Null(w.LimitedUntil(At(70)));
        Assert.Null(w.LimitedUntil(At(500)));
    }

    [Fact]
    public void Should_end_an_over_granted_minute_with_the_rpm_th_newest_grant()
    {
        // Grants beyond the limit (another node's, or a probe) are counted too: the end moves with the rpm-th newest.
        var w = new MinuteWindow(new KeyLimits(2, null));
        w.Grant(At(0));
        w.Grant(At(10));
        w.Grant(At(20));
        w.Grant(At(30));

        Assert.Equal(At(80), w.LimitedUntil(At(30)));   // 2nd newest: second 20
        Assert.Equal(At(80), w.LimitedUntil(At(79)));
        Assert.Null(w.LimitedUntil(At(80)));            // only the grant of second 30 is left: room
    }

    [Fact]
    public void Should_say_true_only_for_the_grant_that_spent_the_rpm_budget()
    {
        var w = new MinuteWindow(new KeyLimits(1, null));

        Assert.True(w.Grant(At(0)));
        Assert.False(w.Grant(At(1)));   // the budget was spent before: this grant did not spend it
        Assert.False(w.Grant(At(2)));
        Assert.Equal(At(62), w.LimitedUntil(At(2)));
        Assert.True(w.Grant(At(62)));   // after a free moment, the next grant spends it again
    }

    // ---------------------------------------------------------------- tpm

    [Fact]
    public void Should_admit_spending_under_the_tpm_limit()
    {
        var w = new MinuteWindow(new KeyLimits(null, 1000));

        Assert.False(w.Spend(400, At(0)));
        Assert.False(w.Spend(599, At(10)));
        Assert.Null(w.LimitedUntil(At(10)));   // 999 of 1000
    }

    [Fact]
    public void Should_limit_from_the_answer_that_reaches_tpm_until_the_oldest_leaves()
    {
        var w = new MinuteWindow(new KeyLimits(null, 1000));
        w.Spend(400, At(0));
        w.Spend(300, At(10));

        Assert.True(w.Spend(300, At(20)));           // exactly 1000: spent
        Assert.Equal(At(60), w.LimitedUntil(At(20))); // without the 400 of second 0 it is 600
        Assert.Equal(At(60), w.LimitedUntil(At(60) - Tick));
        Assert.Null(w.LimitedUntil(At(60)));
    }

    [Fact]
    public void Should_wait_for_as_many_of_the_oldest_answers_as_must_leave()
    {
        var w = new MinuteWindow(new KeyLimits(null, 1000));
        w.Spend(300, At(0));
        w.Spend(300, At(10));

        Assert.True(w.Spend(900, At(20)));           // 1500: 1200 without the first, 900 without the second
        Assert.Equal(At(70), w.LimitedUntil(At(20)));
        Assert.Equal(At(70), w.LimitedUntil(At(65)));
        Assert.Null(w.LimitedUntil(At(70)));
        // The big answer alone stays under the limit; it leaves at 80.
        Assert.True(w.Spend(100, At(75)));           // 1000 again
        Assert.Equal(At(80), w.LimitedUntil(At(75)));
    }

    [Fact]
    public void Should_say_true_only_for_the_answer_that_spent_the_tpm_budget()
    {
        var w = new MinuteWindow(new KeyLimits(null, 100));

        Assert.True(w.Spend(150, At(0)));   // one answer over the whole minute
        Assert.False(w.Spend(10, At(1)));
        Assert.Equal(At(60), w.LimitedUntil(At(1)));   // only the 150 of second 0 must leave (10 < 100)
        Assert.Null(w.LimitedUntil(At(60)));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    public void Should_ignore_answers_without_tokens(long tokens)
    {
        var w = new MinuteWindow(new KeyLimits(null, 100));
        w.Spend(99, At(0));

        Assert.False(w.Spend(tokens, At(1)));
        Assert.Null(w.LimitedUntil(At(1)));
        Assert.True(w.Spend(1, At(2)));
    }

    // ---------------------------------------------------------------- one limit, the other call

    [Fact]
    public void Should_not_count_leases_without_an_rpm_or_tokens_without_a_tpm()
    {
        var tpmOnly = new MinuteWindow(new KeyLimits(null, 100));
        var rpmOnly = new MinuteWindow(new KeyLimits(1, null));

        for (var i = 0; i < 10; i++) Assert.False(tpmOnly.Grant(At(i)));
        Assert.Null(tpmOnly.LimitedUntil(At(10)));
        Assert.False(rpmOnly.Spend(1_000_000, At(0)));
        Assert.Null(rpmOnly.LimitedUntil(At(0)));
    }

    [Fact]
    public void Should_never_limit_without_limits()
    {
        var w = new MinuteWindow(KeyLimits.None);

        for (var i = 0; i < 100; i++)
        {
            Assert.False(w.Grant(At(0)));
            Assert.False(w.Spend(1_000_000, At(0)));
        }
        Assert.Null(w.LimitedUntil(At(0)));
    }

    // ---------------------------------------------------------------- both limits

    [Fact]
    public void Should_end_when_the_later_of_rpm_and_tpm_ends()
    {
        var tpmLater = new MinuteWindow(new KeyLimits(2, 100));
        tpmLater.Grant(At(0));
        tpmLater.Grant(At(5));          // rpm spent until 60
        tpmLater.Spend(100, At(30));    // tpm spent until 90

        Assert.Equal(At(90), tpmLater.LimitedUntil(At(30)));
        Assert.Equal(At(90), tpmLater.LimitedUntil(At(60)));
        Assert.Null(tpmLater.LimitedUntil(At(90)));

        var rpmLater = new MinuteWindow(new KeyLimits(2, 100));
        rpmLater.Spend(100, At(0));     // tpm spent until 60
        rpmLater.Grant(At(20));
        rpmLater.Grant(At(40));         // rpm spent until 80

        Assert.Equal(At(80), rpmLater.LimitedUntil(At(40)));
        Assert.Equal(At(80), rpmLater.LimitedUntil(At(60)));
        Assert.Null(rpmLater.LimitedUntil(At(80)));
    }

    [Fact]
    public void Should_say_false_for_a_call_when_the_other_limit_had_spent_the_budget()
    {
        var rpmFirst = new MinuteWindow(new KeyLimits(1, 100));
        Assert.True(rpmFirst.Grant(At(0)));
        Assert.False(rpmFirst.Spend(100, At(1)));   // the minute was already spent by rpm
        Assert.Equal(At(61), rpmFirst.LimitedUntil(At(1)));

        var tpmFirst = new MinuteWindow(new KeyLimits(1, 100));
        Assert.True(tpmFirst.Spend(100, At(0)));
        Assert.False(tpmFirst.Grant(At(1)));        // the minute was already spent by tpm
        Assert.Equal(At(61), tpmFirst.LimitedUntil(At(1)));
    }

    // ---------------------------------------------------------------- a change of limits

    [Fact]
    public void Should_apply_a_lower_rpm_at_once()
    {
        var w = new MinuteWindow(new KeyLimits(5, null));
        w.Grant(At(0));
        w.Grant(At(10));
        w.Grant(At(20));
        Assert.Null(w.LimitedUntil(At(20)));

        w.Limits = new KeyLimits(3, null);
        Assert.Equal(At(60), w.LimitedUntil(At(20)));

        w.Limits = new KeyLimits(2, null);
        Assert.Equal(At(70), w.LimitedUntil(At(20)));

        w.Limits = new KeyLimits(10, null);
        Assert.Null(w.LimitedUntil(At(20)));
    }

    [Fact]
    public void Should_apply_a_lower_tpm_at_once()
    {
        var w = new MinuteWindow(new KeyLimits(null, 1000));
        w.Spend(300, At(0));
        w.Spend(300, At(10));
        Assert.Null(w.LimitedUntil(At(10)));

        w.Limits = new KeyLimits(null, 500);
        Assert.Equal(At(60), w.LimitedUntil(At(10)));
        Assert.False(w.Spend(100, At(11)));   // already spent by the change: not this answer
    }

    [Fact]
    public void Should_stop_limiting_once_the_limits_are_removed()
    {
        var w = new MinuteWindow(new KeyLimits(1, 100));
        w.Grant(At(0));
        w.Spend(100, At(0));
        Assert.Equal(At(60), w.LimitedUntil(At(1)));

        w.Limits = KeyLimits.None;

        Assert.Null(w.LimitedUntil(At(1)));
        Assert.False(w.Grant(At(2)));
        Assert.False(w.Spend(1000, At(2)));
    }

    [Fact]
    public void Should_start_counting_when_a_limit_is_added()
    {
        var w = new MinuteWindow(KeyLimits.None);
        w.Grant(At(0));   // not counted: no rpm then

        w.Limits = new KeyLimits(2, null);

        Assert.False(w.Grant(At(1)));
        Assert.True(w.Grant(At(2)));
        Assert.Equal(At(61), w.LimitedUntil(At(2)));
    }
}
