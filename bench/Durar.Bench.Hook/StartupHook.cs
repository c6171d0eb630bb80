using System.Diagnostics;
using System.Globalization;

/// <summary>
/// Loaded by the runtime before <c>Main</c> when <c>DOTNET_STARTUP_HOOKS</c> names this assembly. If
/// <c>DURAR_BENCH_FIFO</c> names a directory holding two FIFOs, <c>req</c> and <c>resp</c>, a background thread answers
/// each line written to <c>req</c> with one line on <c>resp</c>:
/// <list type="bullet">
/// <item><c>snap</c>: the GC counters now;</item>
/// <item><c>gc</c>: a full, compacting, aggressive (decommitting) collection first, then the counters;</item>
/// <item><c>allocs</c>: the allocation sample since the previous <c>allocs</c> (or the start), by type, largest first, as
/// one <c>type=bytes</c> word each on one line (<c>DURAR_BENCH_ALLOCS=1</c> only: the runtime's AllocationTick event, one
/// sample per ~100 KB allocated, listened to in process).</item>
/// </list>
/// With <c>DURAR_BENCH_TIMELINE</c> naming a file, another background thread appends the counters to it every 500 ms,
/// each line prefixed with <c>ms=</c> (Unix time in milliseconds) and, with the allocation sample on, followed by
/// <c>ticked=B</c> (the AllocationTick bytes so far) and <c>heaps=</c> (the GC heaps that allocated since the previous
/// line, one bit per heap index, binary): a timeline of one run, to place what a phase's totals hide.
/// <c>allocated</c> is <see cref="SteadyAllocationCounter"/>'s: the runtime's own count, <c>allocated_raw</c>, jumps by
/// gigabytes when the server GC changes its number of heaps (below).
/// The answer is <c>allocated=B allocated_raw=B alloc_steps=N alloc_steps_bytes=B heap=B committed=B gen0=N gen1=N
/// gen2=N pause_ms=F rss=B tp_items=N threads=N tp_threads=N allocated_imprecise=B jit_methods=N jit_ms=F eph_gen=N eph_promoted=B eph_pause_ms=F eph_gen0_before=B gc_index=N</c>
/// (the methods the JIT compiled so far, every tier, and its time; the last ephemeral GC's generation, promoted bytes,
/// pause and generation 0's size before it; the index of the last GC of any kind). The FIFO thread blocks between
/// requests; one more thread reads the runtime's allocated count every 100 ms for the steady count (a read that
/// allocates nothing), on a thread of its own rather than a timer so that a busy thread pool cannot hold it back.
/// </summary>
internal static class StartupHook
{
    private static AllocationSampler? _allocs;
    private static readonly SteadyAllocationCounter Steady = new();

    public static void Initialize()
    {
        var dir = Environment.GetEnvironmentVariable("DURAR_BENCH_FIFO");
        if (string.IsNullOrEmpty(dir)) return;
        if (Environment.GetEnvironmentVariable("DURAR_BENCH_ALLOCS") == "1") _allocs = new AllocationSampler();
        var thread = new Thread(() => Serve(Path.Combine(dir, "req"), Path.Combine(dir, "resp")))
        {
            IsBackground = true,
            Name = "durar-bench-hook",
        };
        thread.Start();
        new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(SteadyAllocationCounter.Interval);
                Steady.Sample();
            }
        }) { IsBackground = true, Name = "durar-bench-allocated" }.Start();
        var timeline = Environment.GetEnvironmentVariable("DURAR_BENCH_TIMELINE");
        if (string.IsNullOrEmpty(timeline)) return;
        new Thread(() => Record(timeline)) { IsBackground = true, Name = "durar-bench-timeline" }.Start();
    }

    private static void Record(string path)
    {
        using var writer = new StreamWriter(path, append: true) { AutoFlush = true };
        while (true)
        {
            var ticked = _allocs is { } a ? $" ticked={a.Ticked} heaps={Convert.ToString(a.TakeHeaps(), 2)}" : "";
            writer.WriteLine($"ms={DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()} {Snapshot()}{ticked}");
            Thread.Sleep(500);
        }
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
                var answer = line is "snap" or "gc" ? Snapshot()
                    : line == "allocs" ? _allocs?.TakeReport() ?? "error=allocs-off (DURAR_BENCH_ALLOCS=1)"
                    : "error=unknown-command";
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
        var eph = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        using var self = Process.GetCurrentProcess();
        var (steady, steps, skipped) = Steady.Sample();
        return string.Create(CultureInfo.InvariantCulture,
            $"allocated={steady} allocated_raw={GC.GetTotalAllocatedBytes(true)} alloc_steps={steps} alloc_steps_bytes={skipped} heap={GC.GetTotalMemory(false)} committed={info.TotalCommittedBytes} " +
            $"gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} " +
            $"pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:0.0} rss={self.WorkingSet64} tp_items={ThreadPool.CompletedWorkItemCount} " +
            $"threads={self.Threads.Count} tp_threads={ThreadPool.ThreadCount} allocated_imprecise={GC.GetTotalAllocatedBytes(false)} " +
            $"jit_methods={System.Runtime.JitInfo.GetCompiledMethodCount()} jit_ms={System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0.0} " +
            $"eph_gen={eph.Generation} eph_promoted={eph.PromotedBytes} eph_pause_ms={(eph.PauseDurations.Length > 0 ? eph.PauseDurations[0].TotalMilliseconds : 0):0.00} " +
            $"eph_gen0_before={(eph.GenerationInfo.Length > 0 ? eph.GenerationInfo[0].SizeBeforeBytes : 0)} gc_index={info.Index}");
    }
}

