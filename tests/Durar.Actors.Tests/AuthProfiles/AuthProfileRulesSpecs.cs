using Durar.Actors.AuthProfiles;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;

namespace Durar.Actors.Tests.AuthProfiles;

/// <summary>The pure auth-profile rules: ids, input validation, eligibility (reference items 18–24) and the served credential.</summary>
public sealed class AuthProfileRulesSpecs
{
    private static readonly HashSet<string> Providers = ["openai", "anthropic"];
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static long NowMs => Now.ToUnixTimeMilliseconds();

    private static ValidatedProfile Valid(AuthProfileInput input)
    {
        var (profile, rejected) = AuthProfileRules.Validate(input, Providers);
        Assert.Null(rejected);
        return profile!;
    }

    private static AuthProfileRejected Rejected(AuthProfileInput input)
    {
        var (profile, rejected) = AuthProfileRules.Validate(input, Providers);
        Assert.Null(profile);
        return rejected!;
    }

    private static StoredProfile Stored(string type, long? expires = null, string? tokenUrl = null, string provider = "openai") =>
        new($"{provider}:default", provider, type, null, null, null, null, null, expires, tokenUrl, null, Now, Now);

    [Fact]
    public void Should_name_profiles_provider_default_or_provider_email()
    {
        Assert.Equal("openai:default", Valid(new AuthProfileInput("openai", "api_key", Key: "sk-1")).Id);
        Assert.Equal("openai:ops@example.com", Valid(new AuthProfileInput("OpenAI", "api_key", Email: " ops@example.com ", Key: "sk-1")).Id);
        Assert.Equal("openai:default", Valid(new AuthProfileInput("openai", "api_key", Id: "openai:default", Key: "sk-1")).Id);
    }

    [Fact]
    public void Should_reject_an_id_that_does_not_follow_the_rule_with_a_clear_message()
    {
        var rejected = Rejected(new AuthProfileInput("openai", "api_key", Id: "openai:work", Key: "sk-1"));

        Assert.Equal("id", rejected.Param);
        Assert.Contains("\"openai:default\" (no email) or \"openai:<email>\"", rejected.Message);
    }

    [Theory]
    [InlineData(null, "api_key", "provider")]
    [InlineData("nope", "api_key", "provider")]
    [InlineData("openai", "password", "type")]
    [InlineData("openai", null, "type")]
    public void Should_reject_a_missing_or_unknown_provider_or_type(string? provider, string? type, string param) =>
        Assert.Equal(param, Rejected(new AuthProfileInput(provider, type, Key: "sk-1")).Param);

    [Fact]
    public void Should_reject_invalid_emails_missing_secrets_and_fields_of_another_type()
    {
        Assert.Equal("email", Rejected(new AuthProfileInput("openai", "api_key", Email: "not-an-email", Key: "sk-1")).Param);
        Assert.Equal("email", Rejected(new AuthProfileInput("openai", "api_key", Email: "a:b@example.com", Key: "sk-1")).Param);
        Assert.Equal("key", Rejected(new AuthProfileInput("openai", "api_key")).Param);
        Assert.Equal("key", Rejected(new AuthProfileInput("openai", "api_key", Key: "sk 1")).Param);
        Assert.Equal("token", Rejected(new AuthProfileInput("openai", "token", Expires: NowMs)).Param);
        Assert.Equal("access", Rejected(new AuthProfileInput("openai", "oauth", TokenUrl: "https://auth.example.com/token")).Param);
        Assert.Equal("tokenUrl", Rejected(new AuthProfileInput("openai", "oauth", Refresh: "rt-1")).Param);
        Assert.Equal("tokenUrl", Rejected(new AuthProfileInput("openai", "oauth", Refresh: "rt-1", TokenUrl: "ftp://x/token")).Param);
        Assert.Equal("token", Rejected(new AuthProfileInput("openai", "api_key", Key: "sk-1", Token: "t")).Param);
        Assert.Equal("key", Rejected(new AuthProfileInput("openai", "oauth", Key: "sk-1", Access: "a")).Param);
    }

    [Fact]
    public void Should_never_put_a_secret_in_a_rejection_or_a_ToString()
    {
        const string secret = "sk-very-secret-value";
        var rejected = Rejected(new AuthProfileInput("openai", "api_key", Key: secret + " with space"));
        Assert.DoesNotContain(secret, rejected.Message);

        var input = new AuthProfileInput("openai", "oauth", Access: secret, Refresh: secret + "-r", TokenUrl: "https://a.example.com/t");
        Assert.DoesNotContain(secret, input.ToString());
        var valid = Valid(input);
        Assert.DoesNotContain(secret, valid.ToString());
        Assert.DoesNotContain(secret, valid.Secrets.ToString());
        var credential = AuthProfileRules.ToCredential(Stored("oauth", NowMs, "https://a.example.com/t"), valid.Secrets);
        Assert.DoesNotContain(secret, credential.ToString());
        Assert.DoesNotContain(secret, credential.OAuth!.ToString());
    }

