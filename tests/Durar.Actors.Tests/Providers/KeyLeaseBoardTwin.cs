using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// A key as a <see cref="KeyLeaseBoardSpecs"/> scenario names it. The same name gives the same secret, source and type on
/// both twins; only the id differs (a key id contains its provider id).
/// </summary>
internal sealed record KeyLeaseBoardKey(string Name, string Type = CredentialTypes.ApiKey, TimeSpan? ExpiresIn = null, bool OAuth = false)
{
    /// <summary>The name (and source) of <see cref="ApiKeyCredential.Keyless"/>.</summary>
    public const string KeylessName = "none";

    public static KeyLeaseBoardKey Keyless { get; } = new(KeylessName);

    public static KeyLeaseBoardKey Api(string name) => new(name);

    public static KeyLeaseBoardKey Token(string name, TimeSpan expiresIn) => new(name, CredentialTypes.Token, expiresIn);

    public static KeyLeaseBoardKey OAuthProfile(string name, TimeSpan expiresIn) => new(name, CredentialTypes.OAuth, expiresIn, OAuth: true);

    public ApiKeyCredential For(string providerId, DateTimeOffset start)
    {
        if (Name == KeylessName) return ApiKeyCredential.Keyless(providerId);
        var credential = ApiKeyCredential.For(providerId, "secret-" + Name, Name) with { Type = Type, ExpiresAt = start + ExpiresIn };
        // No token client in these specs: an OAuth key is never refreshed, its actor just leases (or bounces once expired).
        return OAuth ? credential with { OAuth = new OAuthGrant("refresh-" + Name, "http://127.0.0.1:9/oauth/token", null) } : credential;
    }
}

