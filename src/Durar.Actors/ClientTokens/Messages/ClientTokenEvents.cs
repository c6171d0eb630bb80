namespace Durar.Actors.ClientTokens.Messages;

/// <summary>What a client token's actor journals: its creation, rotations, revocation and usage (the budget ledger).</summary>
internal interface IClientTokenEvent : IDurarPersistable;

/// <summary>
/// The events of one client token (persistence id <c>client-token-&lt;id&gt;</c>). Each carries what it decided (the hash,
/// the time), so replaying never depends on today's configuration.
/// </summary>
internal static class ClientTokenEvents
{
    /// <summary>The token was created with <paramref name="Spec"/>; <paramref name="SecretHash"/> is the SHA-256 of its secret.</summary>
    public sealed record Created(string TokenId, ClientTokenSpec Spec, string SecretHash, DateTimeOffset At) : IClientTokenEvent;

    /// <summary>A new secret replaced the old one, which stops working at once.</summary>
    public sealed record Rotated(string SecretHash, DateTimeOffset At) : IClientTokenEvent;

    /// <summary>The token stops working for good.</summary>
    public sealed record Revoked(DateTimeOffset At) : IClientTokenEvent;

    /// <summary>Requests answered with their tokens and cost (the spend of the period that holds <paramref name="At"/>).</summary>
    public sealed record Used(long Requests, long PromptTokens, long CompletionTokens, decimal Cost, DateTimeOffset At) : IClientTokenEvent;
}

/// <summary>A client token's state as of an event: written every <c>gateway.auth.clientTokens.snapshotEvery</c> events.</summary>
internal sealed record ClientTokenSnapshot(ClientTokenState State) : IDurarPersistable;

/// <summary>The ids of every client token ever created (persistence id <c>client-token-index</c>), for listing.</summary>
internal sealed record ClientTokenRegistered(string TokenId) : IDurarPersistable;
