using System.Diagnostics;
using System.Text.Json;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// <c>dotnet pack src/Durar.Api</c> makes a .NET tool package that installs with <c>dotnet tool install</c> and runs as
/// <c>durar</c>. Offline and bounded: the package goes to a folder that is the only package source, into a private
/// package cache, and the tool into a temporary tool path.
/// </summary>
public sealed class ToolPackageSpecs : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("durar-tool-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Should_pack_a_tool_that_installs_from_a_local_feed_and_runs_as_durar()
    {
        var feed = Directory.CreateDirectory(Path.Combine(_dir.FullName, "feed")).FullName;
        var tools = Path.Combine(_dir.FullName, "tools");
        var nugetConfig = Path.Combine(_dir.FullName, "nuget.config");
        await File.WriteAllTextAsync(nugetConfig, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        // The build this test project was built with (the test run's own configuration) is what gets packed.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

        var pack = await RunAsync(Dotnet(), ["pack", Path.Combine(RepositoryRoot(), "src", "Durar.Api", "Durar.Api.csproj"), "-c", configuration,
            "--no-build", "-o", feed, "-nodeReuse:false"]);
        Assert.True(pack.Code == 0, pack.Output);
        var package = Assert.Single(Directory.GetFiles(feed, "Durar.Gateway.*.nupkg"));

        var install = await RunAsync(Dotnet(), ["tool", "install", "--tool-path", tools, "--configfile", nugetConfig, "Durar.Gateway"]);
        Assert.True(install.Code == 0, install.Output);
        Assert.Contains("durar", install.Output);

        var durar = Path.Combine(tools, OperatingSystem.IsWindows() ? "durar.exe" : "durar");
        var help = await RunAsync(durar, ["--help"]);
        var check = await RunAsync(durar, ["config", "check", "--json"]);

        Assert.True(help.Code == 0, help.Output);
        Assert.Contains("Usage:\n  durar [command] [options]", help.Output);
        Assert.Contains("Exit codes:", help.Output);
        Assert.True(check.Code == 0, check.Output);
        using var json = JsonDocument.Parse(check.Output);
        Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.True(new FileInfo(package).Length > 0);
    }

    private async Task<(int Code, string Output)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir.FullName,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["NUGET_PACKAGES"] = Path.Combine(_dir.FullName, "packages");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // No build server or MSBuild node may outlive the spec.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Dotnet())!;
        foreach (var variable in new[] { "DURAR_CONFIG", "DURAR_PORT", "DURAR_DATA_DIR", "DURAR_GATEWAY_TOKEN", "NO_COLOR" }) start.Environment.Remove(variable);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {StepTimeout}");
        }
        return (process.ExitCode, (await stdout).ReplaceLineEndings("\n") + (await stderr).ReplaceLineEndings("\n"));
    }

    /// <summary>The muxer that runs the tests (set by the dotnet CLI), else the test host itself when it is dotnet, else PATH's.</summary>
    private static string Dotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "/usr/share/dotnet/dotnet" is var debian && File.Exists(debian) ? debian : "dotnet";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Durar.Actors.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Durar.Actors.sln above {AppContext.BaseDirectory}");
    }
}
