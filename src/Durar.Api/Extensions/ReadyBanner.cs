using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers.Messages;
using Durar.Api.Apis;
using Durar.Persistence;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Serilog.Events;

namespace Durar.Api.Extensions;

/// <summary>
/// What a first run needs to see, once, when the gateway is ready (Kestrel listening and the provider registry answering
/// with its keys recovered): the URL, where the configuration came from, how many providers have a key, the data
/// directory, how auth-profile secrets are protected when no secrets key is set, and the README quickstart's curl line.
/// It replaces ASP.NET Core's four lifetime lines and Data Protection's warning about an unencrypted key ring, which
/// every start without <c>gateway.secrets.key</c> printed (the banner says how to protect it instead).
/// </summary>
public sealed partial class ReadyBanner(
    GatewayOptions options,
    PersistenceOptions persistence,
    SecretsOptions secrets,
    IServer server,
    IHostApplicationLifetime lifetime,
    IRequiredActor<ProvidersRegistryKey> registry,
    DurarSettings settings,
    GatewayAuth auth,
    ILogger<ReadyBanner> log) : IHostedService
{
    /// <summary>The facts the banner states; <see cref="Text"/> is a pure function of them.</summary>
    /// <param name="ProvidersWithKeys">Ids of the providers with at least one key; null = the registry did not answer in time.</param>
    public sealed record Facts(string Url, string? ConfigPath, ImmutableArray<string>? ProvidersWithKeys, string DataDir, string Journal,
        string? UnprotectedKeyRing, bool TokenRequired, bool EchoEnabled);

    private const int NamesShown = 6;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = ShowAsync(lifetime.ApplicationStopping));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task ShowAsync(CancellationToken stopping)
    {
        ImmutableArray<string>? withKeys = null;
        try
        {
            // Answered once every provider has read its keys back from the journal: the moment requests are served.
            var states = await registry.ActorRef.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(),
                settings.Auth.Keys.RecoveryTimeout + settings.Gateway.AskTimeout, stopping);
            withKeys = [.. states.Providers.Where(p => p.Keys.Any(k => k.Source != "none")).Select(p => p.ProviderId).Order(StringComparer.Ordinal)];
        }
        catch (AskTimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var dataDir = Path.GetFullPath(options.DataDir);
        var facts = new Facts(
            ServerUrl(),
            options.ConfigPath is null ? null : Path.GetFullPath(options.ConfigPath),
            withKeys,
            dataDir,
            persistence.NormalizedProvider() == PersistenceProviders.Sqlite && persistence.ConnectionString.Length == 0
                ? $"SQLite {PersistenceOptions.DefaultSqliteFileName}" : persistence.NormalizedProvider() == PersistenceProviders.Sqlite ? "SQLite" : "PostgreSQL",
            secrets.Key is null ? Path.Combine(dataDir, DataProtectionSecretProtector.KeysFolder) : null,
            auth.Enabled,
            settings.Gateway.EchoEnabled);
        LogReady(log, Text(facts));
    }

    private string ServerUrl() =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } address
            ? address.TrimEnd('/') : $"http://{settings.Gateway.Bind}:{settings.Gateway.Port}";

    /// <summary>The banner: one line saying it is ready, then one indented line per fact.</summary>
    public static string Text(Facts facts)
    {
        var lines = new List<string>
        {
            $"Durar gateway ready on {facts.Url}",
            $"  config     {(facts.ConfigPath is null ? "built-in defaults only (no --config or DURAR_CONFIG)" : $"{facts.ConfigPath} over the built-in defaults")}",
            $"  providers  {Providers(facts.ProvidersWithKeys)}",
            $"  data       {facts.DataDir} (journal: {facts.Journal})",
        };
        if (facts.UnprotectedKeyRing is { } keyRing)
            lines.Add($"  secrets    the key ring in {keyRing} is stored unencrypted; to protect auth-profile secrets, set "
                + $"{SecretsOptions.KeyPath} or {SecretsOptions.EnvironmentVariable} (openssl rand -base64 32)");
        lines.Add($"  try        {Curl(facts)}");
        return string.Join('\n', lines);
    }

    private static string Providers(ImmutableArray<string>? ids) => ids switch
    {
        null => "not known yet (the provider registry did not answer in time)",
        { IsEmpty: true } => "none has a key yet: set one, e.g. OPENAI_API_KEY=..., or configure models.providers",
        { } some => $"{some.Length} with keys: {string.Join(", ", some.Take(NamesShown))}{(some.Length > NamesShown ? $", +{some.Length - NamesShown} more" : "")}",
    };

    /// <summary>The README quickstart's request against this gateway (echo/echo when it is served, else the configured primary).</summary>
    private static string Curl(Facts facts)
    {
        var url = facts.Url.Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal);
        var model = facts.EchoEnabled ? "echo/echo" : "durar";
        var token = facts.TokenRequired ? " -H \"authorization: Bearer $DURAR_GATEWAY_TOKEN\"" : "";
        return $"curl -N {url}/v1/chat/completions -H 'content-type: application/json'{token} "
            + $"-d '{{\"model\":\"{model}\",\"stream\":true,\"messages\":[{{\"role\":\"user\",\"content\":\"hello from durar\"}}]}}'";
    }

    /// <summary>
    /// Data Protection's warning that its key ring is written unencrypted: true of every start without
    /// <c>gateway.secrets.key</c>, so the banner explains it once, at Information, with the fix.
    /// </summary>
    public static bool IsUnencryptedKeyRingWarning(LogEvent e) =>
        e.Level == LogEventLevel.Warning && e.MessageTemplate.Text.StartsWith("No XML encryptor configured", StringComparison.Ordinal);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, EventName = "gateway_ready", Message = "{Banner:l}")]
    private static partial void LogReady(ILogger logger, string banner);
}
