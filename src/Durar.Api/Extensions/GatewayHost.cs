using Akka.Configuration;
using Akka.Hosting;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.ClientTokens;
using Durar.Api.Access;
using Durar.Api.Apis;
using Durar.Api.Apis.Messages;
using Durar.Api.Apis.Responses;
using Durar.Api.Dashboard;
using Durar.Persistence;
using Durar.Api.Health;
using Durar.Api.SessionList;
using Durar.Api.Telemetry;
using Serilog;

namespace Durar.Api.Extensions;

/// <summary>
/// Builds the gateway: HOCON configuration (defaults, user file, overrides), Serilog, Kestrel on the configured address,
/// the actor system and the HTTP endpoints. <c>Program</c> and the integration tests both start the gateway through here.
/// </summary>
public static class GatewayHost
{
    /// <exception cref="DurarConfigException">The configuration is invalid (the message names the key path).</exception>
    public static WebApplication Build(GatewayOptions options, string[]? args = null)
    {
        var config = LoadConfig(options);
        var settings = DurarSettingsLoader.Load(config);

        var json = GatewayLogging.IsJson(options.LogFormat);

        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        // Written by a background worker: a request thread (with gateway.http.inlineIo, an I/O thread) never waits on a slow stdout.
        builder.Services.AddSerilog((_, log) => GatewayLogging.Configure(log, json));

        var port = options.Port ?? settings.Gateway.Port;
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = settings.Gateway.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        if (settings.Gateway.InlineIo) UseInlineIo(builder);
        builder.WebHost.UseUrls($"http://{FormatHost(settings.Gateway.Bind)}:{port}");

        // Key health (and later sessions) is journaled: SQLite in the data directory unless gateway.persistence says otherwise.
        var persistence = PersistenceOptions.FromConfig(config, options.DataDir);
        builder.Services.AddDurar(config, (akka, _) => akka.WithDurarPersistence(persistence).AddHocon(HostOwnsShutdown, HoconAddMode.Prepend)
            .WithDurarDashboard().WithDurarClientTokens(settings.Access).WithDurarSessionList());
        builder.Services.AddSingleton(new DashboardFeed(settings.Dashboard, TimeProvider.System));
        var envToken = Environment.GetEnvironmentVariable("DURAR_GATEWAY_TOKEN");
        var token = envToken is { Length: > 0 } ? envToken : settings.Gateway.Token;
        StartupRules.Check(settings.Gateway.Bind, token, envToken is { Length: > 0 });
        builder.Services.AddSingleton(new GatewayAuth(token));
        builder.Services.AddSingleton(new AuthFailureLimiter(settings.Access, TimeProvider.System));
        builder.Services.AddSingleton<ClientAccess>();
        var secrets = SecretsOptions.FromConfig(config);
        builder.Services.AddDurarAuthProfiles(options.DataDir, secrets);
        AddGracefulShutdown(builder.Services, ShutdownOptions.FromConfig(config));
        builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<ReadyBanner>(sp, options, persistence, secrets));
        builder.Services.AddGatewayTelemetry(settings.Telemetry, builder.Configuration);
        builder.Services.AddGatewayHealth(persistence);
        options.ConfigureServices?.Invoke(builder.Services);

        var app = builder.Build();
        // Before everything that reads the client address (telemetry, the failed-authentication back-off).
        if (StartupRules.ForwardedHeaders(settings.Access) is { } forwarded) app.UseForwardedHeaders(forwarded);
        // First, so a request refused by the drain or the token is counted and logged too.
        if (settings.Telemetry.Metrics || settings.Telemetry.RequestLog || settings.Telemetry.Traces)
            app.Use(app.Services.GetRequiredService<RequestTelemetry>().InvokeAsync);
        app.UseJsonErrors();
        var drain = app.Services.GetRequiredService<GatewayDrain>();
        app.Use(drain.InvokeAsync);
        GatewayAuth.UseGatewayAuth(app, app.Services.GetRequiredService<GatewayAuth>());
        app.MapGatewayHealth();
        app.MapGatewayMetrics(settings.Telemetry);
        app.MapChatCompletions();
        app.MapResponses();
        app.MapMessages();
        app.MapEmbeddings();
        app.MapModels();
        app.MapAdmin();
        app.MapClientTokens();
        app.MapAuthProfiles();
        app.MapSessions();
        app.MapSessionList();
        app.MapCluster();
        app.MapDashboard(settings.Dashboard);
        return app;
    }

    /// <summary>
    /// <c>gateway.http.inlineIo</c>: a request is handled on the I/O thread that read it, and the upstream call's socket
    /// completions continue on the I/O thread too, instead of each completion being queued to the thread pool and a worker
    /// woken for it (on a small machine, those hand-offs and context switches were the largest cost after the kernel's
    /// socket work). Safe only because nothing on the request path blocks: logging goes through an async sink, actor
    /// replies continue on the thread pool, and persistence runs in the journal actors. The runtime reads its switch once,
    /// when the first socket is created, so it is set before the host starts (process-wide: the gateway owns its process);
    /// with it the runtime runs one I/O thread per core.
    /// </summary>
    private static void UseInlineIo(WebApplicationBuilder builder)
    {
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
    }

    /// <summary>
    /// Akka (on .NET 6+) traps SIGTERM itself and would run CoordinatedShutdown — leave the cluster, stop the shard
    /// regions — the moment the signal arrives, under the requests still in flight. The host owns the signal instead.
    /// </summary>
    private const string HostOwnsShutdown = "akka.coordinated-shutdown.run-by-clr-shutdown-hook = off";

    /// <summary>
    /// SIGTERM (or any host stop) drains, then leaves the cluster. The host stops its hosted services in reverse order of
    /// registration: <see cref="GatewayDrain"/> is registered after Akka.Hosting's service (added by <c>AddDurar</c>), so its
    /// <c>StopAsync</c> — which waits until the in-flight requests and streams are done or ended at the drain deadline —
    /// runs before CoordinatedShutdown (sharding hand-off, cluster leave, actor system termination). The actor system thus
    /// outlives every request. Kestrel (registered last by <c>WebApplicationBuilder</c>) stops first and waits for its
    /// connections within the host's shutdown timeout, which therefore covers the drain plus the leave.
    /// </summary>
    private static void AddGracefulShutdown(IServiceCollection services, ShutdownOptions shutdown)
    {
        services.AddSingleton(shutdown);
        services.AddSingleton<GatewayDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayDrain>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdown.HostShutdownTimeout);
    }

    /// <summary>Defaults, then the user's file, then extra HOCON, then the data directory.</summary>
    public static Config LoadConfig(GatewayOptions options)
    {
        var config = options.ConfigPath is null ? DurarSettingsLoader.Defaults : DurarSettingsLoader.LoadFile(options.ConfigPath);
        // Each layer is parsed on its own (FromText only validates): a layer that carried the defaults would shadow the
        // user's file with them (--seed used to turn every key of --config back into its default).
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon))
        {
            _ = DurarSettingsLoader.FromText(options.ExtraHocon);
            config = ConfigurationFactory.ParseString(options.ExtraHocon).WithFallback(config);
        }
        if (options.OverridesHocon() is { } overrides)
            config = ConfigurationFactory.ParseString(overrides).WithFallback(config);
        return config;
    }

    private static string FormatHost(string bind) => bind.Contains(':') && !bind.StartsWith('[') ? $"[{bind}]" : bind;
}
