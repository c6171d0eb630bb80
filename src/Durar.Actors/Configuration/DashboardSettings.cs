using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.dashboard</c>: the operator dashboard at <c>/ui</c> and its event stream (<c>GET /v1/admin/events</c>). It
/// exists so the memory the dashboard keeps on each node (recent requests, the totals history) and how often it samples are
/// chosen in <c>durar.conf</c>; nothing here repeats a default.
/// </summary>
/// <param name="Enabled">Serve the page at <c>/ui</c> and the event stream.</param>
/// <param name="RecentRequests">Completed requests kept in memory on this node (0 = none are recorded).</param>
/// <param name="TotalsInterval">How often spend and token totals per key and provider are sampled and sent.</param>
/// <param name="TotalsHistory">Samples kept for the chart (the history spans <see cref="TotalsInterval"/> times this).</param>
/// <param name="ClientBuffer">Events waiting for one dashboard client before it is cut off (it reconnects and resynchronises).</param>
public sealed record DashboardSettings(bool Enabled, int RecentRequests, TimeSpan TotalsInterval, int TotalsHistory, int ClientBuffer)
{
    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.dashboard";

    /// <summary>Reads <c>gateway.dashboard</c> from a configuration that has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing or out of range; the message names its key path.</exception>
    public static DashboardSettings Read(Config config) => new(
        RequiredBool(config, $"{Section}.enabled"),
        (int)RequiredLong(config, $"{Section}.recentRequests", 0, 100_000),
        RequiredPositiveDuration(config, $"{Section}.totalsInterval"),
        (int)RequiredLong(config, $"{Section}.totalsHistory", 1, 100_000),
        (int)RequiredLong(config, $"{Section}.clientBuffer", 16, 1_000_000));
}
