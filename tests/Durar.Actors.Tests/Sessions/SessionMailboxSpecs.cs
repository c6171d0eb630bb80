using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The session mailbox's queue: FIFO, a front for unstashing, exact emptiness, every message of concurrent producers
/// exactly once and in each producer's order; and an actor with a stash running on it in a real actor system.
/// </summary>
public sealed class SessionMailboxSpecs() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon),
    nameof(SessionMailboxSpecs))
{
    private static Envelope Env(object message) => new(message, ActorRefs.NoSender);

    private static List<object> Drain(SessionMessageQueue queue)
    {
        var taken = new List<object>();
        while (queue.TryDequeue(out var e)) taken.Add(e.Message);
        return taken;
    }

    [Fact]
    public void Should_be_empty_until_a_message_is_enqueued_and_again_once_it_is_taken()
    {
        var queue = new SessionMessageQueue();
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryDequeue(out _));

        queue.Enqueue(ActorRefs.Nobody, Env("a"));
        Assert.True(queue.HasMessages);
        Assert.Equal(1, queue.Count);

        Assert.True(queue.TryDequeue(out var e));
        Assert.Equal("a", e.Message);
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void Should_keep_arrival_order_across_messages_enqueued_while_others_are_being_taken()
    {
        var queue = new SessionMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, Env(1));
        queue.Enqueue(ActorRefs.Nobody, Env(2));
        Assert.True(queue.TryDequeue(out var first));
        queue.Enqueue(ActorRefs.Nobody, Env(3)); // arrives while 2 already sits on the consumer's side
        queue.Enqueue(ActorRefs.Nobody, Env(4));
        Assert.Equal(3, queue.Count);

        Assert.Equal(1, first.Message);
        Assert.Equal([2, 3, 4], Drain(queue));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Should_put_enqueue_first_messages_ahead_of_everything_newest_first()
    {
        var queue = new SessionMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, Env("queued-1"));
        queue.Enqueue(ActorRefs.Nobody, Env("queued-2"));
        // A stash unstashes newest-first through EnqueueFirst, so stashed-1 ends up in front of stashed-2.
        queue.EnqueueFirst(Env("stashed-2"));
        queue.EnqueueFirst(Env("stashed-1"));
        Assert.Equal(4, queue.Count);
        Assert.True(queue.HasMessages);

        Assert.Equal(["stashed-1", "stashed-2", "queued-1", "queued-2"], Drain(queue));
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void Should_hand_dead_letters_every_message_left_in_order_on_clean_up()
    {
        var queue = new SessionMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, Env("b"));
        queue.EnqueueFirst(Env("a"));
        queue.Enqueue(ActorRefs.Nobody, Env("c"));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        var dead = new List<object>();
        while (deadLetters.TryDequeue(out var e)) dead.Add(e.Message);
        Assert.Equal(["a", "b", "c"], dead);
    }

    [Fact]
    public void Should_deliver_every_message_of_concurrent_producers_once_and_in_each_producers_order()
    {
        const int producers = 4, perProducer = 20_000;
        var queue = new SessionMessageQueue();
        using var start = new Barrier(producers + 1);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perProducer; i++) queue.Enqueue(ActorRefs.Nobody, Env((p, i)));
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());

        // One consumer takes while the producers push (as the actor's thread does); the deadline only bounds a hang.
        var next = new int[producers];
        var received = 0;
        start.SignalAndWait();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (received < producers * perProducer && DateTime.UtcNow < deadline)
        {
            if (!queue.TryDequeue(out var e))
            {
                Thread.Yield();
                continue;
            }
            var (p, i) = ((int, int))e.Message;
            Assert.Equal(next[p], i);
            next[p]++;
            received++;
        }
        threads.ForEach(t => t.Join(TimeSpan.FromSeconds(30)));

        Assert.Equal(producers * perProducer, received);
        Assert.All(next, n => Assert.Equal(perProducer, n));
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void Should_be_an_unbounded_deque_as_a_persistent_actors_stash_requires()
    {
        var mailbox = Sys.Mailboxes.Lookup(SessionMailbox.Id);
        Assert.IsType<SessionMailbox>(mailbox);
        Assert.IsAssignableFrom<IUnboundedDequeBasedMessageQueueSemantics>(mailbox.Create(ActorRefs.Nobody, Sys));
    }

    /// <summary>Stashes everything until "open", then unstashes and echoes in order.</summary>
    private sealed class Gate : UntypedActor, IWithUnboundedStash
    {
        public IStash Stash { get; set; } = null!;

        protected override void OnReceive(object message)
        {
            if (message is "open")
            {
                Become(m => Sender.Tell(m));
                Stash.UnstashAll();
            }
            else Stash.Stash();
        }
    }

    [Fact]
    public void Should_run_an_actor_with_a_stash_in_order_on_it()
    {
        var gate = Sys.ActorOf(Props.Create(() => new Gate()).WithMailbox(SessionMailbox.Id));
        for (var i = 0; i < 5; i++) gate.Tell(i, TestActor);
        gate.Tell("open", TestActor);
        gate.Tell(5, TestActor);

        for (var i = 0; i <= 5; i++) ExpectMsg(i);
    }
}
