using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Durar.Testing;

namespace Durar.Api.Tests.Durability;

/// <summary>
/// The gateway as a real, separate operating-system process (<c>dotnet Durar.Api.dll --config --port --data-dir</c>, plus
/// any extra arguments such as <c>--cluster-port</c> and <c>--seed</c>), so a test can SIGKILL it (no graceful shutdown, no
/// flushing, no finalizers, exactly what a crash or an OOM kill does) or SIGTERM it (what an orchestrator does to stop it).
/// Its stdout/stderr go to a shared <see cref="GatewayLog"/> the test prints.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly GatewayLog _log;
    private readonly string _name;

    private GatewayProcess(Process process, GatewayLog log, string name, Uri baseUri)
    {
        _process = process;
        _log = log;
        _name = name;
        BaseUri = baseUri;
        Http = new HttpClient(new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.Zero, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public string Name => _name;
    /// <summary>The log this process writes to (shared with the test and other processes; its clock is the test's time line).</summary>
    public GatewayLog Log => _log;
    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the gateway on a free loopback port (or <paramref name="port"/>) and waits (bounded) until it serves HTTP and its
    /// actors answer. <paramref name="extraArgs"/> follow the standard ones on the command line.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string name, string configPath, string dataDir, string workDir, GatewayLog log,
        TimeSpan readyTimeout, IReadOnlyList<string>? extraArgs = null, int? port = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Durar.Api.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference Durar.Api");
        var httpPort = port ?? FreePort();
        var start = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = workDir,
        };
        foreach (var arg in new[] { dll, "--config", configPath, "--port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDir })
            start.ArgumentList.Add(arg);
        foreach (var arg in extraArgs ?? []) start.ArgumentList.Add(arg);
        // Nothing from the test runner's environment may steer the gateway: only the command line above.
        foreach (var variable in new[] { "DURAR_CONFIG", "DURAR_PORT", "DURAR_DATA_DIR", "DURAR_GATEWAY_TOKEN", "DURAR_CLUSTER_PORT", "DURAR_SEED_NODES",
                     "ASPNETCORE_URLS", "DOTNET_URLS", "DURAR_LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                     "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" })
            start.Environment.Remove(variable);
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>()) start.Environment[variable] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Add(name, e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Add(name + "!", e.Data); };
        if (!process.Start()) throw new InvalidOperationException("could not start the gateway process");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.Add("test", $"{name}: started pid {process.Id} on port {httpPort}");

        var gateway = new GatewayProcess(process, log, name, new Uri($"http://127.0.0.1:{httpPort}/"));
        try
        {
            await gateway.WaitUntilReadyAsync(readyTimeout);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            await Eventually.Until(async () =>
                {
                    if (_process.HasExited)
                        throw new InvalidOperationException($"{_name} exited with code {_process.ExitCode} before it was ready:\n{_log.Tail(80)}");
                    using var health = await probe.GetAsync("healthz");
                    if (health.StatusCode != HttpStatusCode.OK) return $"healthz {(int)health.StatusCode}";
                    // Kestrel is up; the admin API also needs the provider registry and its key actors (recovered from the journal).
                    using var providers = await probe.GetAsync("v1/admin/providers");
                    return $"admin providers {(int)providers.StatusCode}";
                },
                state => state == "admin providers 200", $"{_name} ready", timeout, TimeSpan.FromMilliseconds(100),
                retryOn: e => e is HttpRequestException or TaskCanceledException); // not listening yet
        }
        catch (EventuallyException e)
        {
            throw new TimeoutException($"{e.Message}\n{_log.Tail(80)}", e);
        }
        _log.Add("test", $"{_name}: ready after {watch.Elapsed.TotalSeconds:0.0}s");
    }

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux and macOS), then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _log.Add("test", $"{_name}: SIGKILL sent to pid {_process.Id}");
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(cts.Token);
        _log.Add("test", $"{_name}: exited with {(_process.ExitCode == 137 || _process.ExitCode == -1 ? "SIGKILL" : "code")} {_process.ExitCode}");
    }

    /// <summary>SIGTERM, what an orchestrator sends to stop a process gracefully; returns at once (see <see cref="WaitForExitAsync"/>).</summary>
    public void Terminate()
    {
        if (_process.HasExited) return;
        if (SendSignal(_process.Id, SigTerm) != 0)
            throw new InvalidOperationException($"{_name}: kill(SIGTERM) failed with errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        _log.Add("test", $"{_name}: SIGTERM sent to pid {_process.Id}");
    }

    /// <summary>Waits (bounded) until the process has exited; returns its exit code, or null when it is still running.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        _log.Add("test", $"{_name}: exited with code {_process.ExitCode}");
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited) await KillAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            _log.Add("test", $"{_name}: could not stop: {e.Message}");
        }
        _process.Dispose();
    }

    /// <summary>The muxer that runs the tests (set by the dotnet CLI), else the test host itself when it is dotnet, else PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    /// <summary>A TCP port free on 127.0.0.1 for a server started next (HTTP or Akka remoting): see <see cref="LoopbackPorts"/>.</summary>
    public static int FreePort() => LoopbackPorts.Next();
}

/// <summary>The gateway processes' console output and the test's own milestones, in arrival order (thread-safe).</summary>
internal sealed class GatewayLog
{
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(TimeSpan At, string Source, string Text)> _entries = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The log's clock: time since it was created (every line is stamped with it).</summary>
    public TimeSpan Now => _clock.Elapsed;

    public void Add(string source, string line)
    {
        lock (_gate)
        {
            var at = _clock.Elapsed;
            _entries.Add((at, source, line));
            _lines.Add($"{at.TotalSeconds,7:0.000} [{source}] {line}");
        }
    }

    /// <summary>When the first line from <paramref name="source"/> at or after <paramref name="since"/> matching <paramref name="match"/> arrived.</summary>
    public TimeSpan? FirstAt(string source, TimeSpan since, Func<string, bool> match)
    {
        lock (_gate)
            foreach (var (at, from, text) in _entries)
                if (at >= since && from == source && match(text))
                    return at;
        return null;
    }

    /// <summary>The lines <paramref name="source"/> wrote, as written (no time stamp, no source).</summary>
    public IReadOnlyList<string> TextsFrom(string source)
    {
        lock (_gate) return _entries.Where(e => e.Source == source).Select(e => e.Text).ToList();
    }

    public string Tail(int count)
    {
        lock (_gate) return string.Join("\n", _lines.Skip(Math.Max(0, _lines.Count - count)));
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate) return _lines.ToArray();
        }
    }
}
