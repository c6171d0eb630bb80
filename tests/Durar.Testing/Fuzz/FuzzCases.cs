using CsCheck;

namespace Durar.Testing.Fuzz;

/// <summary>
/// How every fuzzing spec runs its cases: a fixed set (case numbers 0..n-1, the same in every run, so CI is reproducible)
/// and then a random sample drawn by CsCheck (different in every run; a failure prints CsCheck's seed and the case number).
/// A case is a number from which the spec builds its input deterministically (e.g. with <see cref="JsonMutator"/>), so the
/// number alone replays it: set <c>DURAR_FUZZ_CASE</c> to run just that one.
/// </summary>
public static class FuzzCases
{
    /// <summary>Runs <paramref name="check"/> on <paramref name="fixedCases"/> fixed and <paramref name="randomCases"/> random case numbers.</summary>
    /// <param name="describe">The input of a case, for the failure message.</param>
    public static void Run(int fixedCases, int randomCases, Action<int> check, Func<int, string> describe)
    {
        if (Environment.GetEnvironmentVariable("DURAR_FUZZ_CASE") is { Length: > 0 } only && int.TryParse(only, out var single))
        {
            Checked(single, check, describe);
            return;
        }
        for (var i = 0; i < fixedCases; i++) Checked(i, check, describe);
        Gen.Int[fixedCases, int.MaxValue].Sample(i => Checked(i, check, describe), iter: randomCases, threads: 1);
    }

    /// <summary>The asynchronous form of <see cref="Run"/> (cases run one after another).</summary>
    public static async Task RunAsync(int fixedCases, int randomCases, Func<int, Task> check, Func<int, string> describe)
    {
        if (Environment.GetEnvironmentVariable("DURAR_FUZZ_CASE") is { Length: > 0 } only && int.TryParse(only, out var single))
        {
            await CheckedAsync(single, check, describe);
            return;
        }
        for (var i = 0; i < fixedCases; i++) await CheckedAsync(i, check, describe);
        // CsCheck draws the random case numbers (its seed is printed when a case fails); they are checked in order here.
        var drawn = new List<int>(randomCases);
        Gen.Int[fixedCases, int.MaxValue].Sample(i => { drawn.Add(i); }, iter: randomCases, threads: 1);
        foreach (var i in drawn) await CheckedAsync(i, check, describe);
    }

    private static void Checked(int i, Action<int> check, Func<int, string> describe)
    {
        try
        {
            check(i);
        }
        catch (Exception e)
        {
            throw new FuzzCaseFailedException($"fuzz case {i} failed (replay with DURAR_FUZZ_CASE={i}): {e.Message}\n--- input ---\n{Clip(describe(i))}\n--- exception ---\n{e}");
        }
    }

    private static async Task CheckedAsync(int i, Func<int, Task> check, Func<int, string> describe)
    {
        try
        {
            await check(i);
        }
        catch (Exception e)
        {
            throw new FuzzCaseFailedException($"fuzz case {i} failed (replay with DURAR_FUZZ_CASE={i}): {e.Message}\n--- input ---\n{Clip(describe(i))}\n--- exception ---\n{e}");
        }
    }

    private static string Clip(string s) => s.Length <= 4000 ? s : s[..4000] + $"… ({s.Length} chars)";
}

/// <summary>A fuzz case that failed: the message names the case number to replay and shows its input.</summary>
public sealed class FuzzCaseFailedException(string message) : Exception(message);
