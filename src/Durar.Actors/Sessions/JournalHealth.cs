using Akka.Actor;

namespace Durar.Actors.Sessions;

/// <summary>
/// What this node knows of its journal's health, for session turns: a failed session write or recovery marks the journal
/// down for <c>gateway.sessions.journalRetryAfter</c>, during which turns answer 503 <c>journal_unavailable</c> at once
/// (instead of each waiting for its own timeout); the first turn after it tries the journal again, so the node recovers
/// by itself when the journal returns. One per actor system (an Akka extension), read on the HTTP path without a message.
/// </summary>
internal sealed class JournalHealth : IExtension
{
    private long _downUntilTicks;
    private volatile TaskCompletionSource _wentDown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static JournalHealth For(ActorSystem system) => system.WithExtension<JournalHealth, JournalHealthId>();

    /// <summary>Marks the journal down until <paramref name="until"/> and wakes every turn waiting on <see cref="WentDown"/>.</summary>
    public void MarkDown(DateTimeOffset until)
    {
        Interlocked.Exchange(ref _downUntilTicks, until.UtcTicks);
        var woken = Interlocked.Exchange(ref _wentDown, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        woken.TrySetResult();
    }

    /// <summary>True, with how long to wait, while the journal counts as down at <paramref name="now"/>.</summary>
    public bool IsDown(DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = new DateTimeOffset(Interlocked.Read(ref _downUntilTicks), TimeSpan.Zero) - now;
        return retryAfter > TimeSpan.Zero;
    }

    /// <summary>Completes the next time the journal is marked down.</summary>
    public Task WentDown => _wentDown.Task;

    private sealed class JournalHealthId : ExtensionIdProvider<JournalHealth>
    {
        public override JournalHealth CreateExtension(ExtendedActorSystem system) => new();
    }
}
