using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durar.Testing;

/// <summary>
/// A fake upstream LLM provider: a real Kestrel server on 127.0.0.1 that speaks the OpenAI chat-completions
/// and Anthropic messages wire formats, byte for byte, including streaming, Gemini's generateContent (<see cref="GeminiWire"/>,
/// also at Vertex AI's and Cloud Code Assist's URLs), and OpenAI's embeddings endpoint (<see cref="OpenAiEmbeddingsWire"/>,
/// also at Gemini's OpenAI-compatible path).
/// </summary>
/// <remarks>
/// It exists so the gateway's integration tests go through real HTTP, real sockets and real SSE framing while
/// staying hermetic and deterministic: each request is answered by <see cref="Script"/>, else the next
/// <see cref="Enqueue">queued</see> response, else <see cref="Default"/>, and every request is recorded for
/// assertions. Faults (429s, overload, cut or stalled streams, malformed frames) are scripted per request through
/// <see cref="FakeResponse"/>. Requests whose body is not a JSON object get a 400 without consuming the queue.
/// Thread-safe; built for hundreds of concurrent requests. Logs nothing.
/// </remarks>
public sealed partial class FakeProvider : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentQueue<FakeResponse> _queue = new();
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<Waiter> _waiters = [];
    private readonly List<OAuthRefresh> _refreshes = [];
    private TaskCompletionSource _clientAbort = NewSignal();
    private volatile Func<RecordedRequest, FakeResponse?>? _script;
    private volatile FakeResponse _default = new();
    private long _sequence;
    private int _disposed;

    private FakeProvider(WebApplication app)
    {
        _app = app;
        app.MapPost("/v1/chat/completions", http => HandleChatAsync(http, OpenAiWire.Instance));
        app.MapPost("/chat/completions", http => HandleChatAsync(http, OpenAiWire.Instance));
        app.MapPost("/v1/messages", http => HandleChatAsync(http, AnthropicWire.Instance));
        app.MapPost("/v1/messages/count_tokens", HandleCountTokensAsync);
        app.MapPost("/v1/embeddings", http => HandleChatAsync(http, OpenAiEmbeddingsWire.Instance));
        app.MapPost("/embeddings", http => HandleChatAsync(http, OpenAiEmbeddingsWire.Instance));
        // Gemini's OpenAI-compatible base (https://generativelanguage.googleapis.com/v1beta/openai) + /embeddings.
        app.MapPost("/v1beta/openai/embeddings", http => HandleChatAsync(http, OpenAiEmbeddingsWire.Instance));
        // Gemini's own API (GeminiWire): /v1beta/models/{model}:streamGenerateContent?alt=sse and :generateContent.
        app.MapPost("/v1beta/models/{**rest}", http => HandleChatAsync(http, GeminiWire.Instance));
        // Vertex AI publisher models: Gemini (google) on the Gemini wire, Claude (anthropic) with :rawPredict/:streamRawPredict.
        app.MapPost("/v1/projects/{**rest}", http => HandleChatAsync(http,
            (http.Request.Path.Value ?? "").Contains("/publishers/anthropic/", StringComparison.Ordinal) ? AnthropicWire.Instance : GeminiWire.Instance));
        // Cloud Code Assist (the Gemini CLI's backend): the Gemini wire inside its {model, project, request} envelope.
        app.MapPost("/v1internal:streamGenerateContent", http => HandleChatAsync(http, GeminiWire.CodeAssist));
        app.MapPost("/v1internal:generateContent", http => HandleChatAsync(http, GeminiWire.CodeAssist));
        app.MapGet("/v1/models", WriteModelsAsync);
        app.MapPost("/api/chat", http => HandleChatAsync(http, OllamaWire.Instance));
        app.MapPost("/v1/responses", http => HandleChatAsync(http, ResponsesWire.Instance));
        app.MapPost("/responses", http => HandleChatAsync(http, ResponsesWire.Instance));
        // The ChatGPT backend's Codex endpoint (https://chatgpt.com/backend-api + /codex/responses), at the fake's /v1 base too.
        app.MapPost("/v1/codex/responses", http => HandleChatAsync(http, ResponsesWire.Instance));
        app.MapPost("/backend-api/codex/responses", http => HandleChatAsync(http, ResponsesWire.Instance));
        app.MapGet("/api/tags", WriteOllamaTagsAsync);
        app.MapPost("/api/show", WriteOllamaShowAsync);
        app.MapPost("/oauth/token", HandleTokenAsync);
        MapWires(app);
        app.MapPost("/google/token", HandleGoogleTokenAsync);
    }

    /// <summary>Root of the server, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary><c>http://127.0.0.1:PORT/v1</c>; OpenAI clients append <c>/chat/completions</c>.</summary>
    public string OpenAiBaseUrl => new Uri(BaseUri, "v1").ToString();

    /// <summary><c>http://127.0.0.1:PORT</c>; Anthropic clients append <c>/v1/messages</c>.</summary>
    public string AnthropicBaseUrl => BaseUri.GetLeftPart(UriPartial.Authority);

    /// <summary><c>http://127.0.0.1:PORT/oauth/token</c>: an OAuth token endpoint answering <c>grant_type=refresh_token</c>.</summary>
    public string OAuthTokenUrl => new Uri(BaseUri, "oauth/token").ToString();

    /// <summary>How long the token endpoint waits before answering (to let concurrent callers pile up). Default zero.</summary>
    public TimeSpan OAuthTokenDelay { get; set; }

    /// <summary>The <c>expires_in</c> of issued access tokens, in seconds. Default 3600.</summary>
    public int OAuthTokenLifetimeSeconds { get; set; } = 3600;

    /// <summary>When set, the token endpoint answers this status with <c>{"error":"invalid_grant"}</c> instead of tokens.</summary>
    public int? OAuthTokenFailureStatus { get; set; }

    /// <summary>Every call to the token endpoint, in arrival order, with the tokens it issued.</summary>
    public IReadOnlyList<OAuthRefresh> OAuthRefreshes
    {
        get
        {
            lock (_gate)
            {
                return _refreshes.ToArray();
            }
        }
    }

    /// <summary>Number of calls to the token endpoint.</summary>
    public int OAuthRefreshCount
    {
        get
        {
            lock (_gate)
            {
                return _refreshes.Count;
            }
        }
    }

    /// <summary>Consulted first for every request; returning null falls through to the queue, then <see cref="Default"/>.</summary>
    public Func<RecordedRequest, FakeResponse?>? Script
    {
        get => _script;
        set => _script = value;
    }

    /// <summary>Answer used when neither <see cref="Script"/> nor the queue supplies one.</summary>
    public FakeResponse Default
    {
        get => _default;
        set => _default = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Snapshot of the recorded chat requests, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>Number of recorded chat requests.</summary>
    public int RequestCount
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Starts the server on a free loopback port.</summary>
    public static Task<FakeProvider> StartAsync(CancellationToken ct = default) => StartAsync(null, ct);

    /// <summary>
    /// Starts the server on a free loopback port, over HTTPS with <paramref name="tls"/>'s certificate when given (and then
    /// requiring a client certificate issued by its CA when <see cref="FakeTls.RequireClientCertificate"/> is set).
    /// </summary>
    public static async Task<FakeProvider> StartAsync(FakeTls? tls, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(FakeProvider).Assembly.GetName().Name,
        });
        builder.Logging.ClearProviders();
        if (tls is null) builder.WebHost.UseUrls("http://127.0.0.1:0");
        else builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.UseHttps(tls.Configure)));
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        // A test helper must not hook the process's Ctrl+C / SIGTERM handling.
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();

        var provider = new FakeProvider(builder.Build());
        try
        {
            await provider._app.StartAsync(ct);
            var address = provider._app.Services.GetRequiredService<IServer>().Features
                .GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            provider.BaseUri = new Uri($"{(tls is null ? "http" : "https")}://127.0.0.1:{new Uri(address).Port}/");
            return provider;
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    /// <summary>Queues responses, consumed first-in first-out, one per incoming chat request on either wire.</summary>
    public void Enqueue(params FakeResponse[] responses)
    {
        foreach (var response in responses)
        {
            _queue.Enqueue(response ?? throw new ArgumentNullException(nameof(responses)));
        }
    }

    /// <summary>Waits until a request matching <paramref name="match"/> has been recorded (including earlier ones).</summary>
    /// <exception cref="TimeoutException">No such request within <paramref name="timeout"/>.</exception>
    public async Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> match, TimeSpan timeout)
    {
        var waiter = new Waiter(match);
        lock (_gate)
        {
            var existing = _requests.FirstOrDefault(match);
            if (existing is not null)
            {
                return existing;
            }

            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }

            throw new TimeoutException($"No matching request within {timeout} ({RequestCount} recorded).");
        }
    }

    /// <summary>Completes once any request (recorded since the last <see cref="Reset"/>) was aborted by its client.</summary>
    /// <exception cref="TimeoutException">No client abort within <paramref name="timeout"/>.</exception>
    public Task WaitForClientAbortAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            return _clientAbort.Task.WaitAsync(timeout);
        }
    }

    /// <summary>Clears the queue, the script, the recorded requests and token-endpoint calls, and restores <see cref="Default"/>.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _refreshes.Clear();
            _queue.Clear();
            _script = null;
            _default = new FakeResponse();
            _requests.Clear();
            _clientAbort = NewSignal();
        }
    }

    /// <summary>Stops the server quickly: stalled and delayed responses end, open connections are dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _shutdown.CancelAsync();
        using (var timeout = new CancellationTokenSource(ShutdownTimeout))
        {
            try
            {
                await _app.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Connections still open after the timeout were aborted; that is fine for a fake.
            }
        }

        await _app.DisposeAsync();

        lock (_gate)
        {
            foreach (var waiter in _waiters)
            {
                waiter.Signal.TrySetException(new ObjectDisposedException(nameof(FakeProvider)));
            }

            _waiters.Clear();
        }
    }

    /// <summary>
    /// Anthropic's <c>count_tokens</c>: recorded like a chat request (its path tells them apart), answered by the same script
    /// (an error status answers with Anthropic's error JSON), else <c>{"input_tokens": N}</c>, N the prompt's words (system
    /// and messages) plus 1000, so a test can tell the provider's count from the gateway's estimate.
    /// </summary>
    private async Task HandleCountTokensAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        var json = TryParse(body);
        var root = json.RootElement;
        var request = new RecordedRequest("anthropic", http.Request.Path.Value ?? "",
            http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, json,
            ApiKey(http.Request), root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var m) ? m.GetString() : null, false,
            DateTimeOffset.UtcNow);
        Record(request);
        var response = Choose(request);
        var status = AnthropicWire.Instance.StatusFor(response);
        http.Response.ContentType = "application/json";
        if (status >= 400)
        {
            http.Response.StatusCode = status;
            if (response.RetryAfter is { } retry) http.Response.Headers.RetryAfter = retry;
            await http.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                type = "error",
                error = new { type = response.ErrorType ?? (status == 429 ? "rate_limit_error" : "api_error"), message = response.ErrorMessage ?? "error (fake)" },
            }));
            return;
        }
        await http.Response.WriteAsync("{\"input_tokens\":" + (AnthropicWire.Instance.CountPromptWords(root) + 1000) + "}");
    }

    private async Task HandleChatAsync(HttpContext http, WireFormat wire)
    {
        string body;
        try
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(http.RequestAborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            return; // The client left before sending its request.
        }

        var json = TryParse(body);
        var root = json.RootElement;
        var isObject = root.ValueKind == JsonValueKind.Object;
        var request = new RecordedRequest(
            wire.Name,
            http.Request.Path.Value ?? "",
            http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body,
            json,
            ApiKey(http.Request),
            wire.ModelOf(http.Request, root),
            wire.IsStreaming(http.Request, root),
            DateTimeOffset.UtcNow);

        var abortSignal = Record(request);
        var response = isObject
            ? Choose(request)
            : FakeResponse.Error(400, "We could not parse the JSON body of your request. (fake)");
        var reply = Reply.Create(response, wire.LastUserText(root), wire.CountPromptWords(root));

        using var token = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _shutdown.Token);
        var exchange = new Exchange(http, request, response, reply, Interlocked.Increment(ref _sequence), token.Token);
        // Fires at once if the client is already gone.
        using var registration = http.RequestAborted.Register(() => OnRequestAborted(exchange, abortSignal));
        try
        {
            await wire.RespondAsync(exchange);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && token.IsCancellationRequested)
        {
            http.Abort(); // Client gone or provider shutting down: nothing left to say.
        }
        finally
        {
            exchange.Finished = true;
        }
    }

    private void OnRequestAborted(Exchange exchange, TaskCompletionSource abortSignal)
    {
        if (exchange.Finished || exchange.ServerAborted || _shutdown.IsCancellationRequested)
        {
            return;
        }

        if (exchange.Request.MarkClientAborted())
        {
            abortSignal.TrySetResult();
        }
    }

    /// <summary>Records the request, wakes matching waiters and returns the abort signal of the current generation.</summary>
    private TaskCompletionSource Record(RecordedRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var waiter = _waiters[i];
                try
                {
                    if (!waiter.Match(request))
                    {
                        continue;
                    }

                    waiter.Signal.TrySetResult(request);
                }
                catch (Exception e)
                {
                    waiter.Signal.TrySetException(e);
                }

                _waiters.RemoveAt(i);
            }

            return _clientAbort;
        }
    }

    private FakeResponse Choose(RecordedRequest request) =>
        Script?.Invoke(request) ?? (_queue.TryDequeue(out var queued) ? queued : Default);

    private static JsonDocument TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return JsonDocument.Parse("null");
        }
    }

    private static string? ApiKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        var apiKey = request.Headers["x-api-key"].ToString();
        if (apiKey.Length > 0)
        {
            return apiKey;
        }

        var googleKey = request.Headers["x-goog-api-key"].ToString();
        if (googleKey.Length > 0)
        {
            return googleKey;
        }

        var azureKey = request.Headers["api-key"].ToString(); // Azure OpenAI
        return azureKey.Length > 0 ? azureKey : null;
    }

    private static Task WriteModelsAsync(HttpContext http)
    {
        http.Response.ContentType = "application/json";
        return http.Response.Body.WriteAsync(JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var id in (string[])["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-latest"])
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", "model");
                w.WriteNumber("created", 1_700_000_000);
                w.WriteString("owned_by", "fake");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }), http.RequestAborted).AsTask();
    }

    /// <summary>
    /// The OAuth token endpoint (RFC 6749 §6): a form with <c>grant_type=refresh_token</c>, <c>refresh_token</c> and an
    /// optional <c>client_id</c> gets <c>{access_token, refresh_token, expires_in, token_type}</c> with fresh tokens
    /// (<c>fake-oauth-access-N</c>, <c>fake-oauth-refresh-N</c>); anything else gets a 400 <c>invalid_request</c>.
    /// </summary>
    private async Task HandleTokenAsync(HttpContext http)
    {
        IFormCollection form;
        try
        {
            form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : FormCollection.Empty;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidDataException)
        {
            return;
        }

        var grantType = form["grant_type"].ToString();
        var refreshToken = form["refresh_token"].ToString();
        var clientId = form["client_id"].ToString();
        if (grantType != "refresh_token" || refreshToken.Length == 0)
        {
            await WriteTokenErrorAsync(http, 400, "invalid_request");
            return;
        }

        OAuthRefresh refresh;
        lock (_gate)
        {
            var n = _refreshes.Count + 1;
            refresh = new OAuthRefresh(refreshToken, clientId.Length > 0 ? clientId : null,
                $"fake-oauth-access-{n}", $"fake-oauth-refresh-{n}", DateTimeOffset.UtcNow)
            { ClientSecret = form["client_secret"].ToString() is { Length: > 0 } secret ? secret : null };
            _refreshes.Add(refresh);
        }

        try
        {
            if (OAuthTokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(OAuthTokenDelay, http.RequestAborted); // a slow token endpoint, as scripted: behaviour, not synchronisation
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (OAuthTokenFailureStatus is { } status)
        {
            await WriteTokenErrorAsync(http, status, "invalid_grant");
            return;
        }

        http.Response.ContentType = "application/json";
        var lifetime = OAuthTokenLifetimeSeconds;
        await http.Response.Body.WriteAsync(JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("access_token", refresh.IssuedAccessToken);
            w.WriteString("refresh_token", refresh.IssuedRefreshToken);
            w.WriteNumber("expires_in", lifetime);
            w.WriteString("token_type", "Bearer");
            w.WriteEndObject();
        }), http.RequestAborted);
    }

    private static Task WriteTokenErrorAsync(HttpContext http, int status, string error)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.Body.WriteAsync(JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteEndObject();
        }), http.RequestAborted).AsTask();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Waiter(Func<RecordedRequest, bool> match)
    {
        public Func<RecordedRequest, bool> Match { get; } = match;

        public TaskCompletionSource<RecordedRequest> Signal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Host lifetime that neither waits for nor listens to process signals.</summary>
    private sealed class PassiveHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>One call to the fake's OAuth token endpoint: what the gateway sent and what the fake issued.</summary>
public sealed record OAuthRefresh(string RefreshToken, string? ClientId, string IssuedAccessToken, string IssuedRefreshToken, DateTimeOffset ReceivedAt)
{
    /// <summary>The <c>client_secret</c> sent, if any (installed apps such as Google's send theirs).</summary>
    public string? ClientSecret { get; init; }
}
