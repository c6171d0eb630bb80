using Akka.Actor;

namespace Durar.Actors.Providers.Messages;

/// <summary>
/// Published on this node's Akka <see cref="Akka.Event.EventStream"/> by a provider actor each time one of its keys' actors
/// pushes a new state (<see cref="KeyStateChanged"/>): a cooldown or disable starting or ending, a reset, a spent minute
/// budget, usage totals flushed. It exists for observers on the node (the operator dashboard's live feed) that want key
/// changes as they happen without polling the actors; with no subscriber nobody receives it. Local only, never sent to
/// another node (every node's provider actor publishes its own).
/// </summary>
/// <param name="ProviderId">The provider the key belongs to.</param>
/// <param name="View">The key's operator view as <c>GET /v1/admin/providers</c> shows it (this node's lease counts).</param>
public sealed record KeyStateObserved(string ProviderId, KeyStateView View) : INoSerializationVerificationNeeded;
