using System.Net.Http.Headers;
using Durar.Actors.Configuration;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// <c>azure-openai-responses</c>: the Responses wire on Azure OpenAI's v1 API (<c>baseUrl</c> =
/// <c>https://&lt;resource&gt;.openai.azure.com/openai/v1</c>, the deployment name as the model). Azure takes the key in an
/// <c>api-key</c> header rather than <c>Authorization: Bearer</c>; a provider with <c>authHeader = true</c> (a Microsoft
/// Entra token as its key) keeps the bearer header. Everything else is the OpenAI Responses mapping.
/// </summary>
internal sealed class AzureOpenAiResponsesTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : OpenAiResponsesTransport(httpClients, upstream)
{
    protected override void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (call.Target.Provider.AuthHeader) base.AddAuthentication(headers, call);
        else if (call.ApiKey is { Length: > 0 } key) headers.TryAddWithoutValidation("api-key", key);
    }
}
