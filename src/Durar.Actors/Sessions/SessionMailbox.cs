using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Durar.Actors.Sessions;

/// <summary>
/// The mailbox of session entities: an unbounded deque (what a persistent actor's stash requires) whose queue holds no
/// storage while it is empty. Akka's default mailbox keeps a <c>ConcurrentQueue</c> segment of 32 slots (about 1.1 kB)
/// for the life of the actor, and an idle session holds nothing else that large; this one costs its own 40 bytes.
/// </summary>
/// <remarks>Registered under <see cref="Id"/> by <see cref="SessionsHosting"/>; session props use it via <c>WithMailbox</c>.</remarks>
internal sealed class SessionMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<SessionMessageQueue>
{
    /// <summary>The mailbox's HOCON path (its id for <see cref="Props.WithMailbox"/>).</summary>
    public const string Id = "akka.actor.durar-session-mailbox";

    /// <summary>The HOCON that registers the mailbox type under <see cref="Id"/>.</summary>
    public const string Hocon = Id + " { mailbox-type = \"Durar.Actors.Sessions.SessionMailbox, Durar.Actors\" }";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new SessionMessageQueue();
}

/// <summary>
/// A multi-producer, single-consumer FIFO queue with a front (for unstashing) that allocates one small node per message
/// and nothing while empty. Producers push onto a lock-free stack; the consumer, when its own list runs dry, takes the
/// whole stack in one exchange and reverses it, so messages come out in the order their pushes took effect.
/// </summary>
/// <remarks>
/// Only the mailbox's consumer (the thread running the actor) calls <see cref="TryDequeue"/>, <see cref="EnqueueFirst"/>
/// and <see cref="CleanUp"/>; Akka's mailbox status hand-off orders one run's consumer-side writes before the next run.
/// <see cref="Count"/> is incremented before a message becomes visible and decremented after it is taken, so it never
/// undercounts: <see cref="HasMessages"/> = false means the queue really was empty (a producer schedules the mailbox after
/// its push anyway).
/// </remarks>
internal sealed class SessionMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private sealed class Node(Envelope envelope, Node? next)
    {
        public readonly Envelope Envelope = envelope;
        public Node? Next = next;
    }

    private Node? _incoming; // pushed by producers, newest first
    private Node? _head;     // the consumer's list, oldest first
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        Interlocked.Increment(ref _count);
        var node = new Node(envelope, null);
        var seen = Volatile.Read(ref _incoming);
        while (true)
        {
            node.Next = seen;
            var actual = Interlocked.CompareExchange(ref _incoming, node, seen);
            if (ReferenceEquals(actual, seen)) return;
            seen = actual;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        var node = _head;
        if (node is null)
        {
            if (Volatile.Read(ref _incoming) is null)
            {
                envelope = default;
                return false;
            }
            // Take every pushed message at once and put it in arrival order.
            var pushed = Interlocked.Exchange(ref _incoming, null);
            while (pushed is not null)
            {
                var next = pushed.Next;
                pushed.Next = node;
                node = pushed;
                pushed = next;
            }
        }
        _head = node!.Next;
        envelope = node.Envelope;
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Puts a message at the very front (the stash's unstash calls this newest-first, as for Akka's deque).</summary>
    public void EnqueueFirst(Envelope envelope)
    {
        Interlocked.Increment(ref _count);
        _head = new Node(envelope, _head);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
