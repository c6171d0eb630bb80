using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace Durar.Testing;

/// <summary>
/// The PostgreSQL server the tests of one process share. <see cref="StartOrUseAsync"/> uses the server named by
/// <c>DURAR_TEST_POSTGRES</c> (which <c>.ci/run</c> starts and exports); without it, it starts a private throwaway server
/// from the installed binaries (<c>initdb</c>/<c>pg_ctl</c> in a temp dir, a free loopback port, trust auth), once per test
/// process, stopped when the process exits. Each test then takes its own database from <see cref="CreateDatabaseAsync"/>,
/// so tests never see each other's tables.
/// </summary>
/// <remarks>
/// When neither the variable nor the binaries exist, <see cref="StartOrUseAsync"/> throws with the ways to provide
/// PostgreSQL: these tests fail rather than skip.
/// </remarks>
public sealed class PostgresServer
{
    /// <summary>The environment variable holding an ADO.NET connection string to an existing server (a user that may CREATE DATABASE).</summary>
    public const string EnvironmentVariable = "DURAR_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartOrUseCoreAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private PostgresServer(string connectionString, string? privateDirectory)
    {
        ConnectionString = connectionString;
        PrivateDirectory = privateDirectory;
    }

    /// <summary>A connection string to the server's maintenance database; use <see cref="CreateDatabaseAsync"/> for a test's own database.</summary>
    public string ConnectionString { get; }

    /// <summary>The temp directory of the server this process started, or null when it uses <see cref="EnvironmentVariable"/>.</summary>
    public string? PrivateDirectory { get; }

    /// <summary>
    /// The process's shared server: the one in <see cref="EnvironmentVariable"/>, else a private one started on first call.
    /// A failed start is remembered, so every later caller fails at once with the same message.
    /// </summary>
    /// <exception cref="InvalidOperationException">No PostgreSQL is available; the message says how to provide one.</exception>
    public static Task<PostgresServer> StartOrUseAsync() => Shared.Value;

    /// <summary>A fresh, empty database <c>durar_&lt;guid&gt;</c> on this server; disposing it drops it.</summary>
    public async Task<PostgresDatabase> CreateDatabaseAsync()
    {
        var name = $"durar_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
        return new PostgresDatabase(this, name, connectionString);
    }

    internal async Task DropDatabaseAsync(string name, string connectionString)
    {
        // The test's pooled connections (Akka.Persistence.Sql keeps some) would otherwise hold the database open.
        await using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<PostgresServer> StartOrUseCoreAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            await EnsureReachableAsync(configured, $"the server in {EnvironmentVariable} (\"{configured}\")");
            return new PostgresServer(configured, null);
        }