/// <summary>
/// Two provider actors with the same keys, order and limits: <see cref="P"/> publishes to the board under test and
/// <see cref="Q"/> (no board) is the reference. Every lease is taken from the board for P and from Q's actor with an
/// Ask, so a difference in the choice shows at the step it happens; outcomes go to both, the way
/// <see cref="Durar.Actors.Routing.ChatRunner"/> reports them (a failure is noted on the board first).
/// </summary>
internal sealed class KeyLeaseBoardTwin
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TestKitBase _kit;
    private readonly Dictionary<string, string> _nameById = new(StringComparer.Ordinal);
    private readonly List<(string Name, IActorRef P, IActorRef Q)> _keyActors = [];

    private KeyLeaseBoardTwin(TestKitBase kit, KeyLeaseBoard board, KeyLimits limits, string fast, string reference)
    {
        _kit = kit;
        Fast = fast;
        Reference = reference;
        Board = board;
        Limits = limits;
    }

    /// <summary>The provider ids of <see cref="P"/> and <see cref="Q"/>.</summary>
    public string Fast { get; }
    public string Reference { get; }
    public KeyLeaseBoard Board { get; }
    public KeyLimits Limits { get; }
    public IActorRef P { get; private set; } = ActorRefs.Nobody;
    public IActorRef Q { get; private set; } = ActorRefs.Nobody;
    public ImmutableDictionary<string, ApiKeyCredential> PKeys { get; private set; } = ImmutableDictionary<string, ApiKeyCredential>.Empty;
    public ImmutableDictionary<string, ApiKeyCredential> QKeys { get; private set; } = ImmutableDictionary<string, ApiKeyCredential>.Empty;
    public ImmutableArray<string> Names { get; private set; } = [];

    /// <summary>Counts of the leases the board served and declined (the caller then asks P's actor).</summary>
    public int Served { get; private set; }
    public int Declined { get; private set; }

    /// <param name="order"><c>auth.order</c>: <c>id:NAME</c> names a key by its id, anything else is a source (the key name).</param>
    public static KeyLeaseBoardTwin Start(TestKitBase kit, KeyLeaseBoard board, FailoverSettings failover, IReadOnlyList<KeyLeaseBoardKey> keys,
        IReadOnlyList<string>? order = null, KeyLimits? limits = null, CooldownSettings? cooldowns = null, string fast = "p", string reference = "q")
    {
        var twin = new KeyLeaseBoardTwin(kit, board, limits ?? KeyLimits.None, fast, reference);
        var start = kit.Sys.Scheduler.Now;
        twin.Names = [.. keys.Select(k => k.Name)];
        twin.PKeys = keys.ToImmutableDictionary(k => k.Name, k => k.For(fast, start));
        twin.QKeys = keys.ToImmutableDictionary(k => k.Name, k => k.For(reference, start));
        foreach (var (name, c) in twin.PKeys) twin._nameById[c.Id] = name;
        foreach (var (name, c) in twin.QKeys) twin._nameById[c.Id] = name;
        twin.P = twin.StartProvider(fast, twin.PKeys, order, board, failover, cooldowns);
        twin.Q = twin.StartProvider(reference, twin.QKeys, order, null, failover, cooldowns);
        foreach (var name in twin.Names)
            twin._keyActors.Add((name, twin.KeyActor(twin.P, twin.PKeys[name]), twin.KeyActor(twin.Q, twin.QKeys[name])));
        board.Open();
        return twin;
    }

    private IActorRef StartProvider(string id, ImmutableDictionary<string, ApiKeyCredential> keys, IReadOnlyList<string>? order,
        KeyLeaseBoard? board, FailoverSettings failover, CooldownSettings? cooldowns)
    {
        var definition = new ProviderDefinition
        {
            Id = id, Name = id, Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key", Limits = Limits,
        };
        ImmutableArray<string> explicitOrder = order is null
            ? []
            : [.. order.Select(e => e.StartsWith("id:", StringComparison.Ordinal) ? keys[e[3..]].Id : e)];
        var provider = _kit.Sys.ActorOf(ProviderActor.Props(definition, [.. Names.Select(n => keys[n])], explicitOrder,
            KeySettings.Default with { Cooldowns = cooldowns ?? CooldownSettings.Default }, failover, board: board), ActorNames.Provider(id));
        Sync(provider, id); // answered once every key reported its health (the provider is Active and has published)
        return provider;
    }

    private IActorRef KeyActor(IActorRef provider, ApiKeyCredential key) =>
        _kit.Sys.ActorSelection(provider.Path / ActorNames.Key(key.Id)).ResolveOne(Patience).GetAwaiter().GetResult();

    public string NameOf(string keyId) => _nameById[keyId];

    public ProviderStateView Sync(IActorRef provider, string id)
    {
        provider.Tell(new ProviderCommands.GetProviderState(id), _kit.TestActor);
        return _kit.ExpectMsg<ProviderStateView>(Patience);
    }

    /// <summary>
    /// A quiescent point: both providers have read everything sent to them, every key actor has handled everything before
    /// (timers the clock fired, forwarded reports, their journal writes) and pushed it, and the providers have read those
    /// pushes. A key's attach answer comes after the key's earlier pushes, so the second round of syncs reads them all.
    /// </summary>
    public void Settle()
    {
        Sync(P, Fast);
        Sync(Q, Reference);
        foreach (var (name, p, q) in _keyActors)
        {
            Ping(p, PKeys[name]);
            Ping(q, QKeys[name]);
        }
        Sync(P, Fast);
        Sync(Q, Reference);
    }

    private void Ping(IActorRef key, ApiKeyCredential credential)
    {
        var probe = _kit.CreateTestProbe();
        key.Tell(new KeyCommands.Attach(probe.Ref, credential, null, Limits), probe.Ref);
        probe.ExpectMsg<KeyStateChanged>(Patience);
        key.Tell(new KeyCommands.Detach(probe.Ref), probe.Ref);
        _kit.Sys.Stop(probe.Ref);
    }

    /// <summary>
    /// One lease for the same request on both twins: P from the board (from its actor when the board declines, as
    /// <see cref="Durar.Actors.Routing.ChatRunner"/> does) and Q from its actor. Asserts they chose the same key, and that the board
    /// declined only what the actor must decide. Returns the key's name, or null when no key can serve.
    /// </summary>
    public string? Lease(string model, IReadOnlyCollection<string>? excluded = null, string? preferred = null, string? step = null)
    {
        excluded ??= [];
        var now = _kit.Sys.Scheduler.Now;
        var what = $"{step} (model {model}, excluded [{string.Join(",", excluded)}], pinned {preferred ?? "-"}, at {now:HH:mm:ss.fff})";
        var fast = Board.TryLease(Fast, model, Ids(PKeys, excluded), preferred is null ? null : PKeys[preferred].Id);
        Q.Tell(new ProviderCommands.AcquireKey(Reference, model, Ids(QKeys, excluded)) { PreferredKeyId = preferred is null ? null : QKeys[preferred].Id },
            _kit.TestActor);
        var expected = _kit.ExpectMsg<LeaseResult>(Patience);
        var expectedName = expected is KeyLease k ? NameOf(k.KeyId) : null;

        if (fast is not null)
        {
            Served++;
            Assert.True(NameOf(fast.KeyId) == expectedName,
                $"{what}: the board leased {NameOf(fast.KeyId)}, the actor {expectedName ?? "no key: " + ((NoKeyAvailable)expected).Message}");
            Assert.Equal(PKeys[expectedName!].Secret, fast.Secret);
            Assert.Equal(P, fast.KeyActor); // outcome reports go to the provider, which applies and forwards them
            return expectedName;
        }

        Declined++;
        var justified = expected is NoKeyAvailable
            || QKeys[expectedName!].OAuth is not null
            || Limits.Rpm is not null
            // A pinned token that expired: the actor picks it, its key actor sends the lease back for another key.
            || (preferred is not null && !excluded.Contains(preferred) && !PKeys[preferred].UsableAt(now))
            // The same for an OAuth access token that expired (never refreshed here): the first pick is the OAuth key.
            || PKeys.Any(e => e.Value.OAuth is not null && !excluded.Contains(e.Key) && e.Value.ExpiresAt <= now);
        Assert.True(justified, $"{what}: the board declined, but the actor leased the plain key {expectedName}");

        P.Tell(new ProviderCommands.AcquireKey(Fast, model, Ids(PKeys, excluded)) { PreferredKeyId = preferred is null ? null : PKeys[preferred].Id },
            _kit.TestActor);
        var actual = _kit.ExpectMsg<LeaseResult>(Patience);
        switch (expected, actual)
        {
            case (KeyLease, KeyLease lease):
                Assert.True(NameOf(lease.KeyId) == expectedName, $"{what}: P's actor leased {NameOf(lease.KeyId)}, Q's {expectedName}");
                break;
            case (NoKeyAvailable e, NoKeyAvailable a):
                Assert.Equal(e.Reason, a.Reason);
                Assert.Equal(e.RetryAt, a.RetryAt);
                break;
            default:
                Assert.Fail($"{what}: P's actor answered {actual}, Q's {expected}");
                break;
        }
        return expectedName;
    }

    /// <summary>Reports an attempt's outcome on both twins, as <see cref="Durar.Actors.Routing.ChatRunner"/> does (a failure reaches the board first).</summary>
    public void Report(string name, string model, AttemptOutcome outcome)
    {
        if (outcome is AttemptOutcome.Failed failed) Board.NoteFailure(P, Fast, PKeys[name].Id, model, failed);
        P.Tell(new KeyCommands.ReportOutcome(PKeys[name].Id, model, outcome), _kit.TestActor);
        Q.Tell(new KeyCommands.ReportOutcome(QKeys[name].Id, model, outcome), _kit.TestActor);
    }

    /// <summary>Both providers' operator views agree key by key (health, lease counts, failures).</summary>
    public void AssertSameState()
    {
        var p = Sync(P, Fast).Keys.ToDictionary(k => NameOf(k.KeyId));
        var q = Sync(Q, Reference).Keys.ToDictionary(k => NameOf(k.KeyId));
        foreach (var name in Names)
        {
            Assert.Equal((name, q[name].State, q[name].Until, q[name].ErrorCount, q[name].Requests, q[name].Failures),
                (name, p[name].State, p[name].Until, p[name].ErrorCount, p[name].Requests, p[name].Failures));
        }
    }

    private static ImmutableHashSet<string> Ids(ImmutableDictionary<string, ApiKeyCredential> keys, IReadOnlyCollection<string> names) =>
        names.Count == 0 ? ImmutableHashSet<string>.Empty : names.Select(n => keys[n].Id).ToImmutableHashSet();
}
