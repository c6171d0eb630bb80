using System.Net.Http.Headers;
using Anthropic;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>
/// The official Anthropic .NET SDK pointed at a gateway, with no retries of its own (the gateway's failover is under test),
/// and the raw body of every answer kept (<see cref="Bodies"/>), so a streamed answer's events can be checked against
/// <see cref="MessageStreamGrammar"/> after the SDK read them.
/// </summary>
internal sealed class MessagesClient : IDisposable
{
    private readonly Recorder _recorder;

    public MessagesClient(GatewayHarness gateway, string apiKey = "sk-ant-client-unused", IReadOnlyDictionary<string, string>? headers = null)
    {
        _recorder = new Recorder(headers ?? new Dictionary<string, string>()) { InnerHandler = new SocketsHttpHandler() };
        Sdk = new AnthropicClient
        {
            ApiKey = apiKey,
            BaseUrl = gateway.BaseUri.ToString().TrimEnd('/'),
            MaxRetries = 0,
            HttpClient = new HttpClient(_recorder) { Timeout = TimeSpan.FromSeconds(60) },
        };
    }

    public AnthropicClient Sdk { get; }

    /// <summary>Every answer's status, headers and body, in order.</summary>
    public IReadOnlyList<(int Status, HttpResponseHeaders Headers, string Body)> Bodies => _recorder.Bodies;

    public string LastBody => _recorder.Bodies[^1].Body;

    public HttpResponseHeaders LastHeaders => _recorder.Bodies[^1].Headers;

    public void Dispose() => _recorder.Dispose();

    /// <summary>Reads each answer whole before the SDK does (the streams under test end), keeping a copy.</summary>
    private sealed class Recorder(IReadOnlyDictionary<string, string> headers) : DelegatingHandler
    {
        private readonly List<(int, HttpResponseHeaders, string)> _bodies = [];

        public List<(int Status, HttpResponseHeaders Headers, string Body)> Bodies
        {
            get
            {
                lock (_bodies) return [.. _bodies];
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            var response = await base.SendAsync(request, cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var body = System.Text.Encoding.UTF8.GetString(bytes);
            var copy = new ByteArrayContent(bytes);
            foreach (var h in response.Content.Headers) copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
            response.Content = copy;
            lock (_bodies) _bodies.Add(((int)response.StatusCode, response.Headers, body));
            return response;
        }
    }
}
