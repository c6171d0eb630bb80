using System.Collections.Immutable;
using System.Net.ServerSentEvents;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Transports;
using Durar.Actors.Configuration;
using Durar.Api.Apis;
using Microsoft.AspNetCore.Http;
using Durar.Actors.Chat;

namespace Durar.Bench.Micro;

/// <summary>
/// The streaming path, one 20-chunk response at a time: parsing the upstream's SSE (a bare SseParser lower bound, then the
/// real OpenAI transport from request to events, in memory) and re-framing the events as the gateway's SSE.
/// </summary>
[MemoryDiagnoser]
public class SseBenchmarks
{
    private byte[] _sse = [];
    private IChatTransport _transport = null!;
    private ImmutableArray<ChatEvent> _events;
    private readonly ChatCompletionWriter _writer = new("chatcmpl-bench", 1_700_000_000, "bench/m");
    private readonly DefaultHttpContext _context = new();

    [Params(20)]
    public int Chunks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sse = Fixtures.SseBody(Chunks);
        _transport = new TransportRegistry(new CannedClientFactory(new CannedHandler(_sse, "text/event-stream"))).Find(ApiKinds.OpenAiCompletions)!;
        _events = Fixtures.Events(Chunks);
        _context.Response.Body = Stream.Null;
    }

    /// <summary>Lower bound: SseParser plus a Utf8JsonReader pass that finds delta.content, per frame.</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> SseParser_ContentOnly()
    {
        var parser = SseParser.Create(new MemoryStream(_sse, writable: false), static (_, data) => ContentLength(data));
        var total = 0;
        await foreach (var item in parser.EnumerateAsync()) total += item.Data;
        return total;
    }

    /// <summary>The OpenAI transport's StreamAsync end to end (request body, HttpClient, SSE, chunk JSON, events).</summary>
    [Benchmark]
    public async Task<int> Transport_Stream()
    {
        var n = 0;
        await foreach (var e in _transport.StreamAsync(Fixtures.Call(stream: true), CancellationToken.None)) n++;
        return n;
    }

    /// <summary>The gateway's SSE re-framing of a 20-chunk answer (role, content, finish, usage, [DONE]) into a response body.</summary>
    [Benchmark]
    public Task Writer_Stream() => _writer.WriteStreamAsync(_context.Response, AsyncList.Of(_events), includeUsage: true, CancellationToken.None);

    private static int ContentLength(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0 && data[0] == (byte)'[') return 0; // [DONE]
        var reader = new Utf8JsonReader(data);
        while (reader.Read())
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("content"u8) && reader.Read()
                && reader.TokenType == JsonTokenType.String)
                return reader.ValueSpan.Length;
        return 0;
    }
}
