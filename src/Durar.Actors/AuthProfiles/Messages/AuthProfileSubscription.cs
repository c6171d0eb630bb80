using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Providers;

namespace Durar.Actors.AuthProfiles.Messages;

/// <summary>
/// One state of the store's credential set: <see cref="Incarnation"/> names one run of the store (a new one after every
/// restart and every move of the cluster singleton), <see cref="Revision"/> counts the changes within it.
/// </summary>
internal sealed record AuthProfileRevision(string Incarnation, long Revision)
{
    public override string ToString() => $"{Incarnation}#{Revision}";
}

/// <summary>
/// How every node of a cluster learns the credentials of the (single) auth-profile store: the node's
/// <see cref="AuthProfileSubscriberActor"/> subscribes, the store watches it and sends it the whole current set
/// (<see cref="AuthProfileCredentials"/>) on subscription and after every change; the subscriber hands the differences to
/// its node's provider registry. Subscribers subscribe again periodically, which reaches a store that restarted or moved
/// to another node and repairs anything lost on the way.
/// </summary>
internal static class AuthProfileSubscription
{
    /// <summary>
    /// Subscribe <see cref="Subscriber"/> (again). The store sends the current set unless <see cref="Known"/> already is
    /// its current revision; null asks for the set unconditionally.
    /// </summary>
    public sealed record Subscribe(IActorRef Subscriber, AuthProfileRevision? Known) : IDurarWireMessage;

    /// <summary>
    /// From a store that just recovered (started, restarted, or moved to another node) to the subscriber name on every
    /// member: subscribe to me now. A subscriber answers the sender with <see cref="Subscribe"/>, so the nodes hear of a
    /// moved store within milliseconds instead of at their next periodic subscription.
    /// </summary>
    public sealed class StoreStarted : IDurarWireMessage
    {
        public static StoreStarted Instance { get; } = new();
        private StoreStarted() { }
    }
}

/// <summary>
/// The store's whole credential set: a credential for every eligible profile (plaintext secret: it travels only between the
/// nodes of one trusted cluster, and <see cref="ToString"/> masks it) and every stored order override.
/// </summary>
internal sealed record AuthProfileCredentials(
    AuthProfileRevision Revision,
    ImmutableArray<ApiKeyCredential> Credentials,
    ImmutableSortedDictionary<string, ImmutableArray<string>> Orders) : IDurarWireMessage
{
    public override string ToString() =>
        $"AuthProfileCredentials({Revision}, [{(Credentials.IsDefault ? "" : string.Join(", ", Credentials))}], {Orders.Count} order(s))";
}

/// <summary>
/// The admin API's question to its own node's <see cref="AuthProfileSubscriberActor"/> after a change: answer when this
/// node's providers hold <see cref="Revision"/> (or a later state), so the next request through this node sees the change.
/// Answered with <see cref="AuthProfileRevisionApplied"/>. In-process only.
/// </summary>
internal sealed record AwaitAuthProfileRevision(AuthProfileRevision Revision);

/// <summary><see cref="Applied"/> is false when the revision did not arrive within the subscriber's wait limit.</summary>
internal sealed record AuthProfileRevisionApplied(AuthProfileRevision Revision, bool Applied);
