using Durar.Actors.Chat;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Transports;

/// <summary>
/// The upstream HTTP client every HTTP transport shares: its name, its handler and registration, endpoint URIs, the bounded
/// read of an error answer and the rate-limit headers of any answer. Turning failures into <see cref="UpstreamException"/>s is
/// <see cref="UpstreamErrors"/>' job; the exchange itself is <see cref="HttpChatTransport{TFrame}"/>'s.
/// </summary>
internal static class UpstreamHttp
{
    public const string ClientName = "durar-upstream";

    /// <summary>
    /// Registers the named upstream client. One handler serves every provider, key and tenant for the process's lifetime;
    /// transports create their client once.
    /// </summary>
    public static IHttpClientBuilder AddUpstreamHttpClient(this IServiceCollection services, UpstreamSettings settings) =>
        services.AddHttpClient(ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => CreateHandler(settings))
            // The factory's logging handlers would open a log scope and write two log events per upstream call (the hot
            // path); transports report failures themselves.
            .RemoveAllLoggers()
            // Upstream clients are created per call by the factory; the handler pool keeps connections warm.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

    /// <summary>The upstream handler: timeouts and connection recycling from <c>gateway.upstream</c>, the rest fixed here.</summary>
    public static SocketsHttpHandler CreateHandler(UpstreamSettings settings) => new()
    {
        PooledConnectionLifetime = settings.PooledConnectionLifetime,
        PooledConnectionIdleTimeout = settings.PooledConnectionIdleTimeout,
        ConnectTimeout = settings.ConnectTimeout,
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli,
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        // An abandoned response (client gone, error body not read) closes the upstream connection at once.
        ResponseDrainTimeout = TimeSpan.Zero,
        // One handler serves every key and tenant: an upstream's cookies (load-balancer affinity and the like) must
        // not travel between them, and no cookie handler runs per call.
        UseCookies = false,
        // No trace headers injected into upstream calls (and no diagnostics handler per call).
        ActivityHeadersPropagator = null,
        // A redirect would carry x-api-key, the provider's custom headers and an OAuth refresh body to wherever the
        // upstream points: never followed; a 3xx is a classified failure naming its Location (HttpChatTransport).
        AllowAutoRedirect = false,
    };

    /// <summary>The failure of an answer that redirected (never followed: <see cref="CreateHandler"/>), naming where it pointed.</summary>
    public static UpstreamFailure? Redirect(HttpResponseMessage response, string providerId)
    {
        var status = (int)response.StatusCode;
        if (status is < 300 or > 399) return null;
        var location = response.Headers.Location?.ToString() ?? "(no Location header)";
        return new UpstreamFailure(status, $"upstream answered {status} redirecting to {location}; redirects are not followed (point the provider's baseUrl at the final address)",
            null, null, providerId);
    }

    /// <summary>Endpoint URIs by base URL and path: a provider's few endpoints are built and parsed once, not on every call.</summary>
    private static readonly ConcurrentDictionary<(string? BaseUrl, string Path), Uri> Endpoints = new();

    /// <summary>
    /// A POST of the JSON in <paramref name="body"/> to <paramref name="baseUrl"/> + <paramref name="path"/>; disposing the
    /// request returns the body's buffer to its pool.
    /// </summary>
    public static HttpRequestMessage JsonPost(string? baseUrl, string path, PooledJsonContent body)
    {
        if (!Endpoints.TryGetValue((baseUrl, path), out var uri))
        {
            uri = new Uri(baseUrl + path, UriKind.Absolute);
            if (Endpoints.Count < 1024) Endpoints.TryAdd((baseUrl, path), uri); // base URLs come from the config; bounded anyway
        }
        return new HttpRequestMessage(HttpMethod.Post, uri) { Content = body, Version = HttpVersion.Version11 };
    }

    /// <summary>
    /// Up to <paramref name="maxBytes"/> of an (error) answer's body as text; what cannot be read is left out, never thrown:
    /// the status alone is still a useful failure.
    /// </summary>
    public static async Task<string> ReadBoundedAsync(HttpResponseMessage response, int maxBytes, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var total = 0;
            int read;
            while (total < maxBytes && (read = await stream.ReadAsync(buffer.AsMemory(total, maxBytes - total), ct).ConfigureAwait(false)) > 0)
                total += read;
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Every header name <see cref="RateLimitHeaders.Parse"/> reads, for the one-pass check in <see cref="ReadHints"/>.</summary>
    private static readonly FrozenSet<string> HintHeaders = RateLimitHeaders.HeaderNames.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>What an answer's headers (and error body, when there is one) say about rate limits.</summary>
    public static RateLimitHints ReadHints(HttpResponseMessage response, string? body)
    {
        // Most answers carry no rate-limit header at all (proxies, local servers): one pass over the raw headers settles it
        // without the per-name lookups. Raw (non-validated) values: nothing is parsed or allocated for headers we never read.
        if (body is null && !HasAny(response.Headers.NonValidated) && !HasAny(response.Content.Headers.NonValidated))
            return UpstreamException.NoHints;
        return RateLimitHeaders.Parse(name => Header(response.Headers, name) ?? Header(response.Content.Headers, name), body, DateTimeOffset.UtcNow);

        static bool HasAny(HttpHeadersNonValidated headers)
        {
            foreach (var header in headers)
                if (HintHeaders.Contains(header.Key)) return true;
            return false;
        }

        static string? Header(HttpHeaders headers, string name) =>
            headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0 ? values.First() : null;
    }

    /// <summary>Response headers a client reads, passed on as the upstream sent them (exact names, and the families by prefix).</summary>
    private static readonly FrozenSet<string> PassedHeaders = new[]
    {
        "x-request-id", "request-id", "openai-processing-ms", "openai-version", "retry-after", "retry-after-ms",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="value"/> can be a response header value as it is: visible ASCII and spaces only.</summary>
    public static bool IsHeaderSafe(string value) => !value.AsSpan().ContainsAnyExceptInRange(' ', '~');

    private static bool IsPassed(string name) =>
        PassedHeaders.Contains(name) || name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The headers of <paramref name="response"/> the client should see (the request id the SDKs expose, the processing time,
    /// the rate-limit family): nothing is allocated for an answer that has none.
    /// </summary>
    public static UpstreamHeaders PassOn(HttpResponseMessage response)
    {
        System.Collections.Immutable.ImmutableArray<KeyValuePair<string, string>>.Builder? found = null;
        foreach (var header in response.Headers.NonValidated)
        {
            if (!IsPassed(header.Key) || header.Value.Count == 0) continue;
            var value = header.Value.ToString();
            // Kestrel refuses a response header value with a control or non-ASCII character (the client's answer would fail
            // when its headers are set): such a value, which HttpClient reads as Latin-1, is not passed on; the answer is.
            if (!IsHeaderSafe(value)) continue;
            (found ??= System.Collections.Immutable.ImmutableArray.CreateBuilder<KeyValuePair<string, string>>()).Add(
                new(header.Key.ToLowerInvariant(), value));
        }
        return found is null ? UpstreamHeaders.None : new UpstreamHeaders(found.ToImmutable());
    }
}
