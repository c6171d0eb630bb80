using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// How one provider reaches its keys: a child per key (the handle <see cref="IKeyHosting"/> gives it), the key actor itself
/// once a push named it (watched), the keys being removed whose handle has not stopped yet, and resets waiting for a key
/// actor to come back. It is the provider's child bookkeeping, kept apart so that <see cref="ProviderActor"/> only
/// orchestrates: messages in, <see cref="ProviderKeys"/> decides, this reaches the keys.
/// </summary>
internal sealed class KeyRoutes(IActorContext context, IKeyHosting hosting, KeyLimits limits)
{
    private readonly Dictionary<string, KeyRoute> _routes = new(StringComparer.Ordinal);
    /// <summary>
    /// Keys removed whose handle has not stopped yet, with the credential to serve again once it has: the new key actor has the
    /// same name and persistence id, so it must not start before the old one is gone.
    /// </summary>
    private readonly Dictionary<string, StoppingKey> _stopping = new(StringComparer.Ordinal);

    public int Count => _routes.Count;

    /// <summary>False when the key is not (or no longer) served.</summary>
    public bool TryGet(string keyId, out KeyRoute route) => _routes.TryGetValue(keyId, out route!);

    /// <summary>Starts the key's handle; the key actor behind it reports its state to the provider.</summary>
    public KeyRoute Add(ApiKeyCredential credential, IActorRef? owner)
    {
        var route = new KeyRoute(StartHandle(credential, owner), owner) { Credential = credential };
        _routes[credential.Id] = route;
        return route;
    }

    /// <summary>A credential for a key being removed: served again once its old handle has stopped. False = not stopping.</summary>
    public bool DeferWhileStopping(string keyId, (ApiKeyCredential Credential, IActorRef? Owner)? again)
    {
        if (!_stopping.TryGetValue(keyId, out var stopping)) return false;
        stopping.Restart = again;
        return true;
    }

    /// <summary>Stops serving the key: its handle stops (and is remembered until it has); null when the key was not served.</summary>
    public KeyRoute? Remove(string keyId, IActorRef provider)
    {
        if (!_routes.Remove(keyId, out var route)) return null;
        if (route.Entity is not null) context.Unwatch(route.Entity);
        hosting.Forget(keyId, provider);
        _stopping[keyId] = new StoppingKey(route.Handle);
        context.Stop(route.Handle);
        return route;
    }

    /// <summary>A push from <paramref name="sender"/>: from now on the key's messages go straight to it (watched).</summary>
    public void Pushed(KeyRoute route, IActorRef sender)
    {
        if (sender.IsNobody() || sender.Equals(route.Entity) || sender.Equals(route.Handle)) return;
        if (route.Entity is not null) context.Unwatch(route.Entity);
        route.Entity = context.Watch(sender);
    }

    /// <summary>What a watched actor's stop means for the keys.</summary>
    public Stopped OnTerminated(IActorRef actor)
    {
        foreach (var (keyId, route) in _routes)
        {
            if (actor.Equals(route.Entity))
            {
                // A sharded entity comes back with the next message through the handle; a local key actor is restarted by its
                // supervisor, and is down until it reports again.
                route.Entity = null;
                return new Stopped.KeyActor(keyId, Down: !hosting.ReachableWhileStopped);
            }
            if (actor.Equals(route.Handle))
            {
                // A handle never stops on its own: start a new one rather than lose the key.
                route.Handle = StartHandle(route.Credential, route.Owner);
                return new Stopped.Handle(keyId);
            }
        }
        var removed = _stopping.FirstOrDefault(e => e.Value.Handle.Equals(actor)).Key;
        if (removed is not null && _stopping.Remove(removed, out var done) && done.Restart is { } again)
            return new Stopped.Removed(again.Credential, again.Owner);
        return new Stopped.Nothing();
    }

    /// <summary>The provider serves a new secret for a key it has: remembered for the key's next start.</summary>
    public void Remember(KeyRoute route, ApiKeyCredential credential, IActorRef? owner)
    {
        route.Credential = credential;
        route.Owner = owner;
        hosting.Remember(credential, owner, limits);
    }

    /// <summary>The key actor refreshed its credential (OAuth).</summary>
    public void Refreshed(KeyRoute route, KeyCredentialChanged changed)
    {
        route.Credential = changed.Credential;
        hosting.Remember(changed.Credential, route.Owner, limits);
        hosting.CredentialRefreshed(route.Handle, changed);
    }

    private IActorRef StartHandle(ApiKeyCredential credential, IActorRef? owner)
    {
        hosting.Remember(credential, owner, limits);
        return context.Watch(context.ActorOf(hosting.Handle(credential, owner, limits, context.Self), ActorNames.Key(credential.Id)));
    }

    private sealed class StoppingKey(IActorRef handle)
    {
        public IActorRef Handle { get; } = handle;
        public (ApiKeyCredential Credential, IActorRef? Owner)? Restart { get; set; }
    }

    /// <summary>What <see cref="OnTerminated"/> found.</summary>
    public abstract record Stopped
    {
        /// <summary>A key actor stopped; <paramref name="Down"/> when the key is unreachable until its actor reports again.</summary>
        public sealed record KeyActor(string KeyId, bool Down) : Stopped;

        /// <summary>A handle stopped on its own and was started again.</summary>
        public sealed record Handle(string KeyId) : Stopped;

        /// <summary>A removed key's handle is gone, and the key is to be served again with this credential.</summary>
        public sealed record Removed(ApiKeyCredential Credential, IActorRef? Owner) : Stopped;

        public sealed record Nothing : Stopped;
    }
}

/// <summary>How a provider reaches one key: its handle (a child), and the key actor itself once a push named it.</summary>
internal sealed class KeyRoute(IActorRef handle, IActorRef? owner)
{
    public IActorRef Handle { get; set; } = handle;
    public IActorRef? Owner { get; set; } = owner;
    /// <summary>The credential the handle was started with or last told about (to start a new handle with).</summary>
    public ApiKeyCredential Credential { get; set; } = null!;
    /// <summary>The key actor (the sender of its pushes), watched; null until known or after it stopped.</summary>
    public IActorRef? Entity { get; set; }
    /// <summary>Operator resets that arrived while the key was down, delivered when its actor is back.</summary>
    public List<(ProviderCommands.ResetKey Reset, IActorRef ReplyTo)> PendingResets { get; } = [];

    /// <summary>Where this key's messages go: its key actor when known, else its handle.</summary>
    public IActorRef Target => Entity ?? Handle;
}
