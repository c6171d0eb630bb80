using Microsoft.Playwright;

namespace Durar.Api.Tests.Ui;

/// <summary>
/// A real browser for the dashboard specs: Debian's Chromium (<c>/usr/bin/chromium</c>, or <c>DURAR_TEST_CHROMIUM</c>)
/// driven by Playwright, headless, with a fresh profile directory per fixture. Browsers cannot be downloaded here, so the
/// spec never asks Playwright for one of its own; its driver (Node.js and the Playwright package) ships in the
/// Microsoft.Playwright NuGet package and is copied next to this assembly (<c>.playwright/</c>). <c>.ci/run</c> installs
/// Chromium when it is missing. Without a browser the specs fail with that instruction (they never skip).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private string _profile = "";

    public IPlaywright Playwright { get; private set; } = null!;

    /// <summary>The browser (one persistent context: each spec opens its own page, so each has its own sessionStorage).</summary>
    public IBrowserContext Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: <c>DURAR_TEST_RESULTS</c>/ui, else this project's <c>TestResults/ui</c>.</summary>
    public static string ArtifactsDir
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("DURAR_TEST_RESULTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(ProjectDir(), "TestResults");
            return Directory.CreateDirectory(Path.Combine(root, "ui")).FullName;
        }
    }

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("DURAR_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new InvalidOperationException(
                $"No Chromium at {chromium}: install Debian's (apt-get install chromium; bash .ci/run does) or set DURAR_TEST_CHROMIUM.");
        try
        {
            Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "The Playwright driver did not start. It runs the Node.js bundled in the Microsoft.Playwright package "
                + $"({Path.Combine(AppContext.BaseDirectory, ".playwright", "node")}); where that binary cannot run, set PLAYWRIGHT_NODEJS_PATH "
                + "to a Node.js 18 or later (bash .ci/run does).", e);
        }
        _profile = Directory.CreateTempSubdirectory("durar-chromium-").FullName;
        Browser = await Playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--disable-quic",
            ],
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (_profile.Length > 0)
            try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }

    private static string ProjectDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Durar.Api.Tests.csproj"))) return dir.FullName;
        return AppContext.BaseDirectory;
    }
}
