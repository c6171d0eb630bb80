using System.Text.Json;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The <c>google-gemini-cli</c> transport: Gemini through Google Cloud Code Assist, the backend of the Gemini CLI
/// (<c>POST {baseUrl}/v1internal:streamGenerateContent?alt=sse</c> or <c>:generateContent</c> on
/// <c>cloudcode-pa.googleapis.com</c>). The request is Gemini's own (<see cref="GeminiRequestWriter"/>) inside Code Assist's
/// envelope <c>{model, project, request}</c>, each answer Gemini's inside <c>{response}</c> (<see cref="GeminiChunk"/> unwraps
/// it); the credential is the OAuth auth profile's access token (<c>Authorization: Bearer</c>, refreshed by the key actor);
/// the project is <c>gateway.googleCloud.project</c> or <c>GOOGLE_CLOUD_PROJECT</c>.
/// </summary>
internal sealed class GeminiCliTransport(IHttpClientFactory httpClients, UpstreamSettings upstream, GoogleCloudSettings google)
    : GeminiTransport(httpClients, upstream)
{
    protected override string RequestPath(UpstreamCall call, bool stream) =>
        stream ? "/v1internal:streamGenerateContent?alt=sse" : "/v1internal:generateContent";

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        Check(call);
        w.WriteStartObject();
        w.WriteString("model", call.Target.Model.Id);
        w.WriteString("project", google.Project);
        w.WritePropertyName("request");
        GeminiRequestWriter.Write(w, call);
        w.WriteEndObject();
    }

    /// <summary>Code Assist bills a project: without one every call would fail upstream, so it fails here naming the key.</summary>
    private void Check(UpstreamCall call)
    {
        if (google.Unfilled(call.Target.Provider.Id, call.Target.Provider.Api, needsLocation: false) is { } unfilled)
            throw new UpstreamException(new UpstreamFailure(400, unfilled.Message, "invalid_configuration", "invalid_request_error",
                call.Target.Provider.Id), UpstreamException.NoHints);
    }
}
