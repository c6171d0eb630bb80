using System.Collections.Immutable;
using System.Text;
using Durar.Actors.Sessions.Messages;

namespace Durar.Api.SessionList;

/// <summary>What the session list shows of one session, folded from the events the journal's query side returned.</summary>
/// <param name="Key">The session key (with a client token's namespace prefix, as journaled).</param>
/// <param name="LastActivity">The time of the session's latest event.</param>
/// <param name="LastModel">The model of the latest reply the journal still holds (null when none is left: snapshots delete older events).</param>
/// <param name="ModelOverride">The <c>/model</c> or PATCH override of the latest override change the journal still holds.</param>
internal sealed record SessionSummary(string Key, DateTimeOffset LastActivity, string? LastModel, string? ModelOverride);

/// <summary>One page of the list, newest activity first; <see cref="NextCursor"/> is null on the last page.</summary>
internal sealed record SessionListPage(ImmutableArray<SessionSummary> Items, string? NextCursor);

/// <summary>A request for one page: <see cref="Prefix"/> already holds a client token's namespace.</summary>
internal sealed record SessionListQuery(string Prefix, int Limit, SessionListCursor? After);

/// <summary>
/// Where a page ends, as a keyset (last activity, key): the next page starts strictly after it in the list's order, so
/// sessions that become active while a client pages move to the front instead of shifting every later page.
/// </summary>
internal sealed record SessionListCursor(long Ticks, string Key)
{
    /// <summary>Base64url of <c>ticks:key</c>: opaque to clients, stable across nodes and restarts.</summary>
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Ticks}:{Key}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The cursor a page gave, or null when <paramref name="text"/> is not one.</summary>
    public static SessionListCursor? TryDecode(string text)
    {
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var raw = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && long.TryParse(raw.AsSpan(0, colon), out var ticks) ? new SessionListCursor(ticks, raw[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// The session list's read model: one summary per session key, folded from the session events of the journal's query
/// side (Akka.Persistence.Query, <c>CurrentAllEvents</c> from the last offset read) and pruned to the sessions the query
/// side still lists (<c>CurrentPersistenceIds</c>: a deleted session keeps only a row marked deleted, which neither query
/// returns). Pure state, owned by <see cref="SessionDirectoryActor"/>; a <see cref="Delta"/> is built off the actor.
/// </summary>
internal sealed class SessionDirectory
{
    private readonly Dictionary<string, SessionSummary> _sessions = new(StringComparer.Ordinal);

    /// <summary>The journal offset (ordering) read up to.</summary>
    public long Offset { get; private set; }

    public int Count => _sessions.Count;

    /// <summary>Applies a catch-up: its summaries, then drops every session the query side no longer lists.</summary>
    public void Apply(Delta delta, IReadOnlySet<string> liveKeys)
    {
        foreach (var (key, changed) in delta.Sessions)
            _sessions[key] = _sessions.TryGetValue(key, out var known) ? Merge(known, changed) : changed.ToSummary(key);
        foreach (var key in _sessions.Keys.Where(k => !liveKeys.Contains(k)).ToList()) _sessions.Remove(key);
        Offset = Math.Max(Offset, delta.Offset);
    }

    /// <summary>The page of <paramref name="query"/>: keys starting with its prefix, newest activity first, then by key.</summary>
    public SessionListPage Page(SessionListQuery query)
    {
        var ordered = _sessions.Values
            .Where(s => s.Key.StartsWith(query.Prefix, StringComparison.Ordinal))
            .Where(s => query.After is not { } after || IsAfter(s, after))
            .OrderByDescending(s => s.LastActivity.UtcTicks).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Take(query.Limit + 1)
            .ToList();
        var more = ordered.Count > query.Limit;
        if (more) ordered.RemoveAt(ordered.Count - 1);
        var next = more ? new SessionListCursor(ordered[^1].LastActivity.UtcTicks, ordered[^1].Key).Encode() : null;
        return new SessionListPage([.. ordered], next);
    }

    private static bool IsAfter(SessionSummary s, SessionListCursor after) =>
        s.LastActivity.UtcTicks < after.Ticks || (s.LastActivity.UtcTicks == after.Ticks && string.CompareOrdinal(s.Key, after.Key) > 0);

    private static SessionSummary Merge(SessionSummary known, Change changed) => new(
        known.Key,
        changed.LastActivity > known.LastActivity ? changed.LastActivity : known.LastActivity,
        changed.LastModel ?? known.LastModel,
        changed.OverrideSeen ? changed.ModelOverride : known.ModelOverride);

    /// <summary>What one catch-up read: per session, what its new events say; and the offset it read up to.</summary>
    internal sealed class Delta
    {
        public Dictionary<string, Change> Sessions { get; } = new(StringComparer.Ordinal);
        public long Offset { get; set; }

        /// <summary>Folds one session event of <paramref name="key"/> (events arrive in journal order).</summary>
        public void Fold(string key, ISessionEvent e)
        {
            if (!Sessions.TryGetValue(key, out var change)) Sessions[key] = change = new Change();
            if (e.At > change.LastActivity) change.LastActivity = e.At;
            switch (e)
            {
                case SessionEvents.AssistantReplied replied:
                    change.LastModel = replied.Model;
                    break;
                case SessionEvents.OverridesChanged overrides:
                    change.OverrideSeen = true;
                    change.ModelOverride = overrides.Overrides.Model;
                    break;
            }
        }
    }

    /// <summary>The mutable fold of one session's new events inside a <see cref="Delta"/> (never shared with the actor's state).</summary>
    internal sealed class Change
    {
        public DateTimeOffset LastActivity { get; set; } = DateTimeOffset.MinValue;
        public string? LastModel { get; set; }
        public bool OverrideSeen { get; set; }
        public string? ModelOverride { get; set; }

        public SessionSummary ToSummary(string key) => new(key, LastActivity, LastModel, OverrideSeen ? ModelOverride : null);
    }
}
