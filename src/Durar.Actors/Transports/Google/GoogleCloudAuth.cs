using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Google.Apis.Auth.OAuth2;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Google Application Default Credentials for the Google Cloud wires, through Google's own library (Google.Apis.Auth): the
/// credentials file of <c>gateway.googleCloud.credentialsFile</c> or <c>GOOGLE_APPLICATION_CREDENTIALS</c> (a service account,
/// an authorized user, an external account), else gcloud's well-known file, else the metadata server on Google Cloud. The
/// library caches the access token and refreshes it before it expires; one credential serves every call of the node.
/// </summary>
/// <remarks>
/// A credential that cannot be found or refreshed is an authentication failure of the call (401, the library's reason in
/// the message), never an exception the run does not know.
/// </remarks>
internal sealed class GoogleCloudAuth(GoogleCloudSettings settings)
{
    /// <summary>The scope every Vertex AI and Cloud Code Assist call needs.</summary>
    public const string Scope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile ITokenAccess? _credential;

    /// <summary>A current access token (cached by the library until shortly before it expires).</summary>
    /// <exception cref="UpstreamException">No credential, or the token endpoint refused it.</exception>
    public async Task<string> TokenAsync(string providerId, CancellationToken cancellationToken)
    {
        try
        {
            var credential = _credential ?? await CreateAsync(cancellationToken).ConfigureAwait(false);
            return await credential.GetAccessTokenForRequestAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var where = settings.CredentialsFile is { } file ? $"the credentials file {file}" : "Application Default Credentials";
            throw new UpstreamException(new UpstreamFailure(401,
                $"Google credentials ({where}) gave no access token: {e.Message} (set {GoogleCloudSettings.Section}.credentialsFile or "
                + "GOOGLE_APPLICATION_CREDENTIALS, or run on Google Cloud)", "google_credentials", "authentication_error", providerId), UpstreamException.NoHints, e);
        }
    }

    private async Task<ITokenAccess> CreateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_credential is { } made) return made;
            var credential = settings.CredentialsFile is { } file
                ? await CredentialFactory.FromFileAsync(file, await TypeOfAsync(file, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
                : await GoogleCredential.GetApplicationDefaultAsync(cancellationToken).ConfigureAwait(false);
            ITokenAccess scoped = credential.CreateScoped(Scope);
            _credential = scoped;
            return scoped;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The <c>type</c> a credentials file declares (<c>service_account</c>, <c>authorized_user</c>, <c>external_account</c>, ...):
    /// Google's factory loads a file as the type it is told, as ADC does for <c>GOOGLE_APPLICATION_CREDENTIALS</c>.
    /// </summary>
    private static async Task<string> TypeOfAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        using var json = await System.Text.Json.JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
        return json.RootElement.TryGetProperty("type", out var type) && type.GetString() is { Length: > 0 } t
            ? t
            : throw new InvalidOperationException($"{file} has no \"type\" (a Google credentials file says service_account, authorized_user, ...)");
    }
}
