namespace Durar.Actors.Providers.Messages;

/// <summary>A key's state changed; sent by the key actor to every provider attached to it, with the full health for ordering.</summary>
internal sealed record KeyStateChanged(KeyStateView View, KeyHealth Health) : IDurarWireMessage
{
    /// <summary>Until when the key's per-minute budget is spent (<see cref="Catalog.KeyLimits"/>); null = it has room.</summary>
    public DateTimeOffset? LimitedUntil { get; init; }
}

/// <summary>A key's credential changed inside the key actor (an OAuth refresh); sent to its providers so their copies follow.</summary>
internal sealed record KeyCredentialChanged(ApiKeyCredential Credential) : IDurarWireMessage;
