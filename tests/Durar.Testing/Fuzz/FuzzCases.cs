using CsCheck;

namespace Durar.Testing.Fuzz;

/// <summary>
/// How every fuzzing spec runs its cases: a fixed set (case numbers 0..n-1, the same in every run, so CI is reproducible)
/// and then a random sample drawn from the run's seed (<see cref="Seed"/>: <c>DURAR_FUZZ_SEED</c>, else a new one per run;
/// printed once per test process on standard output and appended to <c>$DURAR_TEST_RESULTS/fuzz-seeds.txt</c>, which
/// <c>.ci/run</c> prints at its end). A case is a number from which the spec builds its input deterministically (e.g. with
/// <see cref="JsonMutator"/>), so the number alone replays it: set <c>DURAR_FUZZ_CASE</c> to run just that one, or
/// <c>DURAR_FUZZ_SEED</c> to run a whole run's random cases again.
/// </summary>
public static class FuzzCases
{
    /// <summary>The seed the random case numbers of this test process are drawn from.</summary>
    public static int Seed { get; } = ReadSeed();

    private static int _announced;

    private static int ReadSeed()
    {
        var given = Environment.GetEnvironmentVariable("DURAR_FUZZ_SEED");
        return given is { Length: > 0 } && int.TryParse(given, out var seed) ? seed : Random.Shared.Next();
    }

    /// <summary>The random case numbers of one spec: the same for the same seed and spec.</summary>
    private static List<int> Draw(int fixedCases, int randomCases, string spec)
    {
        if (Interlocked.Exchange(ref _announced, 1) == 0)
        {
            var line = $"fuzz: random cases drawn from seed {Seed} (replay them with DURAR_FUZZ_SEED={Seed}) in {AppDomain.CurrentDomain.FriendlyName}";
            Console.WriteLine(line);
            if (Environment.GetEnvironmentVariable("DURAR_TEST_RESULTS") is { Length: > 0 } results)
            {
                Directory.CreateDirectory(results);
                File.AppendAllText(Path.Combine(results, "fuzz-seeds.txt"), line + Environment.NewLine);
            }
        }
        // A stable hash of the spec's name (string.GetHashCode differs per process).
        var salt = spec.Aggregate(17, (h, c) => unchecked(h * 31 + c));
        // CsCheck's generator over its PCG stream: the seed and the spec's name make the stream, so a seed replays a run.
        var pcg = new PCG(unchecked((uint)salt), unchecked((ulong)(uint)Seed));
        var numbers = Gen.Int[fixedCases, int.MaxValue];
        var drawn = new List<int>(randomCases);
        for (var n = 0; n < randomCases; n++) drawn.Add(numbers.Generate(pcg, null, out _));
        return drawn;
    }

    /// <summary>Runs <paramref name="check"/> on <paramref name="fixedCases"/> fixed and <paramref name="randomCases"/> random case numbers.</summary>
    /// <param name="describe">The input of a case, for the failure message.</param>
    public static void Run(int fixedCases, int randomCases, Action<int> check, Func<int, string> describe,
        [System.Runtime.CompilerServices.CallerMemberName] string spec = "")
    {
        if (Environment.GetEnvironmentVariable("DURAR_FUZZ_CASE") is { Length: > 0 } only && int.TryParse(only, out var single))
        {
            Checked(single, check, describe);
            return;
        }
        for (var i = 0; i < fixedCases; i++) Checked(i, check, describe);
        foreach (var i in Draw(fixedCases, randomCases, spec)) Checked(i, check, describe);
    }

    /// <summary>The asynchronous form of <see cref="Run"/> (cases run one after another).</summary>
    public static async Task RunAsync(int fixedCases, int randomCases, Func<int, Task> check, Func<int, string> describe,
        [System.Runtime.CompilerServices.CallerMemberName] string spec = "")
    {
        if (Environment.GetEnvironmentVariable("DURAR_FUZZ_CASE") is { Length: > 0 } only && int.TryParse(only, out var single))
        {
            await CheckedAsync(single, check, describe);
            return;
        }
        for (var i = 0; i < fixedCases; i++) await CheckedAsync(i, check, describe);
        foreach (var i in Draw(fixedCases, randomCases, spec)) await CheckedAsync(i, check, describe);
    }

    private static void Checked(int i, Action<int> check, Func<int, string> describe)
    {
        try
        {
            check(i);
        }
        catch (Exception e)
        {
            throw new FuzzCaseFailedException($"fuzz case {i} failed (replay with DURAR_FUZZ_CASE={i}; run seed {Seed}): {e.Message}\n--- input ---\n{Clip(describe(i))}\n--- exception ---\n{e}");
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
            throw new FuzzCaseFailedException($"fuzz case {i} failed (replay with DURAR_FUZZ_CASE={i}; run seed {Seed}): {e.Message}\n--- input ---\n{Clip(describe(i))}\n--- exception ---\n{e}");
        }
    }

    private static string Clip(string s) => s.Length <= 4000 ? s : s[..4000] + $"… ({s.Length} chars)";
}

/// <summary>A fuzz case that failed: the message names the case number to replay and shows its input.</summary>
public sealed class FuzzCaseFailedException(string message) : Exception(message);
