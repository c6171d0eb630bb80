using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports;

/// <summary>
/// The skeleton every HTTP wire shares, so that a wire is only its mapping. The skeleton builds the request (pooled JSON
/// body, authentication, the provider's headers, <c>Accept</c>), sends it under one idle timer per call, reads the stream
/// through the wire's <see cref="IStreamFraming{TFrame}"/>, runs the non-streaming JSON exchange, and turns every failure
/// (error answer, connection, idle stall, malformed frame, error event, a stream that ends before its terminal event) into
/// an <see cref="UpstreamException"/>.
/// </summary>
/// <remarks>
/// A new wire derives from this class and supplies: <see cref="RequestPath"/> and <see cref="WriteBody"/> (request → body),
/// <see cref="AddAuthentication"/> and <see cref="AddWireHeaders"/> (its auth header style and own headers),
/// <see cref="Framing"/> (SSE, NDJSON, ...), <see cref="NewStreamDecoder"/> (wire event → neutral events, with the wire's
/// terminal-event rule), <see cref="ParseCompletion"/> (JSON body → <see cref="ChatCompletion"/>) and, when its error
/// answers need more than the common shapes, <see cref="ErrorFailure"/>; a wire that cannot carry every field of the
/// request names the first one it cannot in <see cref="Unsupported"/> (and fields it leaves out on purpose in
/// <see cref="Dropped"/>). It registers in <see cref="TransportRegistry"/>. A wire with an embeddings endpoint also implements
/// <see cref="IEmbeddingTransport"/> through <see cref="EmbedJsonAsync"/>.
/// <para>
/// The hot path stays lean: one client per transport (never per call), one idle timer and one event list per call, and per
/// frame only what the wire's parser and the events themselves allocate.
/// </para>
/// </remarks>
/// <typeparam name="TFrame">The wire's parsed stream frame.</typeparam>
internal abstract class HttpChatTransport<TFrame>(IHttpClientFactory httpClients, UpstreamSettings upstream) : IChatTransport
{
    private HttpClient? _client;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HttpClient> _providerClients = new(StringComparer.Ordinal);

    /// <summary>
    /// One client for the transport's lifetime, and one per provider with <c>request</c> options of its own (proxy, TLS,
    /// private-network guard: <see cref="ProviderConnections"/>): the factory's handlers never expire (connections are
    /// recycled by the handler's pooled-connection lifetime instead), so a client per call would only cost an allocation and
    /// a cancellation source each time.
    /// </summary>
    private HttpClient ClientFor(Catalog.ProviderDefinition provider) =>
        !provider.Request.NeedsOwnHandler
            ? _client ??= httpClients.CreateClient(UpstreamHttp.ClientName)
            : _providerClients.GetOrAdd(provider.Id, static (_, s) => s.httpClients.CreateClient(ProviderConnections.ClientName(s.provider)),
                (httpClients, provider));

    /// <summary>How the wire's streamed answers are framed; one instance shared by every call.</summary>
    protected abstract IStreamFraming<TFrame> Framing { get; }

    /// <summary>The path appended to the provider's base URL (e.g. <c>/chat/completions</c>).</summary>
    protected abstract string RequestPath(UpstreamCall call, bool stream);

