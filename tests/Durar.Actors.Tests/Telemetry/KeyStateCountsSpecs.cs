using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Telemetry;

namespace Durar.Actors.Tests.Telemetry;

/// <summary>
/// The <c>durar.keys</c> gauge: per provider with keys, every state counted (zeros included), by the same rules as the
/// operator view: disabled over cooling, a model-scoped cooldown counts as cooling, a spent minute budget as limited,
/// expired windows as ready; a provider without keys reports nothing.
/// </summary>
public sealed class KeyStateCountsSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ProviderKeys Keys(string provider, params string[] ids) =>
        ProviderKeys.Start(provider, ActorRefs.Nobody, ids.Select(id => new ApiKeyCredential(id, provider, "secret-" + id, "env")), default,
            KeyLimits.None, CooldownSettings.Default);

    private static ProviderKeys With(ProviderKeys keys, string id, KeyHealth health, DateTimeOffset? limitedUntil = null) =>
        keys.WithPush(new KeyStateChanged(new KeyStateView(id, "…", "env", "ready", null, null, 0, ImmutableDictionary<string, int>.Empty, null, 0, 0), health)
            { LimitedUntil = limitedUntil });

    private static Dictionary<string, int> Counts(ProviderKeys keys, DateTimeOffset now) =>
        KeyStateCounts.Of([(keys, now)]).ToDictionary(c => c.State, c => c.Count);

    [Fact]
    public void Should_count_every_state_of_a_provider_with_zeros()
    {
        var counts = KeyStateCounts.Of([(Keys("p", "a", "b"), T0)]).ToList();

        Assert.Equal(new[] { ("p", "ready", 2), ("p", "cooling", 0), ("p", "disabled", 0), ("p", "limited", 0) }, counts);
    }

    [Fact]
    public void Should_count_cooling_disabled_limited_and_model_cooldowns_like_the_operator_view()
    {
        var keys = Keys("p", "ready", "cool", "model", "off", "both", "limited", "expired");
        keys = With(keys, "cool", KeyHealth.Healthy with { CooldownUntil = T0.AddSeconds(30), CooldownReason = FailoverReason.RateLimit });
        keys = With(keys, "model", KeyHealth.Healthy with { ModelCooldowns = ImmutableDictionary<string, DateTimeOffset>.Empty.Add("m", T0.AddSeconds(30)) });
        keys = With(keys, "off", KeyHealth.Healthy with { DisabledUntil = T0.AddMinutes(10), DisabledReason = FailoverReason.Billing });
        keys = With(keys, "both", KeyHealth.Healthy with { DisabledUntil = T0.AddMinutes(10), CooldownUntil = T0.AddSeconds(30) });
        keys = With(keys, "limited", KeyHealth.Healthy, limitedUntil: T0.AddSeconds(20));
        keys = With(keys, "expired", KeyHealth.Healthy with { CooldownUntil = T0.AddSeconds(-1) }, limitedUntil: T0.AddSeconds(-1));

        var counts = Counts(keys, T0);

        Assert.Equal(2, counts["ready"]);
        Assert.Equal(2, counts["cooling"]);
        Assert.Equal(2, counts["disabled"]);
        Assert.Equal(1, counts["limited"]);
        Assert.Equal("limited", KeyStateCounts.StateOf(keys.Find("limited")!, T0));
        Assert.Equal("ready", KeyStateCounts.StateOf(keys.Find("limited")!, T0.AddSeconds(21)));
    }

    [Fact]
    public void Should_leave_out_providers_without_keys()
    {
        var counts = KeyStateCounts.Of([(Keys("empty"), T0), (Keys("p", "a"), T0)]).ToList();

        Assert.All(counts, c => Assert.Equal("p", c.Provider));
        Assert.Equal(4, counts.Count);
    }
}
