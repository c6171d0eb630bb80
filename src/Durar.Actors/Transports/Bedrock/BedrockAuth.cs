using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Runtime.Internal.Util;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// Bedrock's authentication through the AWS SDK's own parts (AWSSDK.Core): the credential chain, region resolution and the
/// SigV4 signer (<see cref="AWS4Signer"/>, service <c>bedrock</c>); nothing of SigV4 is written here. What a key's secret
/// means, in order: a Bedrock API key (<c>ABSK…</c> or <c>bedrock-api-key-…</c>, as <c>AWS_BEARER_TOKEN_BEDROCK</c> holds) is
/// sent as <c>Authorization: Bearer</c>; <c>AKID:SECRET[:SESSION_TOKEN]</c> is a static access key; an access key id alone
/// (<c>AWS_ACCESS_KEY_ID</c>'s value, which only says the chain has credentials) or no key means the SDK's default chain
/// (environment <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>/<c>AWS_SESSION_TOKEN</c>, <c>AWS_PROFILE</c> and the
/// shared files, SSO, ...); anything else names a profile of the shared credential files (<c>AWS_PROFILE</c>'s value).
/// </summary>
/// <remarks>
/// The region: the SDK's environment and profile region (<c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>, the profile's
/// <c>region</c>) moves a standard endpoint (<c>bedrock-runtime.&lt;region&gt;.amazonaws.com</c>, the catalog's default) to
/// that region, as the SDK chooses its endpoint from the region (<see cref="Regional"/>); any other base URL is used as it
/// is. The signing region is the endpoint host's, else the SDK's, else <c>us-east-1</c>. Resolved credential providers are kept per secret (the SDK refreshes temporary credentials itself).
/// </remarks>
internal static partial class BedrockAuth
{
    public const string SigningService = "bedrock";

    private static readonly ConcurrentDictionary<string, AWSCredentials> Resolved = new(StringComparer.Ordinal);
    private static readonly Lazy<string?> ChainRegion = new(ResolveChainRegion);
    private static readonly BedrockClientConfig Config = new();

    /// <summary>True when the secret is a Bedrock API key sent as a bearer token (no signing).</summary>
    public static bool IsBearer(string? secret) =>
        secret is not null && (secret.StartsWith("ABSK", StringComparison.Ordinal) || secret.StartsWith("bedrock-api-key-", StringComparison.Ordinal));

    /// <summary>Signs <paramref name="request"/> (its body already written) with the key's credentials, adding the SigV4 headers.</summary>
    public static async ValueTask SignAsync(HttpRequestMessage request, byte[] body, string? secret, string providerId)
    {
        var credentials = await CredentialsAsync(secret, providerId).ConfigureAwait(false);
        var uri = request.RequestUri = Regional(request.RequestUri!);
        var sdk = new DefaultRequest(new ConverseRequest(), "BedrockRuntime")
        {
            HttpMethod = request.Method.Method,
            Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
            ResourcePath = Uri.UnescapeDataString(uri.AbsolutePath),
            Content = body,
            AuthenticationRegion = RegionFor(uri),
            OverrideSigningServiceName = SigningService,
        };
        sdk.Headers["Content-Type"] = "application/json";
        if (credentials.UseToken) sdk.Headers["X-Amz-Security-Token"] = credentials.Token;
        var signature = new AWS4Signer().SignRequest(sdk, Config, null, credentials.AccessKey, credentials.SecretKey);
        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        foreach (var (name, value) in sdk.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>
    /// A standard Bedrock endpoint moved to the SDK's configured region (<c>AWS_REGION</c>, ...), as the SDK picks its endpoint
    /// from the region; any other endpoint (a VPC endpoint, a proxy, a test's fake) is used as it is.
    /// </summary>
    public static Uri Regional(Uri endpoint) =>
        HostRegion().Match(endpoint.Host) is { Success: true } m && ChainRegion.Value is { } region && region != m.Groups[1].Value
            ? new UriBuilder(endpoint) { Host = endpoint.Host.Replace("." + m.Groups[1].Value + ".", "." + region + ".", StringComparison.Ordinal) }.Uri
            : endpoint;

    /// <summary>The region a request to <paramref name="endpoint"/> is signed for (see the type's remarks).</summary>
    public static string RegionFor(Uri endpoint) =>
        HostRegion().Match(endpoint.Host) is { Success: true } m ? m.Groups[1].Value : ChainRegion.Value ?? "us-east-1";

    private static async ValueTask<ImmutableCredentials> CredentialsAsync(string? secret, string providerId)
    {
        try
        {
            if (secret is not null && StaticKey().Match(secret) is { Success: true } key)
                return new ImmutableCredentials(key.Groups[1].Value, key.Groups[2].Value, key.Groups[3].Success ? key.Groups[3].Value : null);
            var provider = Resolved.GetOrAdd(secret ?? "", static s => s.Length == 0 || AccessKeyId().IsMatch(s)
                ? new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(Config)
                : new CredentialProfileStoreChain().TryGetAWSCredentials(s, out var profile)
                    ? profile
                    : throw new AmazonClientException($"no AWS profile named \"{s}\" in the shared credential files"));
            return await provider.GetCredentialsAsync().ConfigureAwait(false);
        }
        catch (AmazonClientException e)
        {
            throw new UpstreamException(new UpstreamFailure(401, $"AWS credentials for Bedrock could not be resolved: {e.Message}", "credentials", "credentials", providerId),
                UpstreamException.NoHints, e);
        }
    }

    private static string? ResolveChainRegion()
    {
        // Environment and profile only: the SDK's instance-metadata lookup would stall a gateway that does not run on EC2.
        // Either source may be absent or unreadable; that only means it names no region.
        try
        {
            if (new EnvironmentVariableAWSRegion().Region?.SystemName is { Length: > 0 } fromEnvironment) return fromEnvironment;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
        }
        try
        {
            return new ProfileAWSRegion(new CredentialProfileStoreChain()).Region?.SystemName;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^bedrock-runtime(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$", RegexOptions.IgnoreCase)]
    private static partial Regex HostRegion();

    [GeneratedRegex(@"^((?:AKIA|ASIA)[A-Z0-9]{12,}):([^:\s]+)(?::(\S+))?$")]
    private static partial Regex StaticKey();

    [GeneratedRegex(@"^(?:AKIA|ASIA)[A-Z0-9]{12,}$")]
    private static partial Regex AccessKeyId();

    /// <summary>The SDK's request type for <see cref="DefaultRequest"/>: Converse carries no SDK-modelled fields.</summary>
    private sealed class ConverseRequest : AmazonWebServiceRequest;

    /// <summary>The client configuration the signer and the credential chain read (service name, signing service).</summary>
    private sealed class BedrockClientConfig() : ClientConfig(new DefaultConfigurationProvider([
        new DefaultConfiguration { Name = DefaultConfigurationMode.Standard, RetryMode = RequestRetryMode.Standard, S3UsEast1RegionalEndpoint = S3UsEast1RegionalEndpointValue.Regional },
    ]))
    {
        public override string ServiceVersion => "2023-09-30";
        public override string UserAgent => "durar";
        public override string RegionEndpointServiceName => "bedrock-runtime";

        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException("Durar sends Bedrock requests to the provider's baseUrl");
    }
}
