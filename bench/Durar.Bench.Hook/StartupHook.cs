using System.Diagnostics;
using System.Globalization;

/// <summary>
/// Loaded by the runtime before <c>Main</c> when <c>DOTNET_STARTUP_HOOKS</c> names this assembly. If
/// <c>DURAR_BENCH_FIFO</c> names a directory holding two FIFOs, <c>req</c> and <c>resp</c>, a background thread answers
/// each line written to <c>req</c> with one line on <c>resp</c>:
/// <list type="bullet">
/// <item><c>snap</c>: the GC counters now;</item>
/// <item><c>gc</c>: a full, compacting, aggressive (decommitting) collection first, then the counters.</item>
/// </list>
/// The answer is <c>allocated=B heap=B committed=B gen0=N gen1=N gen2=N pause_ms=F rss=B</c>. It blocks on the FIFO
/// between requests: no polling, no allocation while idle.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var dir = Environment.GetEnvironmentVariable("DURAR_BENCH_FIFO");
        if (string.IsNullOrEmpty(dir)) return;
        var thread = new Thread(() => Serve(Path.Combine(dir, "req"), Path.Combine(dir, "resp")))
        {
            IsBackground = true,
            Name = "durar-bench-hook",
        };
        thread.Start();
    }

    private static void Serve(string request, string response)
    {
        while (true)
        {
            string? line;
            try
            {
                using (var reader = new StreamReader(request)) line = reader.ReadLine();
                if (line is null) continue;
                line = line.Trim();
                if (line == "gc")
                {
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }
                var answer = line is "snap" or "gc" ? Snapshot() : "error=unknown-command";
                using var writer = new StreamWriter(response);
                writer.WriteLine(answer);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("durar-bench-hook: " + e.Message);
                Thread.Sleep(1000);
            }
        }
    }

    private static string Snapshot()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        using var self = Process.GetCurrentProcess();
        return string.Create(CultureInfo.InvariantCulture,
            $"allocated={GC.GetTotalAllocatedBytes(true)} heap={GC.GetTotalMemory(false)} committed={info.TotalCommittedBytes} " +
            $"gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} " +
            $"pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:0.0} rss={self.WorkingSet64}");
    }
}