    /// <summary>The request body: the neutral request in the wire's shape.</summary>
    protected abstract void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream);

    /// <summary>The credential in the wire's header style; by default <c>Authorization: Bearer</c> when there is a key.</summary>
    protected virtual void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (call.ApiKey is { Length: > 0 } key) headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
    }

    /// <summary>Headers the wire itself requires (e.g. an API version); the provider's configured headers follow them.</summary>
    protected virtual void AddWireHeaders(HttpRequestHeaders headers, UpstreamCall call)
    {
    }

    /// <summary>
    /// Last step before a request is sent, with its body written: a wire that signs the whole request (AWS SigV4) or gets its
    /// credential asynchronously does it here. Throwing <see cref="UpstreamException"/> fails the attempt like an error answer.
    /// </summary>
    protected virtual ValueTask PrepareAsync(HttpRequestMessage request, UpstreamCall call, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The reader of one stream (a stateless wire returns one shared instance).</summary>
    protected abstract IStreamDecoder<TFrame> NewStreamDecoder(UpstreamCall call);

    /// <summary>
    /// A whole (non-streamed) answer to <paramref name="call"/>; an error object in it throws <see cref="UpstreamException"/>.
    /// A <see cref="ChatCompletion.Raw"/> may be <paramref name="root"/> itself: the skeleton hands the document to the
    /// completion (<see cref="ChatCompletion.RawDocument"/>) or copies it before the document goes.
    /// </summary>
    protected abstract ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call);

    /// <summary>An error answer (non-2xx) as classification input; by default the common shapes of <see cref="UpstreamErrors.FromResponse"/>.</summary>
    protected virtual UpstreamFailure ErrorFailure(HttpResponseMessage response, string body, string providerId) =>
        UpstreamErrors.FromResponse(response, body, providerId);

    /// <inheritdoc cref="IChatTransport.Dropped"/>
    public virtual System.Collections.Immutable.ImmutableArray<string> Dropped(ChatRequest request, Models.ResolvedModel target) => [];

    /// <inheritdoc cref="IChatTransport.Unsupported"/>
    public virtual UnsupportedField? Unsupported(ChatRequest request, Models.ResolvedModel target) => null;

    // The state-passing overloads below take static lambdas: the chat hot path allocates no closure for them.
    // The completion keeps the parsed answer when its Raw is in it (no copy of the whole body): ChatCompletion.ReleaseRaw.
    public Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        ExchangeJsonAsync(call, BuildRequest(call, stream: false), (self: this, call),
            static (doc, response, s, _) =>
            {
                var completion = s.self.ParseCompletion(doc.RootElement, s.call);
                return completion with
                {
                    Hints = UpstreamHttp.ReadHints(response, null),
                    Headers = UpstreamHttp.PassOn(response),
                    RawDocument = completion.Raw is null ? null : doc,
                };
            },
            cancellationToken);

    /// <summary>
    /// One embeddings exchange on this wire: <c>POST {baseUrl}{path}</c> with the body <paramref name="writeBody"/> writes, the
    /// wire's authentication and headers, one idle timer, and every failure an <see cref="UpstreamException"/>, exactly as a
    /// completion. The answer's rate-limit hints and passed-on headers are added to what <paramref name="parse"/> returns.
    /// </summary>
    protected Task<EmbeddingResult> EmbedJsonAsync(EmbeddingCall call, string path, Action<Utf8JsonWriter, EmbeddingCall> writeBody,
        Func<JsonElement, string, EmbeddingResult> parse, CancellationToken cancellationToken)
    {
        var upstreamCall = call.AsUpstreamCall();
        return ExchangeJsonAsync(upstreamCall, BuildRequest(upstreamCall, path, (writeBody, call), static (w, s) => s.writeBody(w, s.call), stream: false),
            parse,
            static (doc, response, parse, providerId) => parse(doc.RootElement, providerId) with
                { Hints = UpstreamHttp.ReadHints(response, null), Headers = UpstreamHttp.PassOn(response) },
            cancellationToken);
    }

    /// <summary>
    /// One JSON exchange beside the wire's chat endpoint (Anthropic's <c>count_tokens</c>): <c>POST {baseUrl}{path}</c> with the
    /// body <paramref name="writeBody"/> writes, the wire's authentication and headers, one idle timer, every failure an
    /// <see cref="UpstreamException"/>, as a completion.
    /// </summary>
    protected Task<T> PostJsonAsync<T>(UpstreamCall call, string path, Action<Utf8JsonWriter, UpstreamCall> writeBody,
        Func<JsonElement, string, T> parse, CancellationToken cancellationToken) =>
        ExchangeJsonAsync(call, BuildRequest(call, path, (writeBody, call), static (w, s) => s.writeBody(w, s.call), stream: false), parse,
            static (doc, _, parse, providerId) => parse(doc.RootElement, providerId), cancellationToken);

    /// <summary>
    /// Sends <paramref name="request"/> (disposed here) and reads its whole JSON answer under one idle timer. The parsed
    /// answer is disposed here unless the value read is a <see cref="ChatCompletion"/> that took it
    /// (<see cref="ChatCompletion.RawDocument"/>).
    /// </summary>
    private async Task<T> ExchangeJsonAsync<TState, T>(UpstreamCall call, HttpRequestMessage request, TState state,
        Func<JsonDocument, HttpResponseMessage, TState, string, T> read, CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        using (request)
        {
            using var idle = IdleTimer.Start(call.IdleTimeout, cancellationToken);
            try
            {
                using var response = await SendAsync(request, call, idle, cancellationToken).ConfigureAwait(false);
                await using var body = GuardedBody.Whole(await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false),
                    providerId, idle, upstream.MaxResponseBytes);
                var doc = await JsonDocument.ParseAsync(body, default, idle.Token).ConfigureAwait(false);
                var kept = false;
                try
                {
                    var value = read(doc, response, state, providerId);
                    kept = value is ChatCompletion completion && ReferenceEquals(completion.RawDocument, doc);
                    return value;
                }
                finally
                {
                    if (!kept) doc.Dispose();
                }
            }
            catch (Exception e) when (UpstreamErrors.IsMalformed(e))
            {
                throw UpstreamErrors.Malformed(providerId, e);
            }
            catch (Exception e) when (UpstreamErrors.Translate(e, providerId, idle, cancellationToken) is { } translated)
            {
                throw translated;
            }
        }
    }

    public async IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        using var idle = IdleTimer.Start(call.IdleTimeout, cancellationToken);
        using var request = BuildRequest(call, stream: true);
        using var response = await SendAsync(request, call, idle, cancellationToken).ConfigureAwait(false);
        yield return new StreamOpened(UpstreamHttp.ReadHints(response, null)) { Headers = UpstreamHttp.PassOn(response) };
        if (AnsweredWithJson(response))
        {
            // Some OpenAI-compatible servers ignore "stream": true and answer with the whole completion: that is the answer,
            // streamed on to the client as events (not a cut stream to fail over from).
            foreach (var e in await ReadWholeAnswerAsync(response, call, idle, cancellationToken).ConfigureAwait(false)) yield return e;
            yield break;
        }
        var body = GuardedBody.Lines(await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false),
            providerId, idle, upstream.MaxLineBytes);
        var decoder = NewStreamDecoder(call);
        var frames = Framing.Open(body, idle.Token);
        var events = new List<ChatEvent>(4);
        var complete = false;
        try
        {
            while (true)
            {
                TFrame frame;
                try
                {
                    if (!await frames.MoveNextAsync().ConfigureAwait(false)) break;
                    frame = frames.Current;
                }
                catch (Exception e) when (UpstreamErrors.Translate(e, providerId, idle, cancellationToken) is { } translated)
                {
                    throw translated;
                }
                catch (Exception e) when (UpstreamErrors.IsMalformed(e) && !cancellationToken.IsCancellationRequested)
                {
                    throw UpstreamErrors.Malformed(providerId, e);
                }
                idle.Touch();
                FrameVerdict verdict;
                try
                {
                    verdict = decoder.Decode(in frame, events);
                }
                catch (Exception e) when (UpstreamErrors.IsMalformed(e))
                {
                    // An event the decoder could not read (a lone surrogate, a missing or mistyped property) is a broken stream.
                    throw UpstreamErrors.Malformed(providerId, e);
                }
                for (var i = 0; i < events.Count; i++) yield return events[i];
                events.Clear();
                if (verdict.Failure is { } failure) throw new UpstreamException(failure with { ProviderId = providerId }, UpstreamException.NoHints);
                complete |= verdict.Completes;
                if (verdict.Stops) break;
            }
        }
        finally
        {
            await frames.DisposeAsync().ConfigureAwait(false);
        }
        if (!complete)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.StreamCut, "upstream stream was cut before it finished");
    }

    private bool AnsweredWithJson(HttpResponseMessage response) =>
        Framing.MediaType is not null && response.Content.Headers.ContentType?.MediaType is { } type
        && type.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>A whole JSON answer to a streaming request, as the events a stream of it would have carried.</summary>
    private async Task<List<ChatEvent>> ReadWholeAnswerAsync(HttpResponseMessage response, UpstreamCall call, IdleTimer idle,
        CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        ChatCompletion completion;
        try
        {
            await using var body = GuardedBody.Whole(await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false),
                providerId, idle, upstream.MaxResponseBytes);
            using var doc = await JsonDocument.ParseAsync(body, default, idle.Token).ConfigureAwait(false);
            // Its events are streamed after the document has gone: they get a copy of what they lend from it.
            completion = ParseCompletion(doc.RootElement, call);
            if (completion.Raw is { } raw) completion = completion with { Raw = raw.Clone() };
        }
        catch (Exception e) when (UpstreamErrors.IsMalformed(e))
        {
            throw UpstreamErrors.Malformed(providerId, e);
        }
        catch (Exception e) when (UpstreamErrors.Translate(e, providerId, idle, cancellationToken) is { } translated)
        {
            throw translated;
        }
        return WholeAnswerEvents(completion);
    }

    /// <summary>
    /// A whole answer to a streaming request as the events its stream would have carried; by default the typed first choice
    /// (a wire whose <see cref="ChatCompletion.Raw"/> holds more, every choice, overrides this).
    /// </summary>
    protected virtual List<ChatEvent> WholeAnswerEvents(ChatCompletion completion)
    {
        var events = new List<ChatEvent>(6);
        if (completion.Reasoning is { Length: > 0 } reasoning) events.Add(new ReasoningDelta(reasoning) { Signature = completion.ReasoningSignature });
        foreach (var redacted in completion.RedactedReasoning) events.Add(new ReasoningDelta("") { Redacted = redacted });
        if (completion.Refusal is { Length: > 0 } refusal) events.Add(new RefusalDelta(refusal));
        if (completion.Text is { Length: > 0 } text) events.Add(new TextDelta(text));
        for (var i = 0; i < completion.ToolCalls.Length; i++)
        {
            var tool = completion.ToolCalls[i];
            events.Add(new ToolCallDelta(i, tool.Id, tool.Name, tool.Arguments));
        }
        events.Add(new Finished(completion.FinishReason) { StopSequence = completion.StopSequence });
        if (completion.Usage is { } usage) events.Add(new UsageReport(usage));
        return events;
    }

    private HttpRequestMessage BuildRequest(UpstreamCall call, bool stream) =>
        BuildRequest(call, RequestPath(call, stream), (self: this, call, stream), static (w, s) => s.self.WriteBody(w, s.call, s.stream), stream);

    private HttpRequestMessage BuildRequest<TState>(UpstreamCall call, string path, TState state, Action<Utf8JsonWriter, TState> writeBody, bool stream)
    {
        var provider = call.Target.Provider;
        var body = new PooledJsonContent();
        try
        {
            using (var w = new Utf8JsonWriter(body))
                writeBody(w, state);
        }
        catch
        {
            body.Dispose(); // the pooled buffer goes back even when the mapping refuses the request
            throw;
        }
        var request = UpstreamHttp.JsonPost(provider.BaseUrl, path, body);
        if (!ProviderConnections.ApplyAuth(request.Headers, provider, call.ApiKey)) AddAuthentication(request.Headers, call);
        AddWireHeaders(request.Headers, call);
        foreach (var (name, value) in provider.Headers) request.Headers.TryAddWithoutValidation(name, value);
        ProviderConnections.ApplyHeaders(request.Headers, provider);
        if (stream && Framing.MediaType is { } accept) request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    /// <summary>Sends with the idle timer; a 2xx answer is returned (headers read), anything else throws <see cref="UpstreamException"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, UpstreamCall call, IdleTimer idle, CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        HttpResponseMessage response;
        try
        {
            await PrepareAsync(request, call, idle.Token).ConfigureAwait(false);
            response = await ClientFor(call.Target.Provider).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (UpstreamErrors.Translate(e, providerId, idle, cancellationToken) is { } translated)
        {
            throw translated;
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            if (UpstreamHttp.Redirect(response, providerId) is { } redirect)
                throw new UpstreamException(redirect, UpstreamException.NoHints) { Headers = UpstreamHttp.PassOn(response) };
            var body = await UpstreamHttp.ReadBoundedAsync(response, upstream.MaxErrorBodyBytes, idle.Token).ConfigureAwait(false);
            throw new UpstreamException(ErrorFailure(response, body, providerId), UpstreamHttp.ReadHints(response, body))
            {
                Headers = UpstreamHttp.PassOn(response),
            };
        }
    }
}
