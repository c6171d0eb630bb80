using System.Net;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Cli;

/// <summary><c>durar sessions list|show|reset|delete</c> over the sessions API of a running gateway.</summary>
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
    public async Task Should_reset_and_delete_a_session()
    {
        await using var gw = await GatewayHarness.StartAsync();
        await TurnAsync(gw, "old", "hello");

        var reset = await Cli.AgainstAsync(gw, "sessions", "reset", "old");
        var delete = await Cli.AgainstAsync(gw, "sessions", "delete", "old", "--json");
        var badKey = await Cli.AgainstAsync(gw, "sessions", "show", "no spaces allowed");

        Assert.Equal((0, "Session old reset (0 message(s) in its transcript)."), (reset.ExitCode, reset.Out.Trim()));
        Assert.Equal(0, delete.ExitCode);
        Assert.True(delete.Json().GetProperty("deleted").GetBoolean());
        Assert.Equal(1, badKey.ExitCode);
        Assert.Contains("(invalid_session_key, HTTP 400)", badKey.Err);
    }

    [Fact]
    public async Task Should_list_sessions_newest_first_with_prefix_limit_and_json_and_leave_out_deleted_ones()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "ok" };
        foreach (var key in new[] { "team-a", "team-b", "team-c", "other" }) await TurnAsync(gw, key, "hello");
        var deleted = await Cli.AgainstAsync(gw, "sessions", "delete", "team-c");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());

        var first = await Cli.AgainstAsync(gw, "sessions", "list", "--prefix", "team-", "--limit", "1");
        var json = await Cli.AgainstAsync(gw, "sessions", "list", "--prefix", "team-", "--json");
        var none = await Cli.AgainstAsync(gw, "sessions", "list", "--prefix", "nobody");
        var tooMany = await Cli.AgainstAsync(gw, "sessions", "list", "--limit", "500");

        Assert.True(first.ExitCode == 0, first.ToString());
        var lines = TimeStamp().Replace(Cli.Normalize(first.Out), "{at}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("KEY  LAST ACTIVITY  LAST MODEL  MODEL OVERRIDE", lines[0]);
        Assert.Equal("team-b  {at}  fakeoai/gpt-fake  -", lines[1]);
        Assert.StartsWith("More: durar sessions list --cursor ", lines[2]);
        var cursor = lines[2]["More: durar sessions list --cursor ".Length..].Trim();
        var second = await Cli.AgainstAsync(gw, "sessions", "list", "--prefix", "team-", "--limit", "1", "--cursor", cursor);
        Assert.Contains("team-a", second.Out);
        Assert.DoesNotContain("More:", second.Out);

        var page = json.Json();
        Assert.Equal(["team-b", "team-a"], page.GetProperty("data").EnumerateArray().Select(s => s.GetProperty("key").GetString()));
        Assert.False(page.GetProperty("hasMore").GetBoolean());
        Assert.Equal((0, "No sessions with the prefix nobody."), (none.ExitCode, none.Out.Trim()));
        Assert.Equal(2, tooMany.ExitCode);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial System.Text.RegularExpressions.Regex TimeStamp();
}
