using Durar.Api.Extensions;

namespace Durar.Api.Tests.Cli;

/// <summary>The ready banner's text for the cases a first run meets (the process spec checks it on a real start).</summary>
public sealed class ReadyBannerSpecs
{
    private static readonly ReadyBanner.Facts Defaults = new("http://127.0.0.1:18789", null, [], "/srv/durar/data", "SQLite durar.db",
        "/srv/durar/data/keys", TokenRequired: false, EchoEnabled: true);

    [Fact]
    public void Should_say_where_the_config_came_from_and_how_to_try_it_on_a_first_run()
    {
        Assert.Equal("""
            Durar gateway ready on http://127.0.0.1:18789
              config     built-in defaults only (no --config or DURAR_CONFIG)
              providers  none has a key yet: set one, e.g. OPENAI_API_KEY=..., or configure models.providers
              data       /srv/durar/data (journal: SQLite durar.db)
              secrets    the key ring in /srv/durar/data/keys is stored unencrypted; to protect auth-profile secrets, set gateway.secrets.key or DURAR_SECRETS_KEY (openssl rand -base64 32)
              try        curl -N http://127.0.0.1:18789/v1/chat/completions -H 'content-type: application/json' -d '{"model":"echo/echo","stream":true,"messages":[{"role":"user","content":"hello from durar"}]}'
            """, ReadyBanner.Text(Defaults));
    }

    [Fact]
    public void Should_count_providers_with_keys_send_the_token_and_use_the_primary_without_echo()
    {
        var facts = Defaults with
        {
            Url = "http://0.0.0.0:8080",
            ConfigPath = "/etc/durar/durar.conf",
            ProvidersWithKeys = ["anthropic", "deepseek", "google", "groq", "mistral", "openai", "openrouter", "xai"],
            Journal = "PostgreSQL",
            UnprotectedKeyRing = null,
            TokenRequired = true,
            EchoEnabled = false,
        };

        var lines = ReadyBanner.Text(facts).Split('\n');

        Assert.Equal("Durar gateway ready on http://0.0.0.0:8080", lines[0]);
        Assert.Equal("  config     /etc/durar/durar.conf over the built-in defaults", lines[1]);
        Assert.Equal("  providers  8 with keys: anthropic, deepseek, google, groq, mistral, openai, +2 more", lines[2]);
        Assert.Equal("  data       /srv/durar/data (journal: PostgreSQL)", lines[3]);
        Assert.Equal("""  try        curl -N http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' -H "authorization: Bearer $DURAR_GATEWAY_TOKEN" -d '{"model":"durar","stream":true,"messages":[{"role":"user","content":"hello from durar"}]}'""",
            lines[4]);
        Assert.Equal(5, lines.Length);
        Assert.Contains("not known yet", ReadyBanner.Text(Defaults with { ProvidersWithKeys = null }));
    }
}
