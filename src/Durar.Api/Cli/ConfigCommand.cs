using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Akka.Configuration;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Api.Extensions;
using Durar.Persistence;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar config check [--config f]</c>: validates a configuration offline with the gateway's own start-up path
/// (the loader, the catalog, the default model chain, secrets, persistence, shutdown), reports what the gateway would
/// only warn about (<see cref="ConfigLint"/>: unknown keys, unset <c>${VAR}</c>s) as errors, and prints the effective
/// configuration with each value's origin (default, file, env) and every secret masked.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create(CliConsole io)
    {
        var config = new Option<string?>("--config") { Description = "The config file to check (env DURAR_CONFIG; default: the built-in defaults alone)" };
        var json = new Option<bool>("--json") { Description = "Print JSON (stable property names) instead of text" };
        var check = new Command("check", "Validate a configuration and print the effective settings, their origin and masked secrets.") { config, json };
        check.SetAction(parse => Check(io, parse.GetValue(config) ?? ClientCommand.NonEmpty(io.Env("DURAR_CONFIG")), parse.GetValue(json)));
        return new Command("config", "The gateway's configuration, checked offline.") { check };
    }

    private static int Check(CliConsole io, string? path, bool json)
    {
        var errors = new List<ConfigProblem>();
        ImmutableArray<ConfigEntry> values = [];
        try
        {
            var overrides = Overrides(io.Env);
            var options = new GatewayOptions
            {
                ConfigPath = path,
                DataDir = ClientCommand.NonEmpty(io.Env("DURAR_DATA_DIR")) ?? "data",
                ClusterPort = Int(overrides, "gateway.cluster.port"),
                SeedNodes = io.Env("DURAR_SEED_NODES") is { Length: > 0 } seeds ? Seeds(seeds) : null,
            };
            var effective = GatewayHost.LoadConfig(options);
            if (Int(overrides, "gateway.port") is { } port) effective = ConfigurationFactory.ParseString($"gateway.port = {port}").WithFallback(effective);
            // The gateway's own start-up checks, in its order; each throws with the key path.
            new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddDurarCore(effective);
            SecretsOptions.FromConfig(effective, io.Env(SecretsOptions.EnvironmentVariable));
            PersistenceOptions.FromConfig(effective, options.DataDir);
            ShutdownOptions.FromConfig(effective);
            errors.AddRange(ConfigLint.Check(effective, io.Env));
            values = EffectiveConfig.Describe(effective, path is null ? null : ConfigurationFactory.ParseString(File.ReadAllText(path)), overrides, io.Env);
        }
        catch (DurarConfigException e)
        {
            errors.Add(new ConfigProblem(e.Path, e.Problem));
        }
        var fullPath = path is null ? null : Path.GetFullPath(path);
        if (json) WriteJson(io, fullPath, errors, values);
        else WriteText(io, fullPath, errors, values);
        return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Usage;
    }

    /// <summary>What environment variables put in place of configuration keys, as the gateway applies them.</summary>
    private static List<EnvOverride> Overrides(Func<string, string?> env)
    {
        var list = new List<EnvOverride>();
        void Add(string variable, string path, Func<string, string>? convert = null)
        {
            if (env(variable) is { Length: > 0 } value) list.Add(new EnvOverride(path, variable, convert?.Invoke(value) ?? value));
        }
        Add("DURAR_PORT", "gateway.port", v => Port(v, "DURAR_PORT"));
        Add("DURAR_CLUSTER_PORT", "gateway.cluster.port", v => Port(v, "DURAR_CLUSTER_PORT"));
        Add("DURAR_SEED_NODES", "gateway.cluster.seedNodes", v => "[" + string.Join(", ", Seeds(v)) + "]");
        Add("DURAR_GATEWAY_TOKEN", "gateway.auth.token");
        Add(SecretsOptions.EnvironmentVariable, SecretsOptions.KeyPath);
        return list;
    }

    private static string Port(string value, string variable) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 65535
            ? p.ToString(CultureInfo.InvariantCulture)
            : throw new DurarConfigException(variable, $"\"{value}\" is not a port number (0-65535)");

    private static string[] Seeds(string value) => value.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries);

    private static int? Int(List<EnvOverride> overrides, string path) =>
        overrides.FirstOrDefault(o => o.Path == path) is { } o ? int.Parse(o.Value, CultureInfo.InvariantCulture) : null;

    private static void WriteText(CliConsole io, string? path, List<ConfigProblem> errors, ImmutableArray<ConfigEntry> values)
    {
        foreach (var e in errors) Error(io, $"configuration error at {e.Path}: {e.Message}");
        io.Ansi.Write(Facts(io,
        [
            ("Config", Cell(path is null ? "built-in defaults only" : $"{path} over the built-in defaults")),
            ("Result", State(errors.Count == 0 ? "valid" : $"{errors.Count} error(s)")),
        ]));
        if (values.IsEmpty) return;
        io.Ansi.WriteLine();
        var table = Table(io, "KEY", "VALUE", "ORIGIN");
        foreach (var v in values)
            Row(table, Cell(v.Path), Cell(v.Value), Cell(v.Variable is null ? Origin(v.Origin) : $"{Origin(v.Origin)} ({v.Variable})"));
        io.Ansi.Write(table);
    }

    private static void WriteJson(CliConsole io, string? path, List<ConfigProblem> errors, ImmutableArray<ConfigEntry> values) => Json(io, w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("valid", errors.Count == 0);
        if (path is null) w.WriteNull("config"); else w.WriteString("config", path);
        w.WriteStartArray("errors");
        foreach (var e in errors)
        {
            w.WriteStartObject();
            w.WriteString("path", e.Path);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("values");
        foreach (var v in values)
        {
            w.WriteStartObject();
            w.WriteString("path", v.Path);
            w.WriteString("value", v.Value);
            w.WriteString("origin", Origin(v.Origin));
            if (v.Variable is null) w.WriteNull("variable"); else w.WriteString("variable", v.Variable);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static string Origin(ConfigOrigin origin) => origin switch
    {
        ConfigOrigin.File => "file",
        ConfigOrigin.Env => "env",
        _ => "default",
    };
}
