using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// Reads and validates <c>gateway</c> (HTTP, failover, queueing, cluster, sessions) into <see cref="GatewaySettings"/>.
/// Every key has its default in <c>config/hocon/durar.conf</c>, which is always layered underneath: nothing here repeats one.
/// </summary>
internal static class GatewaySettingsReader
{
    public static GatewaySettings Read(Config config)
    {
        var token = RequiredString(config, "gateway.auth.token");
        return new GatewaySettings(
            RequiredString(config, "gateway.bind"),
            (int)RequiredLong(config, "gateway.port", 0, 65535),
            token.Length == 0 ? null : token,
            RequiredBool(config, "gateway.echo.enabled"),
            RequiredLong(config, "gateway.http.maxBodyBytes", 1024),
            RequiredPositiveDuration(config, "gateway.askTimeout"),
            RequiredPositiveDuration(config, "gateway.cloudIdleTimeout"),
            RequiredPositiveDuration(config, "gateway.localIdleTimeout"),
            ReadFailover(config))
        {
            Sessions = ReadSessions(config),
            Cluster = ReadCluster(config),
            SessionHosting = SessionHostingSettings.Read(config),
            SessionRuns = SessionRunSettings.Read(config),
            SessionEvents = SessionEventSettings.Read(config),
            SessionTranscript = SessionTranscriptSettings.Read(config),
            ClusterBootstrap = ClusterBootstrapSettings.Read(config),
            InlineIo = RequiredBool(config, "gateway.http.inlineIo"),
        };
    }

    private static FailoverSettings ReadFailover(Config config)
    {
        const string f = "gateway.failover";
        return new FailoverSettings(
            RequiredPositiveDuration(config, $"{f}.budget"),
            RequiredPositiveDuration(config, $"{f}.retryBaseDelay"),
            RequiredPositiveDuration(config, $"{f}.retryMaxDelay"),
            (int)RequiredLong(config, $"{f}.maxTransientRetries", 0, 100),
            (int)RequiredLong(config, $"{f}.transientRetriesBeforeFallback", 0, 100),
            Duration(config, $"{f}.maxRetryAfter"),
            Duration(config, $"{f}.probeInterval"),
            Duration(config, $"{f}.probeMargin"),
            RequiredBool(config, "gateway.queueWhenCooling.enabled"),
            Duration(config, "gateway.queueWhenCooling.maxWait"))
        {
            ContinueStreams = RequiredBool(config, $"{f}.continueStreams"),
            MaxContinuations = (int)RequiredLong(config, $"{f}.maxContinuations", 0, 10),
        };
    }

    private static ClusterSettings ReadCluster(Config config)
    {
        const string path = "gateway.cluster";
        var c = Child(Child(config.Root, "gateway"), "cluster");
        var seeds = StringList(c, "seedNodes", path);
        for (var i = 0; i < seeds.Length; i++)
            if (!Uri.TryCreate(seeds[i], UriKind.Absolute, out var u) || !u.Scheme.StartsWith("akka", StringComparison.Ordinal))
                throw new DurarConfigException($"{path}.seedNodes[{i}]", $"\"{seeds[i]}\" is not an Akka address (akka.tcp://durar@host:port)");
        return new ClusterSettings(RequiredString(config, $"{path}.hostname"), (int)RequiredLong(config, $"{path}.port", 0, 65535), seeds)
        {
            KeyResync = RequiredPositiveDuration(config, $"{path}.keyResync"),
            Discovery = ReadDiscovery(Child(c, "discovery"), $"{path}.discovery"),
            Tls = ClusterTlsSettings.Read(config, RequiredString(config, $"{path}.hostname")),
        };
    }

    private static ClusterDiscoverySettings? ReadDiscovery(Akka.Configuration.Hocon.HoconValue? d, string path)
    {
        var method = String(d, "method", path);
        if (string.IsNullOrWhiteSpace(method)) return null;
        var service = String(d, "serviceName", path);
        if (string.IsNullOrWhiteSpace(service)) throw new DurarConfigException($"{path}.serviceName", "is required when a discovery method is set");
        var endpoints = StringList(d, "endpoints", path);
        for (var i = 0; i < endpoints.Length; i++)
        {
            var colon = endpoints[i].LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(endpoints[i].AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
                throw new DurarConfigException($"{path}.endpoints[{i}]", $"\"{endpoints[i]}\" is not host:port (the node's remoting port)");
        }
        if (method == "config" && endpoints.IsEmpty)
            throw new DurarConfigException($"{path}.endpoints", "method = config needs the nodes' remoting endpoints (\"host:port\")");
        return new ClusterDiscoverySettings(method, service, endpoints);
    }

    private static SessionSettings ReadSessions(Config config)
    {
        const string path = "gateway.sessions";
        return new SessionSettings(
            RequiredPositiveDuration(config, $"{path}.idleTimeout"),
            (int)RequiredLong(config, $"{path}.snapshotEvery", 1, int.MaxValue),
            RequiredOneOf(config, $"{path}.queueMode", "followup", "collect", "interrupt", "steer"),
            Duration(config, $"{path}.queueDebounce"),
            (int)RequiredLong(config, $"{path}.queueCap", 1, int.MaxValue),
            RequiredOneOf(config, $"{path}.queueDrop", "old", "new", "summarize"))
        {
            JournalRetryAfter = RequiredPositiveDuration(config, $"{path}.journalRetryAfter"),
            MaxResident = (int)RequiredLong(config, $"{path}.maxResident", 1, 10_000_000),
        };
    }
}
