using System.Collections.Frozen;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using Durar.Api.Apis;

namespace Durar.Api.Dashboard;

/// <summary>
/// Serves the dashboard page at <c>/ui/</c>: plain HTML, CSS and JavaScript modules embedded in this assembly (no build step,
/// nothing loaded from elsewhere; a strict Content-Security-Policy says so to the browser). The files carry no data: the page
/// asks for the gateway token when the gateway has one and reads everything through the admin routes, so the same rule
/// applies to the page as to them (without a token, loopback clients only).
/// </summary>
internal static class DashboardUi
{
    private const string ResourcePrefix = "ui/";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; "
        + "frame-ancestors 'none'; base-uri 'none'";

    private static readonly FrozenDictionary<string, UiFile> Files = Load();

    /// <summary>The embedded file names (for specs).</summary>
    internal static IEnumerable<string> Names => Files.Keys;

    public static void Map(IEndpointRouteBuilder app)
    {
        // Also matches /ui itself (routing ignores a trailing slash): that one is redirected, so the page's relative URLs resolve.
        app.MapGet("/ui/{*path}", ServeAsync);
    }

    private static async Task ServeAsync(HttpContext context, string? path, GatewayAuth auth)
    {
        var response = context.Response;
        if (!auth.Enabled && context.Connection.RemoteIpAddress is { } ip && !IPAddress.IsLoopback(ip))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("The dashboard needs a gateway token (gateway.auth.token or DURAR_GATEWAY_TOKEN) when opened from another host.");
            return;
        }
        if (string.IsNullOrEmpty(path) && !context.Request.Path.Value!.EndsWith('/'))
        {
            response.Redirect(context.Request.PathBase + "/ui/");
            return;
        }
        if (!Files.TryGetValue(string.IsNullOrEmpty(path) ? "index.html" : path, out var file))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"No dashboard file \"{path}\".");
            return;
        }
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache"; // revalidated on every load: a gateway upgrade shows its own page at once
        headers.ETag = file.ETag;
        if (context.Request.Headers.IfNoneMatch == file.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = file.ContentType;
        response.ContentLength = file.Bytes.Length;
        await response.Body.WriteAsync(file.Bytes, context.RequestAborted);
    }

    private static FrozenDictionary<string, UiFile> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, UiFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            files[name[ResourcePrefix.Length..]] = new UiFile(bytes, ContentTypeOf(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8))}\"");
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record UiFile(byte[] Bytes, string ContentType, string ETag);
}
