using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// Amazon Bedrock's side of the fake: Converse and ConverseStream (<see cref="BedrockWire"/>), and a SigV4 check of every
/// request. The fake knows each test access key's secret (<see cref="BedrockSecrets"/>) and recomputes the signature of what
/// it received with the AWS SDK's own signer (<see cref="AWS4Signer"/>), so a request counts as signed only if AWS would
/// accept it: same canonical request, same key, same region and service. A request signed wrongly, or neither signed nor carrying a bearer key, is answered 403
/// <c>InvalidSignatureException</c>, as Bedrock does.
/// </summary>
public sealed partial class FakeProvider
{
    private readonly List<BedrockSignature> _bedrockSignatures = [];

    /// <summary>Secret access keys by access key id, for the SigV4 check. Requests with a bearer token are not checked.</summary>
    public Dictionary<string, string> BedrockSecrets { get; } = new(StringComparer.Ordinal);

    /// <summary>The SigV4 check of every signed Bedrock request, in arrival order.</summary>
    public IReadOnlyList<BedrockSignature> BedrockSignatures
    {
        get
        {
            lock (_gate)
            {
                return _bedrockSignatures.ToArray();
            }
        }
    }

    private void MapBedrock(WebApplication app)
    {
        app.MapPost("/model/{modelId}/converse", HandleBedrockAsync);
        app.MapPost("/model/{modelId}/converse-stream", HandleBedrockAsync);
    }

    private async Task HandleBedrockAsync(HttpContext http)
    {
        http.Request.EnableBuffering();
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        http.Request.Body.Position = 0;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal))
        {
            var check = CheckSignature(http.Request, authorization, buffer.ToArray());
            lock (_gate)
            {
                _bedrockSignatures.Add(check);
            }

            if (!check.Valid)
            {
                http.Response.StatusCode = 403;
                http.Response.Headers["x-amzn-ErrorType"] = "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/";
                await http.Response.WriteAsync("""{"message":"The request signature we calculated does not match the signature you provided."}""");
                return;
            }
        }

        else if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            http.Response.StatusCode = 403;
            http.Response.Headers["x-amzn-ErrorType"] = "MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/";
            await http.Response.WriteAsync("""{"message":"Missing Authentication Token"}""");
            return;
        }

        await HandleChatAsync(http, BedrockWire.Instance);
    }

    private BedrockSignature CheckSignature(HttpRequest request, string authorization, byte[] body)
    {
        var parts = AuthorizationParts().Match(authorization);
        if (!parts.Success)
        {
            return new BedrockSignature(null, null, null, false, authorization);
        }

        var (accessKey, date, region, service) = (parts.Groups[1].Value, parts.Groups[2].Value, parts.Groups[3].Value, parts.Groups[4].Value);
        var signedHeaders = parts.Groups[5].Value.Split(';');
        if (!BedrockSecrets.TryGetValue(accessKey, out var secret))
        {
            return new BedrockSignature(accessKey, region, service, false, "unknown access key");
        }

        var sdk = new DefaultRequest(new FakeConverseRequest(), "BedrockRuntime")
        {
            HttpMethod = request.Method,
            Endpoint = new Uri($"{request.Scheme}://{request.Host}"),
            ResourcePath = request.Path.Value!,
            Content = body,
            AuthenticationRegion = region,
            OverrideSigningServiceName = service,
        };
        foreach (var name in signedHeaders.Where(h => h is not ("host" or "x-amz-date" or "x-amz-content-sha256")))
        {
            sdk.Headers[name] = request.Headers[name].ToString();
        }

        var signedAt = DateTime.ParseExact(request.Headers["x-amz-date"].ToString(), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var expected = new AWS4Signer().SignRequest(sdk, FakeBedrockConfig.Instance, null, accessKey, secret, signedAt);
        var valid = date == signedAt.ToString("yyyyMMdd", CultureInfo.InvariantCulture) && authorization == expected.ForAuthorizationHeader;
        return new BedrockSignature(accessKey, region, service, valid, valid ? null : $"expected {expected.ForAuthorizationHeader}");
    }

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")]
    private static partial Regex AuthorizationParts();

    private sealed class FakeConverseRequest : AmazonWebServiceRequest;

    private sealed class FakeBedrockConfig() : ClientConfig(new DefaultConfigurationProvider([
        new DefaultConfiguration { Name = DefaultConfigurationMode.Standard, RetryMode = RequestRetryMode.Standard, S3UsEast1RegionalEndpoint = S3UsEast1RegionalEndpointValue.Regional },
    ]))
    {
        public static readonly FakeBedrockConfig Instance = new();

        public override string ServiceVersion => "2023-09-30";

        public override string UserAgent => "fake";

        public override string RegionEndpointServiceName => "bedrock-runtime";

        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException();
    }
}

/// <summary>One SigV4 check: the access key, region and service of the credential scope, and whether the SDK's signer agrees.</summary>
public sealed record BedrockSignature(string? AccessKey, string? Region, string? Service, bool Valid, string? Problem);
