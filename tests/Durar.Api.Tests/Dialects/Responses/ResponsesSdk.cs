#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using OpenAI;
using OpenAI.Responses;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// The official OpenAI .NET SDK's Responses client pointed at a gateway, over an HTTP handler that keeps every event stream
/// it read, so each streamed spec can also check the raw events against <see cref="ResponseEventGrammar"/>.
/// </summary>
public sealed class ResponsesSdk
{
    private readonly Recorder _recorder = new() { InnerHandler = new HttpClientHandler() };

    public ResponsesSdk(GatewayHarness gateway) : this(gateway.BaseUri)
    {
    }

    /// <summary>The client for a gateway at <paramref name="baseUri"/> (e.g. a separate gateway process).</summary>
    public ResponsesSdk(Uri baseUri)
    {
        Client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(baseUri, "v1/"),
            Transport = new HttpClientPipelineTransport(new HttpClient(_recorder) { Timeout = TimeSpan.FromSeconds(60) }),
            RetryPolicy = new ClientRetryPolicy(0),
        }).GetResponsesClient();
    }

    public ResponsesClient Client { get; }

    /// <summary>The raw bodies of the event streams read so far, in order.</summary>
    public IReadOnlyList<string> Streams => _recorder.Streams;

    /// <summary>Streams a response, collecting the SDK's updates, and validates the raw stream's grammar.</summary>
    public async Task<(List<StreamingResponseUpdate> Updates, IReadOnlyList<SseEvent> Events)> StreamAsync(CreateResponseOptions options)
    {
        options.StreamingEnabled = true;
        var updates = new List<StreamingResponseUpdate>();
        await using (var stream = await Client.CreateResponseStreamingAsync(options))
            await foreach (var update in stream) updates.Add(update);
        return (updates, ResponseEventGrammar.Validate(Streams[^1]));
    }

    private sealed class Recorder : DelegatingHandler
    {
        private readonly List<string> _streams = [];

        public IReadOnlyList<string> Streams
        {
            get
            {
                lock (_streams) return _streams.ToArray();
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream") return response;
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            lock (_streams) _streams.Add(System.Text.Encoding.UTF8.GetString(bytes));
            var copy = new ByteArrayContent(bytes);
            copy.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
            response.Content = copy;
            return response;
        }
    }
}
