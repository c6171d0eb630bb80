using Akka.Actor;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers.Keys;

/// <summary>
/// The OAuth side of a key actor: when its access token needs a refresh, one call to the token endpoint at a time (its
/// result piped back to the key actor as <see cref="Succeeded"/> or <see cref="Failed"/>), the new credential built from
/// the answer, and the pause after a failed refresh during which leases go to other keys. The key actor stays the single
/// writer of the token: it stashes leases while a refresh runs (<see cref="KeyActor"/>'s refreshing behaviour).
/// </summary>
internal sealed class OAuthRefresh(OAuthRefreshSettings settings, IOAuthTokenClient? tokens)
{
    private CancellationTokenSource? _cancel;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    /// <summary>A refresh should start before this lease: an OAuth token expired, missing or within the margin, and no failed refresh is cooling off.</summary>
    public bool Due(ApiKeyCredential key, DateTimeOffset now) =>
        tokens is not null && now >= _retryAt && key.OAuth is not null
        && (key.Secret is null || key.ExpiresAt is { } expires && expires - now <= Margin);

    /// <summary>
    /// How close to its expiry a token is refreshed: the configured margin, or half the lifetime of the token this actor was
    /// last given when that is shorter (a Copilot token, or an endpoint issuing short tokens, would otherwise be due again the
    /// moment it arrives, and every lease would refresh).
    /// </summary>
    private TimeSpan Margin => _lifetime is { } lifetime && lifetime / 2 < settings.RefreshMargin ? lifetime / 2 : settings.RefreshMargin;

    private TimeSpan? _lifetime;

    /// <summary>A token or access token past its expiry (an API key never expires; a keyless provider has no secret at all).</summary>
    public static bool Expired(ApiKeyCredential key, DateTimeOffset now) =>
        key.Type != CredentialTypes.ApiKey && (key.Secret is null || key.ExpiresAt is { } expires && expires <= now);

    /// <summary>Starts one call to the token endpoint; its result arrives at <paramref name="self"/>.</summary>
    public void Start(ApiKeyCredential key, IActorRef self)
    {
        _cancel = new CancellationTokenSource(settings.RefreshTimeout);
        tokens!.RefreshAsync(key.OAuth!, _cancel.Token).PipeTo(self,
            success: t => new Succeeded(t),
            failure: e => new Failed(Describe(e), e is OAuthRefreshException { Permanent: true }));
    }

    /// <summary>The credential with the new tokens, and the write-back for its owner (the auth-profile store).</summary>
    public (ApiKeyCredential Credential, CredentialRefreshed WriteBack) Apply(ApiKeyCredential key, OAuthTokens answer, DateTimeOffset now)
    {
        End();
        var grant = key.OAuth!;
        var refreshToken = answer.RefreshToken ?? grant.RefreshToken;
        var expires = now + (answer.ExpiresIn ?? settings.DefaultTokenLifetime);
        _lifetime = expires - now;
        var credential = key with { Secret = answer.AccessToken, ExpiresAt = expires, OAuth = grant with { RefreshToken = refreshToken } };
        return (credential, new CredentialRefreshed(key.ProviderId, key.Id, answer.AccessToken, refreshToken, expires));
    }

    /// <summary>A refresh failed at <paramref name="now"/>: leases go to other keys for the retry delay.</summary>
    public void Failure(DateTimeOffset now)
    {
        End();
        _retryAt = now + settings.RetryDelay;
    }

    /// <summary>The credential was replaced (a profile update): try a refresh again at once if the new one needs it.</summary>
    public void Reset()
    {
        _retryAt = DateTimeOffset.MinValue;
        _lifetime = null;
    }

    /// <summary>The key actor stops: abandon a call in flight.</summary>
    public void Cancel()
    {
        _cancel?.Cancel();
        End();
    }

    private void End()
    {
        _cancel?.Dispose();
        _cancel = null;
    }

    /// <summary>A failure as a log line: the token client's own message (it never holds a token), else only the exception type.</summary>
    private string Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        return e switch
        {
            OAuthRefreshException refresh => refresh.Message,
            OperationCanceledException => $"no answer within {settings.RefreshTimeout.TotalSeconds:0} s",
            _ => e.GetType().Name,
        };
    }

    /// <summary>The token endpoint answered.</summary>
    public sealed record Succeeded(OAuthTokens Tokens) : INoSerializationVerificationNeeded;

    /// <summary>The token endpoint refused (<paramref name="Permanent"/>: the grant itself) or could not be reached.</summary>
    public sealed record Failed(string Error, bool Permanent) : INoSerializationVerificationNeeded;
}
