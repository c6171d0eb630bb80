using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// How sessions are hosted and how their replies travel: the shard count (<c>gateway.sessions.shards</c>), and each
/// reply stream's buffer and stall limit (<c>replyBuffer</c>, <c>replyStallTimeout</c>). It exists so the session shard
/// region and the session actor read these knobs from <c>durar.conf</c> instead of holding them as constants.
/// </summary>
/// <param name="Shards">Shards the session entities are spread over (the same number on every node).</param>
/// <param name="ReplyBuffer">Events buffered per subscriber of a reply before the run waits for that reader.</param>
/// <param name="ReplyStallTimeout">How long one subscriber may hold a run up by taking no event before it is dropped.</param>
public sealed record SessionHostingSettings(int Shards, int ReplyBuffer, TimeSpan ReplyStallTimeout)
{
    private const string Path = "gateway.sessions";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly SessionHostingSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing, malformed or out of range; the message names its key path.</exception>
    public static SessionHostingSettings Read(Config config)
    {
        var sessions = Child(Child(config.Root, "gateway"), "sessions");
        return new SessionHostingSettings(
            Count(sessions, "shards", 1, 100_000),
            Count(sessions, "replyBuffer", 1, 1_000_000),
            RequiredPositiveDuration(config, $"{Path}.replyStallTimeout"));
    }

    private static int Count(Akka.Configuration.Hocon.HoconValue? sessions, string key, int min, int max)
    {
        var n = Long(sessions, key, Path) ?? throw new DurarConfigException($"{Path}.{key}", "is required");
        return n >= min && n <= max ? (int)n : throw new DurarConfigException($"{Path}.{key}", $"must be between {min} and {max} (got {n})");
    }
}
