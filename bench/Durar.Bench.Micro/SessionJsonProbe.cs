using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Durar.Actors;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Messages;
using Durar.Persistence.Serialization;

namespace Durar.Bench.Micro;

/// <summary>
/// What a session turn's journal payloads cost to write (issue 17): the user message and the reply, serialized as the
/// journal does (<see cref="DurarJson.Options"/>: the session events' compile-time contracts) against the same options with
/// every contract by reflection (as before <see cref="DurarSessionJsonContext"/>), interleaved in one process, ROUNDS rounds
/// of N turns each; prints ns and bytes allocated per turn for each.
/// <c>dotnet run -c Release --project bench/Durar.Bench.Micro -- session-json [N]</c>.
/// </summary>
internal static class SessionJsonProbe
{
    private const int Rounds = 5;

    public static int Run(int n)
    {
        var reflection = new JsonSerializerOptions(DurarJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        reflection.MakeReadOnly();
        var at = DateTimeOffset.UtcNow;
        IDurarPersistable[] turn =
        [
            new SessionEvents.UserMessageAccepted(at, "Tell me about the tides, briefly.") { RunId = "run_0123456789abcdef01234567" },
            new SessionEvents.AssistantReplied(at, "The moon's pull raises the water on the near and the far side of the earth.", "bench/m",
                "bench:key-0", new TokenUsage(1200, 40), 0.000123m) { ReplyTo = 41, InputTokens = 1190, RunIds = ["run_0123456789abcdef01234567"] },
        ];
        foreach (var options in new[] { reflection, DurarJson.Options }) Measure(turn, options, 20_000); // warm-up (JIT, tiering)
        Console.WriteLine("round  reflection ns/turn  B/turn   generated ns/turn  B/turn");
        for (var round = 1; round <= Rounds; round++)
        {
            var (rNs, rB) = Measure(turn, reflection, n);
            var (gNs, gB) = Measure(turn, DurarJson.Options, n);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5}  {rNs,18:F0}  {rB,6:F0}   {gNs,17:F0}  {gB,6:F0}"));
        }
        return 0;
    }

    private static (double Ns, double Bytes) Measure(IDurarPersistable[] turn, JsonSerializerOptions options, int n)
    {
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var length = 0;
        for (var i = 0; i < n; i++)
            foreach (var e in turn) length += JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), options).Length;
        clock.Stop();
        GC.KeepAlive(length);
        return (clock.Elapsed.TotalNanoseconds / n, (GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)n);
    }
}
