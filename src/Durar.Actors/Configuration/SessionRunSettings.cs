using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// The runs of a session (<c>gateway.sessions.runs</c>): how many recent runs a session remembers (their status, and the
/// <c>Idempotency-Key</c> each came with), how long a key answers with its first run, and the longest wait a client may
/// ask for on <c>GET /v1/sessions/{key}/runs/{runId}?wait=</c>. It exists so the session actor and the HTTP layer read
/// these bounds from <c>durar.conf</c>.
/// </summary>
/// <param name="Keep">Runs remembered per session (journaled with the turns, so across restarts); the oldest ended ones go first.</param>
/// <param name="IdempotencyTtl">How long a repeated <c>Idempotency-Key</c> returns its first run instead of running again.</param>
/// <param name="MaxWait">Longest <c>?wait=</c> a run status request waits for the run's end (a longer one is capped to it).</param>
public sealed record SessionRunSettings(int Keep, TimeSpan IdempotencyTtl, TimeSpan MaxWait)
{
    private const string Path = "gateway.sessions.runs";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly SessionRunSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing, malformed or out of range; the message names its key path.</exception>
    public static SessionRunSettings Read(Config config)
    {
        var runs = Child(Child(Child(config.Root, "gateway"), "sessions"), "runs");
        var keep = Long(runs, "keep", Path) ?? throw new DurarConfigException($"{Path}.keep", "is required");
        if (keep is < 10 or > 100_000) throw new DurarConfigException($"{Path}.keep", $"must be between 10 and 100000 (got {keep})");
        return new SessionRunSettings((int)keep,
            RequiredPositiveDuration(config, $"{Path}.idempotencyTtl"),
            RequiredPositiveDuration(config, $"{Path}.maxWait"));
    }
}
