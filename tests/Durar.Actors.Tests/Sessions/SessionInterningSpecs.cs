using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// Resident sessions share one instance of each model name and each set of overrides (as read back from the journal,
/// where every event brings fresh copies), and the shared value is always equal to the one applied.
/// </summary>
public sealed class SessionInterningSpecs
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    // Fresh string instances, as a deserializer makes them.
    private static string Fresh(string s) => new(s.AsSpan());

    private static SessionState Replied(string model) =>
        SessionState.Empty
            .Apply(new SessionEvents.UserMessageAccepted(At, "hi"))
            .Apply(new SessionEvents.AssistantReplied(At, "hello", model, null, null, 0m) { ReplyTo = 1 });

    [Fact]
    public void Should_share_the_model_name_of_replies_across_sessions()
    {
        var a = Replied(Fresh("interning/model-a"));
        var b = Replied(Fresh("interning/model-a"));

        Assert.Equal("interning/model-a", a.LastModel);
        Assert.Same(a.LastModel, b.LastModel);
        Assert.Same(a.Transcript[1].Model, b.Transcript[1].Model);
        Assert.Same(a.LastModel, a.Transcript[1].Model);
    }

    [Fact]
    public void Should_share_equal_overrides_across_sessions_and_keep_them_equal_to_what_was_applied()
    {
        SessionOverrides Pin() => new()
        {
            AuthProfile = Fresh("interning:key-1"), AuthProfileSource = OverrideSource.Auto, AuthProfileCompactionCount = 0,
            Thinking = ThinkingLevel.High,
        };
        var applied = Pin();
        var a = SessionState.Empty.Apply(new SessionEvents.OverridesChanged(At, applied));
        var b = SessionState.Empty.Apply(new SessionEvents.OverridesChanged(At, Pin()));

        Assert.Equal(applied, a.Overrides);
        Assert.Same(a.Overrides, b.Overrides);

        var other = SessionState.Empty.Apply(new SessionEvents.OverridesChanged(At, Pin() with { Thinking = ThinkingLevel.Low }));
        Assert.NotSame(a.Overrides, other.Overrides);
        Assert.Equal(ThinkingLevel.Low, other.Overrides.Thinking);
        Assert.Same(a.Overrides.AuthProfile, other.Overrides.AuthProfile);
    }

    [Fact]
    public void Should_share_the_overrides_a_reset_leaves()
    {
        var pinned = new SessionOverrides { AuthProfile = "interning:key-2", AuthProfileSource = OverrideSource.User, Fast = FastMode.On };
        var a = SessionState.Empty.Apply(new SessionEvents.OverridesChanged(At, pinned)).Apply(new SessionEvents.SessionReset(At));
        var b = SessionState.Empty.Apply(new SessionEvents.OverridesChanged(At, pinned with { Fast = FastMode.On })).Apply(new SessionEvents.SessionReset(At));

        Assert.Equal(pinned with { AuthProfileCompactionCount = null }, a.Overrides); // a user pin survives /reset
        Assert.Same(a.Overrides, b.Overrides);
    }
}
