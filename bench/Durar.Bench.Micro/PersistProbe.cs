using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Persistence;
using Durar.Persistence;

namespace Durar.Bench.Micro;

/// <summary>
/// One <c>Persist</c> round trip at concurrency 1 on the gateway's SQLite wiring (<see cref="DurarPersistence.Hocon"/>
/// and <see cref="DurarPersistence.SqliteSetup"/>): an Ask to one of 20 persistent actors, which persists the message and
/// answers from its handler; warm-up 1,000, then N timed one after another. What a session turn pays per journal write.
/// <c>dotnet run -c Release --project bench/Durar.Bench.Micro -- persist [N]</c>; prints p25/p50/p75/p90 in µs.
/// </summary>
internal static class PersistProbe
{
    public static async Task<int> RunAsync(int n)
    {
        var dir = Path.Combine(Path.GetTempPath(), "durar-persist-probe-" + Guid.NewGuid().ToString("N"));
        var options = PersistenceOptions.Sqlite(dir);
        var connectionString = options.PrepareConnectionString();
        var system = ActorSystem.Create("persist-probe", ActorSystemSetup.Create(
            BootstrapSetup.Create().WithConfig(DurarPersistence.Hocon(options)), DurarPersistence.SqliteSetup(options, connectionString)!));
        try
        {
            var actors = Enumerable.Range(0, 20).Select(i => system.ActorOf(Props.Create(() => new Writer("probe-" + i)))).ToArray();
            var timeout = TimeSpan.FromSeconds(30);
            for (var i = 0; i < 1_000; i++) await actors[i % actors.Length].Ask<long>("warm", timeout);
            var times = new double[n];
            for (var i = 0; i < n; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await actors[i % actors.Length].Ask<long>("event", timeout);
                times[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
            Array.Sort(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"persist round trip c=1 over {n}: p25 {times[n / 4]:F0} p50 {times[n / 2]:F0} p75 {times[3 * n / 4]:F0} p90 {times[9 * n / 10]:F0} us"));
            return 0;
        }
        finally
        {
            await system.Terminate();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temp dir is not worth failing the probe
            }
        }
    }

    private sealed class Writer : ReceivePersistentActor
    {
        public Writer(string id)
        {
            PersistenceId = id;
            Recover<string>(_ => { });
            Command<string>(text =>
            {
                var replyTo = Sender;
                Persist(text, _ => replyTo.Tell(LastSequenceNr));
            });
        }

        public override string PersistenceId { get; }
    }
}
