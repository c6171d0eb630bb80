using System.Net;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Cli;

/// <summary><c>durar sessions show|reset|delete</c> over the sessions API; <c>list</c> says the gateway cannot list yet (exit 4).</summary>
public sealed partial class SessionsCommandSpecs
{
    private static async Task TurnAsync(GatewayHarness gw, string key, string content)
    {
        var reply = await gw.SendAsync(gw.Post($"v1/sessions/{key}/messages", $$"""{"content":"{{content}}"}"""));
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Body);
    }

    [Fact]
    public async Task Should_show_a_session_with_its_last_messages_as_text_and_json()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "Hi there.", PromptTokens = 12, CompletionTokens = 3 };
        await TurnAsync(gw, "demo", "/think high");
        await TurnAsync(gw, "demo", "hello");

        var text = await Cli.AgainstAsync(gw, "sessions", "show", "demo", "--messages", "2");
        var json = await Cli.AgainstAsync(gw, "sessions", "show", "demo", "--messages", "1", "--json");

        Assert.True(text.ExitCode == 0, text.ToString());
        var shown = TimeStamp().Replace(Cli.Normalize(text.Out), "{at}");
        Assert.Equal("""
            Session  demo
            Model  default
            Thinking  high
            Fast mode  default
            Usage line  default
            Queue mode  default
            Auth profile  fakeoai:key-5772a35d (auto)
            Last model  fakeoai/gpt-fake
            Transcript  2 message(s)
            Running  no, 0 queued
            Context  9 of 191,808 input tokens (estimate), 0 compactions
            Usage  12 input, 3 output, 0 cache read, 0 cache write tokens ($0.0000)

            Messages
            #1 user at {at}
              hello
            #2 assistant (fakeoai/gpt-fake) at {at}
              Hi there.
            """, shown);
        var view = json.Json();
        Assert.Equal("demo", view.GetProperty("key").GetString());
        Assert.Equal("high", view.GetProperty("overrides").GetProperty("thinkingLevel").GetString());
        Assert.Equal(2, view.GetProperty("transcriptLength").GetInt64());
        var last = Assert.Single(view.GetProperty("messages").EnumerateArray());
        Assert.Equal(("assistant", "Hi there."), (last.GetProperty("role").GetString(), last.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task Should_reset_and_delete_a_session_and_say_that_listing_is_not_supported_yet()
    {
        await using var gw = await GatewayHarness.StartAsync();
        await TurnAsync(gw, "old", "hello");

        var reset = await Cli.AgainstAsync(gw, "sessions", "reset", "old");
        var delete = await Cli.AgainstAsync(gw, "sessions", "delete", "old", "--json");
        var badKey = await Cli.AgainstAsync(gw, "sessions", "show", "no spaces allowed");
        var list = await Cli.AgainstAsync(gw, "sessions", "list");

        Assert.Equal((0, "Session old reset (0 message(s) in its transcript)."), (reset.ExitCode, reset.Out.Trim()));
        Assert.Equal(0, delete.ExitCode);
        Assert.True(delete.Json().GetProperty("deleted").GetBoolean());
        Assert.Equal(1, badKey.ExitCode);
        Assert.Contains("(invalid_session_key, HTTP 400)", badKey.Err);
        Assert.Equal(4, list.ExitCode);
        Assert.Equal("", list.Out);
        Assert.Equal("durar: the gateway does not list sessions yet (no GET /v1/sessions). Use durar sessions show <key> for a session whose key you know.",
            list.Err.Trim());
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial System.Text.RegularExpressions.Regex TimeStamp();
}
