using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary><see cref="ConfigSecrets"/>: which values are secrets, and that a printed secret gives away four characters at most.</summary>
public sealed class ConfigSecretsSpecs
{
    [Theory]
    [InlineData("models.providers.openai.apiKey")]
    [InlineData("gateway.auth.token")]
    [InlineData("gateway.secrets.key")]
    [InlineData("models.providers.x.headers.Authorization")]
    [InlineData("models.providers.x.headers.x-api-key")]
    [InlineData("models.providers.x.headers.X-Goog-Api-Key")]
    [InlineData("models.providers.x.headers.X-Session-Token")]
    [InlineData("env.OPENAI_API_KEY")]
    [InlineData("env.GITHUB_TOKEN")]
    [InlineData("env.DB_PASSWORD")]
    [InlineData("env.MY_CLIENT_SECRET")]
    [InlineData("auth.profiles.x.clientSecret")]
    public void Should_treat_keys_tokens_secrets_and_credential_headers_as_secrets(string path) =>
        Assert.True(ConfigSecrets.IsSecret(path.Split('.')), path);

    [Theory]
    [InlineData("models.providers.openai.maxTokens")]
    [InlineData("models.providers.openai.authHeader")]
    [InlineData("models.providers.openai.baseUrl")]
    [InlineData("models.providers.x.headers.X-Team")]
    [InlineData("auth.keys.snapshotEvery")]
    [InlineData("gateway.cluster.keyResync")]
    [InlineData("env.OLLAMA_HOST")]
    [InlineData("gateway.port")]
    public void Should_show_everything_else(string path) =>
        Assert.False(ConfigSecrets.IsSecret(path.Split('.')), path);

    [Theory]
    [InlineData("sk-proj-abcdefgh1234", "…1234")]
    [InlineData("123456789", "…6789")]
    [InlineData("12345678", "…")]
    [InlineData("abc", "…")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Should_mask_a_secret_to_its_last_four_characters_at_most(string? secret, string shown) =>
        Assert.Equal(shown, ConfigSecrets.Mask(secret));

    [Theory]
    [InlineData("Host=db;Username=u;Password=hunter2;Database=d", "Host=db;Username=u;Password=…;Database=d")]
    [InlineData("password = s3cret ; Host=db", "password = …; Host=db")]
    [InlineData("Host=db;PWD=x", "Host=db;PWD=…")]
    [InlineData("Data Source=/data/durar.db", "Data Source=/data/durar.db")]
    public void Should_mask_the_password_of_a_connection_string(string connectionString, string shown) =>
        Assert.Equal(shown, ConfigSecrets.MaskConnectionString(connectionString));
}
