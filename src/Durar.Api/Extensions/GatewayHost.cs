using Akka.Configuration;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Api.Apis;
using Durar.Persistence;
using Serilog;
using Serilog.Events;

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

        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Services.AddSerilog((_, log) => log
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture));

        var port = options.Port ?? settings.Gateway.Port;
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = settings.Gateway.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{FormatHost(settings.Gateway.Bind)}:{port}");

        // Key health (and later sessions) is journaled: SQLite in the data directory unless gateway.persistence says otherwise.
        var persistence = PersistenceOptions.FromConfig(config, options.DataDir);
        builder.Services.AddDurar(config, (akka, _) => akka.WithDurarPersistence(persistence));
        var token = Environment.GetEnvironmentVariable("DURAR_GATEWAY_TOKEN") is { Length: > 0 } envToken ? envToken : settings.Gateway.Token;
        builder.Services.AddSingleton(new GatewayAuth(token));
        builder.Services.AddDurarAuthProfiles(options.DataDir, SecretsOptions.FromConfig(config));

        var app = builder.Build();
        GatewayAuth.UseGatewayAuth(app, app.Services.GetRequiredService<GatewayAuth>());
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapChatCompletions();
        app.MapModels();
        app.MapAdmin();
        app.MapAuthProfiles();
        app.MapSessions();
        app.MapCluster();
        return app;
    }

    /// <summary>Defaults, then the user's file, then extra HOCON, then the data directory.</summary>
    public static Config LoadConfig(GatewayOptions options)
    {
        var config = options.ConfigPath is null ? DurarSettingsLoader.Defaults : DurarSettingsLoader.LoadFile(options.ConfigPath);
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon))
            config = DurarSettingsLoader.FromText(options.ExtraHocon).WithFallback(config);
        if (options.OverridesHocon() is { } overrides)
            config = DurarSettingsLoader.FromText(overrides).WithFallback(config);
        return config;
    }

    private static string FormatHost(string bind) => bind.Contains(':') && !bind.StartsWith('[') ? $"[{bind}]" : bind;
}
