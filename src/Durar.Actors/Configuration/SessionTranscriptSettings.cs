using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// How much of a session's transcript stays resident (in the session actor's memory and in its snapshots),
/// <c>gateway.sessions.transcript.keepResident</c>. Older entries leave memory and snapshots and stay in the journal, where
/// the sessions API reads them on demand; what the next turn sends (the entries after the latest compaction summary, or
/// with none the newest entries up to <see cref="KeepTokens"/>) and the running turn always stay resident. It exists so a
/// long session's memory and snapshot size are bounded (issue 13).
/// </summary>
/// <param name="KeepEntries">The newest entries always kept resident.</param>
/// <param name="KeepTokens">With no compaction summary, older entries also stay while the resident ones total at most this many
/// tokens (estimated at four characters a token): what a turn that sends the whole transcript can send.</param>
public sealed record SessionTranscriptSettings(int KeepEntries, long KeepTokens)
{
    private const string Path = "gateway.sessions.transcript.keepResident";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly SessionTranscriptSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing, malformed or out of range; the message names its key path.</exception>
    public static SessionTranscriptSettings Read(Config config)
    {
        var keep = Child(Child(Child(Child(config.Root, "gateway"), "sessions"), "transcript"), "keepResident");
        var entries = Long(keep, "entries", Path) ?? throw new DurarConfigException($"{Path}.entries", "is required");
        if (entries is < 10 or > 1_000_000) throw new DurarConfigException($"{Path}.entries", $"must be between 10 and 1000000 (got {entries})");
        var tokens = Long(keep, "tokens", Path) ?? throw new DurarConfigException($"{Path}.tokens", "is required");
        if (tokens is < 1_000 or > 100_000_000) throw new DurarConfigException($"{Path}.tokens", $"must be between 1000 and 100000000 (got {tokens})");
        return new SessionTranscriptSettings((int)entries, tokens);
    }
}