    [Theory]
    [InlineData("api_key", "sk-1", null, null, null, null, null)]
    [InlineData("api_key", null, null, null, null, null, AuthProfileRules.MissingCredential)]
    [InlineData("token", null, "tok", null, null, null, null)]                       // no expires: never expires
    [InlineData("token", null, "tok", null, null, 60_000L, null)]                    // expires in a minute
    [InlineData("token", null, "tok", null, null, -1L, AuthProfileRules.Expired)]    // expired a millisecond ago
    [InlineData("token", null, null, null, null, 60_000L, AuthProfileRules.MissingCredential)]
    [InlineData("oauth", null, null, "acc", null, 60_000L, null)]
    [InlineData("oauth", null, null, "acc", null, -1L, AuthProfileRules.Expired)]    // expired and no refresh token
    [InlineData("oauth", null, null, "acc", "ref", -1L, null)]                      // expired but refreshable
    [InlineData("oauth", null, null, null, "ref", null, null)]                      // refresh only
    [InlineData("oauth", null, null, null, null, null, AuthProfileRules.MissingCredential)]
    public void Should_decide_eligibility_as_the_reference(string type, string? key, string? token, string? access, string? refresh,
        long? expiresIn, string? reason)
    {
        var profile = Stored(type, expiresIn is { } ms ? NowMs + ms : null, refresh is null ? null : "https://auth.example.com/token");
        var secrets = new ProfileSecrets(key, token, access, refresh);

        Assert.Equal(reason, AuthProfileRules.Ineligibility(profile, secrets, null, Now));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(AuthProfileRules.MaxExpires + 1)]
    [InlineData(long.MaxValue)]
    public void Should_make_an_invalid_expires_ineligible(long expires)
    {
        Assert.Equal(AuthProfileRules.InvalidExpires,
            AuthProfileRules.Ineligibility(Stored("token", expires), new ProfileSecrets(null, "tok", null, null), null, Now));
        Assert.Equal(AuthProfileRules.InvalidExpires,
            AuthProfileRules.Ineligibility(Stored("oauth", expires), new ProfileSecrets(null, null, "acc", null), null, Now));
    }

    [Fact]
    public void Should_accept_the_largest_valid_expires()
    {
        Assert.Null(AuthProfileRules.Ineligibility(Stored("token", AuthProfileRules.MaxExpires), new ProfileSecrets(null, "tok", null, null), null, Now));
        Assert.Equal(DateTimeOffset.MaxValue, AuthProfileRules.ToInstant(AuthProfileRules.MaxExpires));
    }

    [Fact]
    public void Should_require_the_config_metadata_to_match_provider_and_mode()
    {
        var token = Stored("token");
        var secrets = new ProfileSecrets(null, "tok", null, null);

        Assert.Null(AuthProfileRules.Ineligibility(token, secrets, new AuthProfileSettings(token.Id, "openai", "token", null), Now));
        // Config oauth also accepts a token credential (item 23).
        Assert.Null(AuthProfileRules.Ineligibility(token, secrets, new AuthProfileSettings(token.Id, "openai", "oauth", null), Now));
        Assert.Equal(AuthProfileRules.IneligibleProfile,
            AuthProfileRules.Ineligibility(token, secrets, new AuthProfileSettings(token.Id, "openai", "api_key", null), Now));
        Assert.Equal(AuthProfileRules.IneligibleProfile,
            AuthProfileRules.Ineligibility(token, secrets, new AuthProfileSettings(token.Id, "anthropic", "token", null), Now));
        // Secrets that cannot be decrypted are a missing credential.
        Assert.Equal(AuthProfileRules.MissingCredential, AuthProfileRules.Ineligibility(token, null, null, Now));
    }

    [Fact]
    public void Should_serve_a_profile_under_its_profile_id_with_its_type()
    {
        var expires = NowMs + 3_600_000;
        var oauth = AuthProfileRules.ToCredential(Stored("oauth", expires, "https://auth.example.com/token"),
            new ProfileSecrets(null, null, "acc-1", "ref-1"));
        Assert.Equal("openai:default", oauth.Id);
        Assert.Equal(CredentialTypes.OAuth, oauth.Type);
        Assert.Equal("acc-1", oauth.Secret);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(expires), oauth.ExpiresAt);
        Assert.Equal(new OAuthGrant("ref-1", "https://auth.example.com/token", null), oauth.OAuth);

        var refreshOnly = AuthProfileRules.ToCredential(Stored("oauth", null, "https://auth.example.com/token"), new ProfileSecrets(null, null, null, "ref-1"));
        Assert.False(refreshOnly.ExpiresAt > Now); // refreshed on its first lease

        var apiKey = AuthProfileRules.ToCredential(Stored("api_key"), new ProfileSecrets("sk-1", null, null, null));
        Assert.Equal((CredentialTypes.ApiKey, "sk-1", "openai:default"), (apiKey.Type, apiKey.Secret, apiKey.Id));
    }

    [Fact]
    public void Should_mask_every_secret_in_the_view()
    {
        var profile = new StoredProfile("openai:default", "openai", "oauth", null, null, null, "cipher-a", "cipher-r", null, "https://a.example.com/t",
            null, Now, Now);
        var view = AuthProfileRules.View(profile, new ProfileSecrets(null, null, "access-token-abcd", "refresh-token-wxyz"), null);

        Assert.Equal("…abcd", view.Access);
        Assert.Equal("…wxyz", view.Refresh);
        Assert.Null(view.Key);
        Assert.Equal("(unreadable)", AuthProfileRules.View(profile, null, AuthProfileRules.MissingCredential).Access);
    }

    [Fact]
    public void Should_validate_an_order_override()
    {
        var (order, rejected) = AuthProfileRules.ValidateOrder("openai", [" openai:default ", "OPENAI_API_KEY_2"], Providers);
        Assert.Null(rejected);
        Assert.Equal<string>(["openai:default", "OPENAI_API_KEY_2"], order);

        Assert.Equal("provider", AuthProfileRules.ValidateOrder("nope", [], Providers).Rejected?.Param);
        Assert.Contains("another provider", AuthProfileRules.ValidateOrder("openai", ["anthropic:default"], Providers).Rejected?.Message);
        Assert.Contains("twice", AuthProfileRules.ValidateOrder("openai", ["openai:default", "openai:default"], Providers).Rejected?.Message);
        Assert.Null(AuthProfileRules.ValidateOrder("openai", [], Providers).Rejected); // clears the override
    }
}
