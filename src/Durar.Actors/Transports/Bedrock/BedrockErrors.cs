using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// Bedrock's errors as classification input. An error answer names its kind in the <c>x-amzn-ErrorType</c> header
/// (<c>ThrottlingException:http://…</c>) with <c>{"message":…}</c> as body; a stream names it in an exception frame's
/// <c>:exception-type</c> (<c>throttlingException</c>). Both become the status the classifier reads for that kind:
/// throttling 429 (rate limit, next key), service unavailable and model not ready 503 (transient), internal and model
/// stream errors 500/502, validation 400, access denied 403, plus the kind itself as the failure's type and code.
/// </summary>
internal static class BedrockErrors
{
    public static UpstreamFailure Exception(string type, string message)
    {
        var kind = Normalize(type);
        return new UpstreamFailure(StatusOf(kind, null), message, kind, kind);
    }

    /// <summary>An error answer: its header's kind decides the status when it has one of its own.</summary>
    public static UpstreamFailure Answer(HttpResponseMessage response, string body, string providerId, UpstreamFailure common)
    {
        var header = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.FirstOrDefault() : null;
        if (header is null) return common;
        var kind = Normalize(header.Split(':')[0]);
        return common with { Status = StatusOf(kind, common.Status), ErrorType = kind, Code = kind, ProviderId = providerId };
    }

    /// <summary><c>throttlingException</c> and <c>ThrottlingException</c> are one kind: written in the header's PascalCase.</summary>
    private static string Normalize(string type) => type.Length > 0 && char.IsLower(type[0]) ? char.ToUpperInvariant(type[0]) + type[1..] : type;

    private static int? StatusOf(string kind, int? status) => kind switch
    {
        "ThrottlingException" => 429,
        "ServiceUnavailableException" or "ModelNotReadyException" => 503,
        "InternalServerException" => 500,
        "ModelStreamErrorException" or "ModelErrorException" => 502,
        "ModelTimeoutException" => 504,
        "ValidationException" => 400,
        "AccessDeniedException" => 403,
        "UnrecognizedClientException" or "ExpiredTokenException" or "InvalidSignatureException" => 401,
        "ResourceNotFoundException" => 404,
        _ => status ?? 500,
    };
}
