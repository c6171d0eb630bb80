using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// The per-request cancellation sources that are pooled (issue 17): <see cref="IdleTimer"/> (one per upstream call) and
/// <see cref="RunBudget"/> (one per run). Each still cancels with its caller and at its time, says which it was, and an
/// instance handed out again after a call ended is clean: the previous caller's token and timer no longer reach it.
/// </summary>
public sealed class PooledCancellationSpecs
{
    private static readonly TimeSpan Long = TimeSpan.FromHours(1);

    [Fact]
    public async Task Idle_timer_fires_when_no_progress_comes_and_says_so()
    {
        using var caller = new CancellationTokenSource();
        using var idle = IdleTimer.Start(TimeSpan.FromMilliseconds(50), caller.Token);
        await Eventually.Until(() => idle.Token.IsCancellationRequested, "the idle window to run out");
        Assert.True(idle.Fired);
        Assert.False(caller.IsCancellationRequested);
    }

    [Fact]
    public void Idle_timer_follows_the_callers_token_and_does_not_call_it_fired()
    {
        using var caller = new CancellationTokenSource();
        using var idle = IdleTimer.Start(Long, caller.Token);
        Assert.False(idle.Token.IsCancellationRequested);
        caller.Cancel();
        Assert.True(idle.Token.IsCancellationRequested);
        Assert.False(idle.Fired);

        using var already = IdleTimer.Start(Long, caller.Token);
        Assert.True(already.Token.IsCancellationRequested); // a caller that had already cancelled, as a linked source
    }

    [Fact]
    public async Task An_idle_timer_handed_out_again_is_not_reached_by_the_previous_call()
    {
        // Many calls end and new ones start: whichever instance comes back, the earlier callers and their short windows
        // must not cancel the later calls.
        var earlier = new List<CancellationTokenSource>();
        for (var i = 0; i < 64; i++)
        {
            var caller = new CancellationTokenSource();
            earlier.Add(caller);
            IdleTimer.Start(TimeSpan.FromMilliseconds(30), caller.Token).Dispose();
        }
        using var now = new CancellationTokenSource();
        var later = Enumerable.Range(0, 64).Select(_ => IdleTimer.Start(Long, now.Token)).ToList();
        foreach (var c in earlier) c.Cancel();
        await Task.Delay(200); // past every earlier window
        Assert.All(later, t => Assert.False(t.Token.IsCancellationRequested));
        now.Cancel();
        Assert.All(later, t => Assert.True(t.Token.IsCancellationRequested));
        foreach (var t in later) t.Dispose();
        foreach (var c in earlier) c.Dispose();
    }

    [Fact]
    public void Budget_is_spent_on_the_runs_clock()
    {
        var time = new FakeTimeProvider();
        using var budget = RunBudget.Start(time, TimeSpan.FromSeconds(30), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(budget.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(budget.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task A_budget_handed_out_again_follows_only_its_own_caller_and_time()
    {
        using var first = new CancellationTokenSource();
        var spentSoon = RunBudget.Start(TimeProvider.System, TimeSpan.FromMilliseconds(30), first.Token);
        spentSoon.Dispose();
        using var second = new CancellationTokenSource();
        var budgets = Enumerable.Range(0, 16).Select(_ => RunBudget.Start(TimeProvider.System, Long, second.Token)).ToList();
        first.Cancel();
        await Task.Delay(200);
        Assert.All(budgets, b => Assert.False(b.Token.IsCancellationRequested));
        second.Cancel();
        Assert.All(budgets, b => Assert.True(b.Token.IsCancellationRequested));
        foreach (var b in budgets) b.Dispose();

        using var spent = RunBudget.Start(TimeProvider.System, TimeSpan.FromMilliseconds(20), CancellationToken.None);
        await Eventually.Until(() => spent.Token.IsCancellationRequested, "the budget to be spent");
    }
}
