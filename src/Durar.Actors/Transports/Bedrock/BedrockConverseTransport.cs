using System.Collections.Immutable;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// The <c>bedrock-converse-stream</c> transport: Amazon Bedrock's Converse API, <c>POST {baseUrl}/model/{modelId}/converse-stream</c>
/// (AWS event-stream, <see cref="AwsEventStreamFraming{TFrame}"/>) and <c>/converse</c> (JSON). The mapping is
/// <see cref="BedrockFields"/> (what crosses), <see cref="BedrockRequestWriter"/>, <see cref="BedrockStreamDecoder"/>,
/// <see cref="BedrockCompletionParser"/> and <see cref="BedrockErrors"/>; every request is signed by the AWS SDK's SigV4
/// signer with credentials from its chain (<see cref="BedrockAuth"/>), or carries a Bedrock API key as bearer. The base URL
/// is the endpoint (a VPC endpoint, a proxy or a test's loopback fake all work); its host names the signing region.
/// </summary>
internal sealed class BedrockConverseTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<BedrockFrame>(httpClients, upstream)
{
    private static readonly AwsEventStreamFraming<BedrockFrame> EventStream = new(BedrockFrame.Parse, BedrockFrame.Broken);

    protected override IStreamFraming<BedrockFrame> Framing => EventStream;

    protected override string RequestPath(UpstreamCall call, bool stream) =>
        "/model/" + Uri.EscapeDataString(call.Target.Model.Id) + (stream ? "/converse-stream" : "/converse");

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => BedrockRequestWriter.Write(w, call);

    /// <summary>A Bedrock API key is a bearer token; anything else is signed in <see cref="PrepareAsync"/>.</summary>
    protected override void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (BedrockAuth.IsBearer(call.ApiKey)) headers.TryAddWithoutValidation("Authorization", "Bearer " + call.ApiKey);
    }

    protected override ValueTask PrepareAsync(HttpRequestMessage request, UpstreamCall call, CancellationToken cancellationToken) =>
        BedrockAuth.IsBearer(call.ApiKey)
            ? ValueTask.CompletedTask
            : BedrockAuth.SignAsync(request, ((PooledJsonContent)request.Content!).WrittenSpan.ToArray(), call.ApiKey, call.Target.Provider.Id);

    protected override IStreamDecoder<BedrockFrame> NewStreamDecoder(UpstreamCall call) => new BedrockStreamDecoder(BedrockJsonMode.For(call.Request)?.Name);

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call) => BedrockCompletionParser.Parse(root, call);

    protected override Resilience.UpstreamFailure ErrorFailure(HttpResponseMessage response, string body, string providerId) =>
        BedrockErrors.Answer(response, body, providerId, base.ErrorFailure(response, body, providerId));

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => BedrockFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => BedrockFields.Dropped(request);
}
