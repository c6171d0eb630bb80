using System.Diagnostics;

namespace Durar.Testing;

/// <summary>
/// The one way a spec waits for something it can only observe by asking again (an admin view, a log, a transcript): poll
/// until the condition holds or the timeout passes, then fail with what was awaited and the last value seen. Inside an
/// actor spec prefer TestKit's <c>AwaitAssert</c>/<c>ExpectMsg</c>; this is for what is reached over HTTP, a process or a
/// database. Never a fixed sleep: a spec that waits for a condition is as fast as the system and fails with a reason.
/// </summary>
public static class Eventually
{
    /// <summary>How long a condition may take by default: generous for a loaded CI machine, short enough to fail fast.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The pause between two polls by default.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Calls <paramref name="probe"/> until <paramref name="condition"/> holds for its value and returns that value; throws
    /// <see cref="EventuallyException"/> naming <paramref name="what"/> and the last value observed when <paramref name="timeout"/>
    /// (default <see cref="DefaultTimeout"/>) passes first.
    /// </summary>
    /// <param name="probe">Observes the system once (an HTTP call, a read). Its exceptions fail the wait at once unless <paramref name="retryOn"/> accepts them.</param>
    /// <param name="condition">True when the awaited state is reached.</param>
    /// <param name="what">The awaited state in words, for the failure message ("key A cooling", "three members up").</param>
    /// <param name="timeout">The most the wait may take (default <see cref="DefaultTimeout"/>).</param>
    /// <param name="interval">The pause between polls (default <see cref="DefaultInterval"/>); zero only yields the thread.</param>
    /// <param name="retryOn">Exceptions of <paramref name="probe"/> that mean "not yet" (e.g. nothing listening yet); null = none.</param>
    /// <param name="describe">How the last value is shown in the failure message (default <see cref="object.ToString"/>).</param>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null,
        TimeSpan? interval = null, Func<Exception, bool>? retryOn = null, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var pause = interval ?? DefaultInterval;
        var clock = Stopwatch.StartNew();
        var polls = 0;
        var observed = false;
        T last = default!;
        Exception? lastError = null;
        while (true)
        {
            polls++;
            try
            {
                last = await probe().ConfigureAwait(false);
                observed = true;
                lastError = null;
                if (condition(last)) return last;
            }
            catch (Exception e) when (retryOn?.Invoke(e) == true)
            {
                lastError = e;
            }
            if (clock.Elapsed >= limit)
            {
                var seen = lastError is not null ? $"last error: {lastError.GetType().Name}: {lastError.Message}"
                    : observed ? $"last observed: {(describe is null ? last?.ToString() ?? "null" : describe(last))}"
                    : "nothing observed";
                throw new EventuallyException($"Eventually: {what} not reached within {limit.TotalSeconds:0.###} s ({polls} polls); {seen}", lastError);
            }
            if (pause > TimeSpan.Zero) await Task.Delay(pause).ConfigureAwait(false);
            else await Task.Yield();
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (an in-memory state another thread changes, e.g. a captured log).</summary>
    public static Task Until(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null,
        Func<string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return Until(() => Task.FromResult(condition()), held => held, what, timeout, interval,
            describe: describe is null ? null : _ => describe());
    }
}

/// <summary>A condition awaited with <see cref="Eventually"/> was not reached in time; the message says what and what was seen last.</summary>
public sealed class EventuallyException(string message, Exception? inner = null) : Exception(message, inner);
