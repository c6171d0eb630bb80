using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Routing;

/// <summary>
/// The run's side of the key protocol: a lease for one attempt (from the provider actors' published keys on the
/// <see cref="KeyLeaseBoard"/> when it can decide, else an Ask to the provider actor; the only Ask on the request path, an
/// edge between a request and the actors), and the attempt's outcome reported back, the way the key state wants it.
/// </summary>
internal sealed class KeyLeaseClient(IActorRef providers, TimeSpan askTimeout, KeyLeaseBoard? board)
{
    /// <summary>A key for one attempt on <paramref name="candidate"/>, or why none can serve.</summary>
    public ValueTask<LeaseResult> LeaseAsync(ResolvedModel candidate, ImmutableHashSet<string> tried, ProbeMode probe, string? preferred, CancellationToken ct)
    {
        if (probe == ProbeMode.None && board?.TryLease(candidate.Provider.Id, candidate.Model.Id, tried, preferred) is { } lease)
            return ValueTask.FromResult<LeaseResult>(lease);
        return new ValueTask<LeaseResult>(AskAsync(candidate, tried, probe, preferred, ct));
    }

    private async Task<LeaseResult> AskAsync(ResolvedModel candidate, ImmutableHashSet<string> tried, ProbeMode probe, string? preferred, CancellationToken ct)
    {
        try
        {
            var result = await providers.Ask<LeaseResult>(
                new ProviderCommands.AcquireKey(candidate.Provider.Id, candidate.Model.Id, tried, probe) { PreferredKeyId = preferred }, askTimeout, ct)
                .ConfigureAwait(false);
            return result is KeyLease { Secret: null, HasSecret: true } remote ? await WithLocalSecretAsync(candidate.Provider.Id, remote, ct).ConfigureAwait(false) : result;
        }
        catch (AskTimeoutException)
        {
            return new NoKeyAvailable(candidate.Provider.Id, $"Provider \"{candidate.Provider.Id}\" did not answer in time.", FailoverReason.Timeout, null);
        }
    }

    /// <summary>
    /// A lease from a key entity on another node arrives without its secret (secrets do not cross the cluster in leases):
    /// the secret is this node's own copy of the credential. After an OAuth refresh on the key's node the new token reaches
    /// this node's provider in a push that may still be on its way: an older copy is waited for (briefly), never sent.
    /// </summary>
    private async Task<LeaseResult> WithLocalSecretAsync(string providerId, KeyLease lease, CancellationToken ct)
    {
        var waitUntil = DateTime.UtcNow + (askTimeout < MaxCredentialWait ? askTimeout : MaxCredentialWait);
        while (true)
        {
            if (board?.Credential(providerId, lease.KeyId) is { Secret: { } secret } credential
                && (lease.CredentialExpiresAt is not { } granted || credential.ExpiresAt >= granted))
                return lease with { Secret = secret };
            if (DateTime.UtcNow >= waitUntil)
                return new NoKeyAvailable(providerId, $"The current credential of key {lease.KeyId} has not reached this node yet.", FailoverReason.Timeout, null);
            await Task.Delay(CredentialPoll, ct).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan MaxCredentialWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan CredentialPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Reports one attempt's outcome to the provider that leased the key. A failure reaches the board first, so this node's next
    /// lease skips the key even before the actor reads the report; a success of a healthy plain key is bookkeeping only and goes
    /// into the provider's next usage batch instead of a message per request.
    /// </summary>
    public void Report(KeyLease key, ResolvedModel model, AttemptOutcome outcome)
    {
        if (outcome is AttemptOutcome.Failed failed) board?.NoteFailure(key.KeyActor, model.Provider.Id, key.KeyId, model.Model.Id, failed);
        else if (outcome is AttemptOutcome.Succeeded ok && board is not null && board.TryAbsorbSuccess(key.KeyActor, model.Provider.Id, key.KeyId, ok)) return;
        key.KeyActor.Tell(new KeyCommands.ReportOutcome(key.KeyId, model.Model.Id, outcome));
    }
}
