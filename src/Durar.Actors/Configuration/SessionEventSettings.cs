using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// The live event stream of a session (<c>gateway.sessions.events</c>, <c>GET /v1/sessions/{key}/events</c>): how many events
/// one watcher may fall behind before it is dropped (so a slow watcher never slows the run), and how many journaled events
/// a resume with <c>Last-Event-ID</c> replays at most. It exists so the session actor and the HTTP layer read these bounds
/// from <c>durar.conf</c>.
/// </summary>
/// <param name="WatcherBuffer">Events buffered for one watcher; one more and the watcher is cut with a final <c>dropped</c> event.</param>
/// <param name="ReplayMax">Most journaled events a resume replays; an older <c>Last-Event-ID</c> gets a <c>gap</c> event first.</param>
public sealed record SessionEventSettings(int WatcherBuffer, int ReplayMax)
{
    private const string Path = "gateway.sessions.events";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly SessionEventSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing, malformed or out of range; the message names its key path.</exception>
    public static SessionEventSettings Read(Config config)
    {
        var events = Child(Child(Child(config.Root, "gateway"), "sessions"), "events");
        var buffer = Long(events, "watcherBuffer", Path) ?? throw new DurarConfigException($"{Path}.watcherBuffer", "is required");
        if (buffer is < 1 or > 100_000) throw new DurarConfigException($"{Path}.watcherBuffer", $"must be between 1 and 100000 (got {buffer})");
        var replay = Long(events, "replayMax", Path) ?? throw new DurarConfigException($"{Path}.replayMax", "is required");
        if (replay is < 0 or > 1_000_000) throw new DurarConfigException($"{Path}.replayMax", $"must be between 0 and 1000000 (got {replay})");
        return new SessionEventSettings((int)buffer, (int)replay);
    }
}