/// <summary>Tallies the runtime's AllocationTick events (GC keyword, verbose) by type name.</summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _bytes = [];
    private readonly object _gate = new();
    private long _ticked;
    private long _heaps;

    /// <summary>The GC heaps (a bit per heap index) that raised an AllocationTick since the previous call: Server GC's
    /// dynamic adaptation (DATAS) changes how many heaps take allocations with the load.</summary>
    public long TakeHeaps() => Interlocked.Exchange(ref _heaps, 0);

    /// <summary>The AllocationTick bytes since the start (never reset).</summary>
    public long Ticked => Interlocked.Read(ref _ticked);

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a], CultureInfo.InvariantCulture) : 0;
        lock (_gate) _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        Interlocked.Add(ref _ticked, amount);
        if (e.PayloadNames.IndexOf("HeapIndex") is var h and >= 0 && Convert.ToInt32(e.Payload![h], CultureInfo.InvariantCulture) is var heap and >= 0 and < 64)
            Interlocked.Or(ref _heaps, 1L << heap);
    }

    public string TakeReport()
    {
        lock (_gate)
        {
            var total = _bytes.Values.Sum();
            var report = $"total={total} " + string.Join(' ', _bytes.OrderByDescending(p => p.Value).Take(60).Select(p => $"{p.Key.Replace(' ', '_')}={p.Value}"));
            _bytes.Clear();
            return report;
        }
    }
}

/// <summary>
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/> without its steps. With the server GC's dynamic adaptation (DATAS, on by
/// default since .NET 9) the runtime's count behaves as if it covered only the heaps in use (as observed in the bench's
/// timeline, not read in the runtime's source): when the GC drops from two heaps to one, the
/// count falls by everything the other heap ever allocated (1.3-3.4 GB in bench runs), and rises by as much when the heap
/// comes back, while allocation itself goes on as before (the AllocationTick events show no step; bench/RESULTS.md,
/// "The tN allocation growth, found"). A phase that starts inside such a dip and ends after it was charged gigabytes it
/// never allocated. This counter samples the runtime's count every <see cref="Interval"/> and adds only the plausible
/// increments: a fall is a step, and so is a rise faster than <see cref="MaxBytesPerMs"/> (3 x the fastest this gateway
/// allocates on 2 cores, ~0.3 GB/s). What a step's interval really allocated is lost: at most one interval of allocation
/// per heap change.
/// </summary>
internal sealed class SteadyAllocationCounter
{
    public const int Interval = 100;
    private const long MaxBytesPerMs = 1 << 20;

    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _last = GC.GetTotalAllocatedBytes(true);
    private long _lastMs;
    private long _steady;
    private int _steps;
    private long _stepBytes;

    /// <summary>Reads the runtime's count and adds its increment since the previous read, unless it is a step.</summary>
    public (long Steady, int Steps, long StepBytes) Sample()
    {
        lock (_gate)
        {
            var raw = GC.GetTotalAllocatedBytes(true);
            var now = _clock.ElapsedMilliseconds;
            var delta = raw - _last;
            if (delta >= 0 && delta <= Math.Max(now - _lastMs, 1) * MaxBytesPerMs) _steady += delta;
            else
            {
                _steps++;
                _stepBytes += Math.Abs(delta);
            }
            (_last, _lastMs) = (raw, now);
            return (_steady, _steps, _stepBytes);
        }
    }
}
