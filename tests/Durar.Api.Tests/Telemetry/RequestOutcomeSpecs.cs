using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Telemetry;
using Durar.Api.Apis;
using Durar.Api.Apis.Messages;
using Durar.Api.Apis.Responses;
using Durar.Api.Telemetry;
using Durar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// The outcome a request is recorded with (<c>durar.requests</c>' <c>durar.outcome</c>, the same value as on the request span
/// and the request log line) when its client closes the connection: <c>cancelled</c> only if the client left before the
/// whole answer was written. A client that closes as soon as it has the answer (a stream's terminator, a whole JSON body)
/// while the handler is still finishing got a complete answer: <c>success</c>. The client here is a raw socket that closes
/// the moment it has read what it waits for; the outcome is read from the gateway's request counter.
/// </summary>
/// <remarks>
/// The gateway's own handlers do little after an answer's last byte (a session turn disposes its reply, a stream reports its
/// usage), so a client beats them only now and then (3 of 600 requests on a loaded 2-core machine, measured through the
/// real handlers: session turn streams, Responses streams, chat completions). To make that order certain, the first spec's endpoint writes the answer with a dialect's real writer and then
/// waits until the client has gone (its <c>RequestAborted</c>) before it returns. The Messages and Responses JSON answers
/// are not among its cases because there the client's close never reaches the handler: they are written with one
/// <c>WriteAsync</c> of a Content-Length body, and Kestrel stops the request's abort token at that last write. A stream
/// (chunked) gets no such help, nor does the chat completion, written with <c>Write</c> and <c>FlushAsync</c>.
/// </remarks>
public sealed class RequestOutcomeSpecs(RequestOutcomeSpecs.LingeringGateway lingering) : IClassFixture<RequestOutcomeSpecs.LingeringGateway>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// One gateway with the lingering endpoint for every case of the first spec (each names its own model): a gateway stopped
    /// right after its start waits seconds for its key shards' coordinator, once instead of per case.
    /// </summary>
    public sealed class LingeringGateway : IAsyncLifetime
    {
        public GatewayHarness Gateway { get; private set; } = null!;

        public async Task InitializeAsync() =>
            Gateway = await GatewayHarness.StartAsync("", configure: app => app.MapPost("/test/answer-then-linger", AnswerThenLingerAsync));

        public async Task DisposeAsync() => await Gateway.DisposeAsync();
    }

    [Theory]
    [InlineData("chat", true)]
    [InlineData("chat", false)]
    [InlineData("messages", true)]
    [InlineData("responses", true)]
    public async Task Should_record_success_when_the_client_closes_on_a_complete_answer_while_the_handler_is_still_running(string dialect, bool stream)
    {
        var model = $"linger/{dialect}-{(stream ? "stream" : "json")}";
        using var outcomes = new RequestOutcomes(model);

        var answer = await LeaveOnAsync(lingering.Gateway.BaseUri, $"test/answer-then-linger?dialect={dialect}&stream={stream}&model={model}", "{}", [],
            stream ? Terminator(dialect) : CompleteBody);

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Equal(("success", 200), await outcomes.SingleAsync());
    }

    [Theory]
    [InlineData("v1/chat/completions", "chat")]
    [InlineData("v1/messages", "messages")]
    [InlineData("v1/responses", "responses")]
    [InlineData("v1/chat/completions", "session")]
    public async Task Should_record_cancelled_when_the_client_leaves_in_the_middle_of_a_stream(string path, string dialect)
    {
        var id = "oc" + dialect[..4];
        using var outcomes = new RequestOutcomes(id + "/m1");
        await using var gw = await GatewayHarness.StartAsync(Provider(id, "m1", "sk-outcome-1") + FastFailover);
        gw.Fake.Script = _ => new FakeResponse { Text = "alpha beta gamma", StallAfterChunks = 1 };
        var body = dialect switch
        {
            "messages" => $$"""{"model":"{{id}}/m1","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""",
            "responses" => $$"""{"model":"{{id}}/m1","input":"hi","stream":true,"store":false}""",
            _ => Body(id + "/m1", stream: true),
        };
        (string, string)[] headers = dialect == "session" ? [("x-durar-session-key", "outcome-leaves")] : [];

        // The first token is there, the rest of the answer is not (the upstream stalls): the client leaves.
        var seen = await LeaveOnAsync(gw.BaseUri, path, body, headers, t => t.Contains("alpha", StringComparison.Ordinal));

        Assert.StartsWith("HTTP/1.1 200", seen, StringComparison.Ordinal);
        Assert.Equal(("cancelled", 200), await outcomes.SingleAsync());
    }

    /// <summary>
    /// Writes a complete answer with the dialect's own writer (the one its endpoints use), then waits until the client has
    /// closed the connection before it returns: the handler is still running when the client leaves.
    /// </summary>
    internal static async Task AnswerThenLingerAsync(HttpContext context, string dialect, bool stream, string model)
    {
        RequestFacts.Of(context)!.RequestedModel = model;
        if (stream)
        {
            if (dialect == "responses")
            {
                SseResponse.Prepare(context, closer: null);
                var writer = new ResponseStreamWriter(context.Response, new ResponseHead("resp_linger", 0, model, null, false, null));
                SseResponse.EndsEarlyWith(context, writer);
                await writer.WriteAsync(Events(), context.RequestAborted);
            }
            else
            {
                SseResponse.Prepare(context, Dialect(dialect));
                await Dialect(dialect).WriteStreamAsync(context.Response, model, Events(), includeUsage: false, context.RequestAborted);
            }
        }
        else await Dialect(dialect).WriteCompletionAsync(context.Response, model, new ChatCompletion("all of it", [], "stop", TokenUsage.Zero, null));

        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (context.RequestAborted.Register(() => left.TrySetResult()))
            await left.Task.WaitAsync(Patience);

        static ReplyDialect Dialect(string name) => name == "messages" ? MessagesReplyDialect.Instance : ReplyDialect.ChatCompletions;

        static async IAsyncEnumerable<ChatEvent> Events()
        {
            await Task.Yield();
            yield return new TextDelta("all of it");
            yield return new Finished("stop");
        }
    }

    /// <summary>The dialect's last frame: what a client that stops reading at the end of the answer waits for.</summary>
    internal static Func<string, bool> Terminator(string dialect) => dialect switch
    {
        "chat" => t => t.Contains("data: [DONE]\n\n", StringComparison.Ordinal),
        "messages" => t => t.Contains("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", StringComparison.Ordinal),
        _ => t => t.IndexOf("event: response.completed\n", StringComparison.Ordinal) is >= 0 and var at
                  && t.IndexOf("\n\n", at, StringComparison.Ordinal) >= 0,
    };

    /// <summary>A JSON answer is complete once its Content-Length bytes have arrived.</summary>
    private static bool CompleteBody(string text)
    {
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) return false;
        var length = text[..end].Split("\r\n").Select(h => h.Split(": ", 2)).FirstOrDefault(h => h[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
        Assert.True(length is not null, "a whole JSON answer carries a Content-Length: " + text);
        return Encoding.UTF8.GetByteCount(text.AsSpan(end + 4)) >= int.Parse(length[1]);
    }

    /// <summary>
    /// Sends one HTTP/1.1 POST over a raw socket, reads until <paramref name="enough"/> holds for what arrived, and closes the
    /// connection at once (no further read, so the server sees the client leave). Returns what was read.
    /// </summary>
    private static async Task<string> LeaveOnAsync(Uri baseUri, string path, string json, (string Name, string Value)[] headers, Func<string, bool> enough)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(baseUri.Host, baseUri.Port, timeout.Token);
        var body = Encoding.UTF8.GetBytes(json);
        var request = new StringBuilder($"POST /{path} HTTP/1.1\r\nHost: {baseUri.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n");
        foreach (var (name, value) in headers) request.Append(name).Append(": ").Append(value).Append("\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()).Concat(body).ToArray(), timeout.Token);
        var text = new StringBuilder();
        var buffer = new byte[16384];
        while (!enough(text.ToString()))
        {
            var n = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.True(n > 0, "the gateway closed the connection first: " + text);
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        socket.Close();
        return text.ToString();
    }

    /// <summary>
    /// The outcome and status of every <c>durar.requests</c> measurement for one requested model (specs run in parallel and the
    /// listener hears every gateway of the process: each spec names its own model).
    /// </summary>
    private sealed class RequestOutcomes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Outcome, int Status)> _seen = new();

        public RequestOutcomes(string requestedModel)
        {
            _listener.InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == TelemetryNames.Source && instrument.Name == "durar.requests") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? model = null, outcome = null;
                var status = 0;
                foreach (var tag in tags)
                {
                    if (tag.Key == TelemetryNames.RequestModel) model = tag.Value as string;
                    else if (tag.Key == TelemetryNames.Outcome) outcome = tag.Value as string;
                    else if (tag.Key == TelemetryNames.HttpStatus && tag.Value is int s) status = s;
                }
                if (model == requestedModel) _seen.Enqueue((outcome ?? "(none)", status));
            });
            _listener.Start();
        }

        /// <summary>The one request's outcome, once it was recorded (when its handler returned).</summary>
        public async Task<(string Outcome, int Status)> SingleAsync()
        {
            var seen = await Eventually.Until(() => Task.FromResult(_seen.ToArray()), s => s.Length > 0, "the request's outcome", Patience);
            return Assert.Single(seen);
        }

        public void Dispose() => _listener.Dispose();
    }
}
