using System.Collections.Immutable;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// What one node's provider registry holds from the auth-profile store: the credentials and order overrides last handed to
/// it, and the revision they came from. <see cref="Apply"/> turns a whole credential set into the provider commands that
/// bring the registry from this state to that set (only the differences, so a repeated set changes nothing).
/// </summary>
internal sealed record AuthProfileSubscriberState(
    AuthProfileRevision? Applied,
    ImmutableDictionary<string, ApiKeyCredential> Served,
    ImmutableSortedDictionary<string, ImmutableArray<string>> Orders)
{
    public static readonly AuthProfileSubscriberState Empty = new(null,
        ImmutableDictionary.Create<string, ApiKeyCredential>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal));

    /// <summary>
    /// True when <paramref name="set"/> is older than what was applied (same store run, lower revision): it is ignored. A
    /// set of another run (the store restarted or moved) always applies.
    /// </summary>
    public bool IsStale(AuthProfileRevision set) =>
        Applied is { } applied && applied.Incarnation == set.Incarnation && set.Revision < applied.Revision;

    /// <summary>The new state and the commands that take the registry there: upserts, then removals, then orders.</summary>
    public (AuthProfileSubscriberState Next, ImmutableArray<IProviderCommand> Commands) Apply(AuthProfileCredentials set)
    {
        var commands = ImmutableArray.CreateBuilder<IProviderCommand>();
        var served = ImmutableDictionary.CreateBuilder<string, ApiKeyCredential>(StringComparer.Ordinal);
        foreach (var credential in set.Credentials.IsDefault ? ImmutableArray<ApiKeyCredential>.Empty : set.Credentials)
        {
            served[credential.Id] = credential;
            if (!Served.TryGetValue(credential.Id, out var previous) || previous != credential)
                commands.Add(new ProviderCommands.UpsertCredential(credential.ProviderId, credential));
        }
        foreach (var (id, previous) in Served.OrderBy(e => e.Key, StringComparer.Ordinal))
            if (!served.ContainsKey(id))
                commands.Add(new ProviderCommands.RemoveCredential(previous.ProviderId, id));

        var orders = (set.Orders ?? ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty)
            .Where(o => !o.Value.IsDefaultOrEmpty)
            .ToImmutableSortedDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal);
        foreach (var (provider, order) in orders)
            if (!Orders.TryGetValue(provider, out var previous) || !previous.SequenceEqual(order, StringComparer.Ordinal))
                commands.Add(new ProviderCommands.SetOrder(provider, order));
        foreach (var provider in Orders.Keys)
            if (!orders.ContainsKey(provider))
                commands.Add(new ProviderCommands.SetOrder(provider, []));

        return (new AuthProfileSubscriberState(set.Revision, served.ToImmutable(), orders), commands.ToImmutable());
    }
}
