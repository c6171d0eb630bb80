using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Transports;
using Durar.Actors.Configuration;
using Durar.Api.Apis;
using Microsoft.AspNetCore.Http;
using Durar.Actors.Chat;

namespace Durar.Bench.Micro;

/// <summary>Request/response JSON mapping on the non-streaming path: parse the client body, call the upstream, write the answer.</summary>
[MemoryDiagnoser]
public class JsonMappingBenchmarks
{
    private readonly byte[] _request = Encoding.UTF8.GetBytes(Fixtures.RequestJson);
    private IChatTransport _transport = null!;
    private readonly ChatCompletion _completion = new("Hello from the bench upstream.", [], "stop", new TokenUsage(10, 6), "m");

    [GlobalSetup]
    public void Setup() =>
        _transport = new TransportRegistry(new CannedClientFactory(new CannedHandler(Fixtures.CompletionBody, "application/json")))
            .Find(ApiKinds.OpenAiCompletions)!;

    /// <summary>JsonDocument.Parse of the client body plus ChatRequestParser.Parse (validation, the neutral request).</summary>
    [Benchmark]
    public ParsedChatRequest ParseRequest()
    {
        using var doc = JsonDocument.Parse(_request);
        return ChatRequestParser.Parse(doc.RootElement);
    }

    /// <summary>The OpenAI transport's CompleteAsync in memory: upstream request body, HttpClient, response JSON parse.</summary>
    [Benchmark]
    public Task<ChatCompletion> Transport_Complete() => _transport.CompleteAsync(Fixtures.Call(stream: false), CancellationToken.None);

    /// <summary>ChatCompletionWriter.WriteCompletionAsync into a response body (the id and timestamp included).</summary>
    [Benchmark]
    public async Task WriteCompletion()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = Stream.Null;
        var writer = new ChatCompletionWriter(ChatCompletionWriter.NewId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), "bench/m");
        await writer.WriteCompletionAsync(context.Response, _completion);
    }
}
