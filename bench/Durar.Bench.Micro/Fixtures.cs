using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Durar.Actors.Catalog;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Actors.Chat;

namespace Durar.Bench.Micro;

/// <summary>The shapes the benchmarks share: the bench upstream's exact bytes, a request, and an in-memory HTTP client.</summary>
internal static class Fixtures
{
    public const string RequestJson =
        "{\"model\":\"bench/m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.7,\"max_tokens\":256," +
        "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}";

    private const string Head = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,";

    /// <summary>The SSE body bench/Durar.Bench.Upstream sends: role frame, <paramref name="chunks"/> content frames, finish, usage, [DONE].</summary>
    public static byte[] SseBody(int chunks)
    {
        var sb = new StringBuilder();
        void Frame(string json) => sb.Append("data: ").Append(json).Append("\n\n");
        Frame(Head + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
        for (var i = 0; i < chunks; i++) Frame(Head + $"\"delta\":{{\"content\":\"tok{i} \"}},\"finish_reason\":null}}]}}");
        Frame(Head + "\"delta\":{},\"finish_reason\":\"stop\"}]}");
        Frame("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[]," +
              "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,\"total_tokens\":30}}");
        sb.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static readonly byte[] CompletionBody = Encoding.UTF8.GetBytes(
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0," +
        "\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the bench upstream.\"},\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":6,\"total_tokens\":16}}");

    public static readonly ResolvedModel Target = new(
        new ProviderDefinition { Id = "bench", Name = "bench", Api = "openai-completions", BaseUrl = "http://127.0.0.1:9/v1", Auth = "api-key" },
        ModelDefinition.PassThrough("m"), null);

    public static readonly ChatRequest Request = new()
    {
        Messages = [new ChatMessage("system", "You are terse."), new ChatMessage("user", "Say hello to the benchmark.")],
        Temperature = 0.7,
        MaxTokens = 256,
    };

    public static UpstreamCall Call(bool stream) => new(Target, "sk-bench", Request with { Stream = stream }, TimeSpan.FromMinutes(5));

    /// <summary>The events an upstream stream of <paramref name="chunks"/> content chunks becomes.</summary>
    public static ImmutableArray<ChatEvent> Events(int chunks) =>
    [
        .. Enumerable.Range(0, chunks).Select(i => (ChatEvent)new TextDelta($"tok{i} ")),
        new Finished("stop"),
        new UsageReport(new TokenUsage(10, chunks)),
    ];
}

/// <summary>Answers every request with fixed bytes, in memory: the transport's own work without a socket.</summary>
public sealed class CannedHandler(byte[] body, string mediaType) : HttpMessageHandler
{
    private readonly MediaTypeHeaderValue _type = new(mediaType);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Answer(request);

    public Task<HttpResponseMessage> Answer(HttpRequestMessage request)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = _type;
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
    }
}

public sealed class CannedClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
}

/// <summary>Yields a fixed event list as an async stream (no allocation beyond the enumerator).</summary>
public static class AsyncList
{
    public static async IAsyncEnumerable<ChatEvent> Of(ImmutableArray<ChatEvent> events)
    {
        foreach (var e in events) yield return e;
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