        return await PrivateServer.StartAsync();
    }

    private static async Task EnsureReachableAsync(string connectionString, string what)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new InvalidOperationException($"PostgreSQL tests: cannot connect to {what}: {e.Message}", e);
        }
    }

    private static string HowToProvide(string problem) =>
        $"""
        PostgreSQL tests need a PostgreSQL server, and {problem}. Provide one of:
          - run `bash .ci/run` once: it installs PostgreSQL from Debian packages when missing (apt-get install postgresql) and
            starts a private server for the run; afterwards plain `dotnet test` starts its own private server from those binaries;
          - install the server binaries yourself (Debian/Ubuntu: `sudo apt-get install postgresql`; initdb and pg_ctl must be in
            /usr/lib/postgresql/<version>/bin or on PATH), so the tests start a private throwaway server;
          - set {EnvironmentVariable} to a connection string of a running server whose user may CREATE DATABASE, e.g.
            {EnvironmentVariable}="Host=127.0.0.1;Port=5432;Database=postgres;Username=postgres".
        """;

    /// <summary>A private server: initdb and pg_ctl in a temp dir, run as the postgres user when we are root.</summary>
    private static class PrivateServer
    {
        private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

        public static async Task<PostgresServer> StartAsync()
        {
            if (OperatingSystem.IsWindows())
            {
                throw new InvalidOperationException(HowToProvide($"{EnvironmentVariable} is not set and a private server is only started on Unix"));
            }

            var bin = FindBinaries() ?? throw new InvalidOperationException(HowToProvide(
                $"{EnvironmentVariable} is not set and no PostgreSQL server binaries (initdb, pg_ctl) were found in /usr/lib/postgresql/*/bin or on PATH"));
            var asRoot = Environment.UserName == "root";
            if (asRoot && !File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException(HowToProvide(
                    "the tests run as root but there is no postgres user to run a private server as (initdb refuses root)"));
            }

            // Short path: the unix socket lives in it and socket paths are limited to about 100 characters.
            var dir = Path.Combine(Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath(), $"durar-pg-{Guid.NewGuid():N}"[..20]);
            var data = Path.Combine(dir, "data");
            var log = Path.Combine(dir, "server.log");
            var stopwatch = Stopwatch.StartNew();
            try
            {
                if (asRoot)
                {
                    await RunAsync("runuser", ["-u", "postgres", "--", "mkdir", "-m", "700", dir]);
                }
                else
                {
                    Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                // --no-sync and fsync=off: a throwaway server, durability against power loss is not worth the time.
                await RunAsOwnerAsync(asRoot, Path.Combine(bin, "initdb"),
                    ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);

                string? lastError = null;
                for (var attempt = 0; attempt < 3; attempt++)
                {
                    var port = FreePort();
                    try
                    {
                        // -l: the server writes to a file, so it never holds the test host's stdout/stderr open.
                        await RunAsOwnerAsync(asRoot, Path.Combine(bin, "pg_ctl"),
                        [
                            "-D", data, "-l", log, "-w", "-t", "60",
                            "-o", $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                            "start",
                        ]);
                    }
                    catch (InvalidOperationException e)
                    {
                        lastError = e.Message + Environment.NewLine + Tail(log);
                        continue;
                    }

                    StopAtExit(dir, data);
                    var connectionString = $"Host=127.0.0.1;Port={port};Database=postgres;Username=postgres";
                    await EnsureReachableAsync(connectionString, $"the private server in {dir}");
                    Console.WriteLine($"PostgresServer: private server on 127.0.0.1:{port} ({dir}) started in {stopwatch.Elapsed.TotalSeconds:0.0} s");
                    return new PostgresServer(connectionString, dir);
                }

                throw new InvalidOperationException($"PostgreSQL tests: the private server in {dir} did not start: {lastError}");
            }
            catch
            {
                TryDelete(dir);
                throw;
            }
        }

        /// <summary>The newest /usr/lib/postgresql/&lt;version&gt;/bin with initdb and pg_ctl, else the PATH directory that has them.</summary>
        private static string? FindBinaries()
        {
            static bool Exists(string file)
            {
                // A symlink left behind by an uninstalled package "exists" itself; what counts is its target.
                var info = new FileInfo(file);
                return info.LinkTarget is null ? info.Exists : info.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true;
            }

            static bool Has(string d) => Exists(Path.Combine(d, "initdb")) && Exists(Path.Combine(d, "pg_ctl"));

            if (Directory.Exists("/usr/lib/postgresql"))
            {
                var debian = Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(v => (Version: int.TryParse(Path.GetFileName(v), out var n) ? n : -1, Bin: Path.Combine(v, "bin")))
                    .Where(v => Has(v.Bin))
                    .OrderByDescending(v => v.Version)
                    .Select(v => v.Bin)
                    .FirstOrDefault();
                if (debian is not null) return debian;
            }

            return (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(Has);
        }

        private static int FreePort() => LoopbackPorts.Next();

        /// <summary>
        /// Stops the server when this process exits: at once on a normal exit, and through a detached watchdog when the
        /// process is killed (a test host killed on a hang must not leave a server behind).
        /// </summary>
        private static void StopAtExit(string dir, string data)
        {
            var pidFile = Path.Combine(data, "postmaster.pid");
            var watchdog = $$"""
                exec </dev/null >/dev/null 2>&1
                while kill -0 {{Environment.ProcessId}}; do sleep 1; done
                if [ -f '{{pidFile}}' ]; then
                  pid=$(head -n 1 '{{pidFile}}')
                  kill -QUIT "$pid"
                  for i in $(seq 1 100); do [ -f '{{pidFile}}' ] && kill -0 "$pid" || break; sleep 0.1; done
                fi
                rm -rf '{{dir}}'
                """;
            try
            {
                var start = new ProcessStartInfo(File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "/bin/sh") { UseShellExecute = false };
                if (start.FileName != "/bin/sh") start.ArgumentList.Add("/bin/sh");
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(watchdog);
                using var process = Process.Start(start);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                // The exit handler below still stops it on a normal exit.
            }

            // The test host gets little time to exit (vstest kills it soon after the run), so no waiting here: SIGQUIT is
            // PostgreSQL's immediate shutdown, and the watchdog deletes the directory once the server is gone.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    if (int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) && pid > 0)
                    {
                        _ = Kill(pid, SigQuit);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Already gone, or the watchdog stops it.
                }
            };
        }

        private const int SigQuit = 3;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);

        private static Task RunAsOwnerAsync(bool asRoot, string file, IReadOnlyList<string> arguments) =>
            asRoot ? RunAsync("runuser", ["-u", "postgres", "--", file, .. arguments]) : RunAsync(file, arguments);

        private static async Task RunAsync(string file, IReadOnlyList<string> arguments)
        {
            var start = new ProcessStartInfo(file)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(CommandTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds} s");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:{Environment.NewLine}{await stdout}{await stderr}");
            }
        }

        private static string Tail(string file)
        {
            try
            {
                return File.Exists(file) ? string.Join(Environment.NewLine, File.ReadLines(file).TakeLast(20)) : "";
            }
            catch (IOException)
            {
                return "";
            }
            catch (UnauthorizedAccessException)
            {
                return "";
            }
        }

        private static void TryDelete(string dir)
        {
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover temp dir must not fail a test run.
            }
        }
    }
}

/// <summary>One test's own database on a <see cref="PostgresServer"/>; disposing it drops it (connections included).</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly PostgresServer _server;

    internal PostgresDatabase(PostgresServer server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The database name, <c>durar_&lt;guid&gt;</c>.</summary>
    public string Name { get; }

    /// <summary>The server's connection string with <c>Database</c> set to <see cref="Name"/>.</summary>
    public string ConnectionString { get; }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DropDatabaseAsync(Name, ConnectionString);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            // Best effort: a throwaway server goes away anyway, and a leftover database must not fail a test.
        }
    }
}
