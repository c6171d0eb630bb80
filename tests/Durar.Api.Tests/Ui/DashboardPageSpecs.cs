using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Durar.Actors.Providers;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Durar.Api.Tests.Ui;

/// <summary>
/// The dashboard at <c>/ui</c> in a real browser (Debian's Chromium through Playwright) against a real gateway with a token and
/// a provider with two keys on the fake provider: the token prompt, a key turning "cooling" with a countdown when it gets a
/// 429, a reset from the page, a request listed with its attempt path, and screenshots saved as test artifacts.
/// </summary>
public sealed partial class DashboardPageSpecs(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Token = "ui-spec-token-5f2c-0123456789abcdef012345";
    private const string KeyA = "sk-ui-key-aaaa";
    private const string KeyB = "sk-ui-key-bbbb";
    private static readonly string IdA = ApiKeyCredential.For("uip", KeyA, "env").Id;
    private static readonly string IdB = ApiKeyCredential.For("uip", KeyB, "env").Id;

    /// <summary>Provider uip (model m1, priced) with keys A then B; totals sampled every second so the chart fills quickly.</summary>
    private const string Config = $$"""
        models { providers { uip { baseUrl = "{fake-openai}", api = "openai-completions",
          models = [{ id = "m1", cost = { input = 3, output = 15, cacheRead = 0, cacheWrite = 0 } }] } } }
        env { UIP_API_KEYS = "{{KeyA}},{{KeyB}}" }
        agents { defaults { model { primary = "uip/m1" } } }
        auth.cooldowns.lastUsedFlushInterval = 1s
        gateway {
          auth.token = "{{Token}}"
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s }
          dashboard.totalsInterval = 1s
        }
        """;

    [Fact]
    public async Task Should_ask_for_the_token_and_then_show_every_key_live()
    {
        await using var gw = await StartAsync();
        var page = await browser.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(gw.BaseUri, "ui").ToString()); // /ui redirects to /ui/

        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Gateway token" });
        await Expect(dialog).ToBeVisibleAsync();
        await page.GetByLabel("Token", new() { Exact = true }).FillAsync("not-the-token");
        await page.GetByLabel("Token", new() { Exact = true }).PressAsync("Enter");
        await Expect(page.Locator("#login-error")).ToHaveTextAsync("The gateway refused this token.");

        await page.GetByLabel("Token", new() { Exact = true }).FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Live");
        await Expect(Badge(page, IdA)).ToHaveTextAsync("ready");
        await Expect(Badge(page, IdB)).ToHaveTextAsync("ready");
        await Expect(page.Locator("#node")).ToContainTextAsync("akka.tcp://");
        // Kept for this tab only.
        Assert.Equal(Token, await page.EvaluateAsync<string>("sessionStorage.getItem('durar.gatewayToken')"));
        await page.CloseAsync();
    }

    [Fact]
    public async Task Should_show_a_rate_limited_key_cooling_with_a_countdown_within_a_second()
    {
        await using var gw = await StartAsync();
        var page = await OpenAsync(gw);
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : null;

        var reply = await gw.ChatAsync("uip/m1");
        var answered = Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(2, reply.Attempts);
        await Expect(Badge(page, IdA)).ToHaveTextAsync("cooling", new() { Timeout = 1000 });
        var countdown = Row(page, IdA).Locator(".countdown");
        await Expect(countdown).ToHaveTextAsync(SecondsLeft(), new() { Timeout = 1000 });
        Assert.True(answered.Elapsed < TimeSpan.FromSeconds(1), $"cooling shown {answered.Elapsed.TotalMilliseconds:0} ms after the answer");
        var first = int.Parse(SecondsLeft().Match(await countdown.TextContentAsync() ?? "").Groups[1].Value);
        Assert.InRange(first, 25, 30); // the first step of the cooldown schedule
        await Expect(Row(page, IdA)).ToContainTextAsync("rate_limit");
        await Expect(Badge(page, IdB)).ToHaveTextAsync("ready");

        // It counts down on the page without another event.
        await Expect(countdown).Not.ToHaveTextAsync($"{first} s left", new() { Timeout = 3000 });
        await page.CloseAsync();
    }

    [Fact]
    public async Task Should_make_a_cooling_key_ready_when_its_reset_button_is_pressed()
    {
        await using var gw = await StartAsync();
        var page = await OpenAsync(gw);
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : null;
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("uip/m1")).Status);
        await Expect(Badge(page, IdA)).ToHaveTextAsync("cooling");
        var resetB = page.GetByRole(AriaRole.Button, new() { Name = $"Reset key {IdB}" });
        await Expect(resetB).ToBeDisabledAsync(); // a ready key has nothing to reset

        // Operated from the keyboard: focus the button, press Enter.
        var reset = page.GetByRole(AriaRole.Button, new() { Name = $"Reset key {IdA}" });
        await reset.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(Badge(page, IdA)).ToHaveTextAsync("ready");
        await Expect(Row(page, IdA).Locator(".countdown")).ToHaveCountAsync(0);
        var key = await gw.KeyAsync("uip", KeyA);
        Assert.Equal("ready", key.GetProperty("state").GetString());
        await page.CloseAsync();
    }

    [Fact]
    public async Task Should_list_a_completed_request_with_its_attempt_path()
    {
        await using var gw = await StartAsync();
        var page = await OpenAsync(gw);
        await Expect(page.Locator("#requests-note")).ToHaveTextAsync("No request yet.");
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited(message: "Slow down, key A") : null;

        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("uip/m1", stream: true)).Status);

        var item = page.Locator("#requests > li.req").First;
        await Expect(item).ToContainTextAsync("200");
        await Expect(item.Locator(".req-model")).ToHaveTextAsync("uip/m1");
        await Expect(item).ToContainTextAsync("stream");
        var attempts = item.Locator("ol.attempts > li");
        await Expect(attempts).ToHaveCountAsync(2);
        await Expect(attempts.Nth(0)).ToContainTextAsync(IdA);
        await Expect(attempts.Nth(0)).ToContainTextAsync("rate_limit 429");
        await Expect(attempts.Nth(0)).ToContainTextAsync("Slow down, key A");
        await Expect(attempts.Nth(0)).ToHaveClassAsync(new Regex("failed"));
        await Expect(attempts.Nth(1)).ToContainTextAsync(IdB);
        await Expect(attempts.Nth(1)).ToContainTextAsync("answered");
        await Expect(attempts.Nth(1)).ToHaveClassAsync(new Regex(@"\bok\b"));

        // A page opened afterwards gets it from the snapshot.
        var later = await OpenAsync(gw);
        await Expect(later.Locator("#requests > li.req ol.attempts > li")).ToHaveCountAsync(2);
        await later.CloseAsync();
        await page.CloseAsync();
    }

    [Fact]
    public async Task Should_save_screenshots_of_the_dashboard_on_a_desktop_and_a_phone_as_test_artifacts()
    {
        await using var gw = await StartAsync();
        var page = await OpenAsync(gw);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("uip/m1")).Status);
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited(message: "Rate limit reached for requests") : null;
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("uip/m1", stream: true)).Status);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("uip/m1")).Status);
        await Expect(Badge(page, IdA)).ToHaveTextAsync("cooling");
        await Expect(page.Locator("#requests > li.req")).ToHaveCountAsync(3);
        // Usage reaches the keys once per flush interval (1 s here): wait until the chart has a non-zero line.
        await Expect(page.Locator("#chart .legend")).ToContainTextAsync(new Regex(@"uip: \$0\.0*[1-9]"), new() { Timeout = 10_000 });
        // An unknown key says so (the gateway answers 404 without starting a session) ...
        await page.GetByLabel("Session key").FillAsync("no-such-session-yet");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show session" }).ClickAsync();
        await Expect(page.Locator("#session")).ToContainTextAsync("No session \"no-such-session-yet\"");
        // ... and a session that had a turn shows its transcript.
        using (var turn = await gw.Http.SendAsync(gw.Post("v1/sessions/ui-demo/messages", """{"content":"hello from the dashboard spec"}""")))
            Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
        await page.GetByLabel("Session key").FillAsync("ui-demo");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show session" }).ClickAsync();
        await Expect(page.Locator("#session")).ToContainTextAsync("Session ui-demo");
        await Expect(page.Locator("#session")).ToContainTextAsync("hello from the dashboard spec");

        var desktop = Path.Combine(BrowserFixture.ArtifactsDir, "dashboard-desktop.png");
        await page.ScreenshotAsync(new() { Path = desktop, FullPage = true });

        await page.SetViewportSizeAsync(390, 844);
        var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a phone screen");
        var phone = Path.Combine(BrowserFixture.ArtifactsDir, "dashboard-phone.png");
        await page.ScreenshotAsync(new() { Path = phone, FullPage = true });

        foreach (var file in new[] { desktop, phone })
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.True(bytes.Length > 10_000, $"{file} is only {bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        await page.CloseAsync();
    }

    [Fact]
    public async Task Should_list_sessions_newest_first_filter_them_by_prefix_and_open_one_from_the_list()
    {
        await using var gw = await StartAsync();
        foreach (var key in new[] { "ui-list-a", "ui-list-b", "other-x" })
            using (var turn = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", """{"content":"hello from the list spec"}""")))
                Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
        var page = await OpenAsync(gw);

        var rows = page.Locator("#sessions-list tbody tr");
        // The node's first list reads the journal from its start: generous on a loaded machine.
        await Expect(rows).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        await Expect(rows.Nth(0).Locator("th")).ToHaveTextAsync("other-x");
        await Expect(rows.Nth(0)).ToContainTextAsync("uip/m1");
        await Expect(rows.Nth(2).Locator("th")).ToHaveTextAsync("ui-list-a");
        await Expect(page.Locator("#sessions-more")).ToBeHiddenAsync();

        await page.GetByLabel("Key prefix").FillAsync("ui-list-");
        await page.GetByRole(AriaRole.Button, new() { Name = "List sessions" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(0).Locator("th")).ToHaveTextAsync("ui-list-b");
        await Expect(page.Locator("#sessions-note")).ToHaveTextAsync("2 sessions, newest activity first.");

        await page.GetByRole(AriaRole.Button, new() { Name = "Show session ui-list-a" }).ClickAsync();
        await Expect(page.Locator("#session")).ToContainTextAsync("Session ui-list-a");
        await Expect(page.Locator("#session")).ToContainTextAsync("hello from the list spec");

        var shot = Path.Combine(BrowserFixture.ArtifactsDir, "dashboard-sessions.png");
        await page.Locator("section[aria-labelledby=sessions-title]").ScreenshotAsync(new() { Path = shot });
        Assert.True(new FileInfo(shot).Length > 5_000, $"{shot} is only {new FileInfo(shot).Length} bytes");
        await page.SetViewportSizeAsync(390, 844);
        var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a phone screen");
        await page.Locator("section[aria-labelledby=sessions-title]").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ArtifactsDir, "dashboard-sessions-phone.png") });
        await page.CloseAsync();
    }

    private static async Task<GatewayHarness> StartAsync()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        gw.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return gw;
    }

    /// <summary>A new tab on the dashboard, signed in with the token, once the live stream has delivered the keys.</summary>
    private async Task<IPage> OpenAsync(GatewayHarness gw)
    {
        var page = await browser.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(gw.BaseUri, "ui/").ToString());
        await page.GetByLabel("Token", new() { Exact = true }).FillAsync(Token);
        await page.GetByLabel("Token", new() { Exact = true }).PressAsync("Enter");
        await Expect(page.Locator("#status")).ToHaveTextAsync("Live");
        await Expect(Badge(page, IdA)).ToBeVisibleAsync();
        return page;
    }

    private static ILocator Row(IPage page, string keyId) => page.Locator($"tr[data-key=\"{keyId}\"]");

    private static ILocator Badge(IPage page, string keyId) => Row(page, keyId).Locator(".badge");

    [GeneratedRegex(@"^(\d+) s left$")]
    private static partial Regex SecondsLeft();
}
