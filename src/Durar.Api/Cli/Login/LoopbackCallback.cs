using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durar.Api.Cli.Login;

/// <summary>
/// The loopback listener a browser sign-in redirects to (RFC 8252 §7.3): a TCP listener on 127.0.0.1 that reads HTTP
/// request heads (each connection on its own, so an idle one holds nothing up) and answers each with a short page. Deliberately tiny (no web host): it serves one redirect, on a
/// port that is either registered with the provider (Codex: 1455) or any free one (Google).
/// </summary>
internal sealed class LoopbackCallback : IDisposable
{
    private const int MaxHeadBytes = 16 * 1024;

    /// <summary>A connection that sends no request head within this is dropped (a browser's idle preconnect).</summary>
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    private readonly TcpListener _listener;
    private readonly System.Threading.Channels.Channel<CallbackRequest> _requests = System.Threading.Channels.Channel.CreateUnbounded<CallbackRequest>();
    private Task? _accepting;

    private LoopbackCallback(TcpListener listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <exception cref="LoginFailedException">The port is taken (exit 2: another login, or set redirectPort).</exception>
    public static LoopbackCallback Start(int port, string portKey)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            listener.Dispose();
            throw new LoginFailedException($"cannot listen on 127.0.0.1:{port} for the sign-in's redirect ({e.SocketErrorCode}): "
                + $"is another login running? ({portKey})", ExitCodes.Usage);
        }
        return new LoopbackCallback(listener);
    }

    /// <summary>
    /// The next request that reaches the listener: its path and query, and a way to answer it. Connections are read side by
    /// side, so one a browser opened speculatively and left idle does not hold up the redirect behind it.
    /// </summary>
    public async Task<CallbackRequest> NextAsync(CancellationToken ct)
    {
        _accepting ??= AcceptAsync(ct);
        return await _requests.Reader.ReadAsync(ct);
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(ct);
                _ = ReadAsync(client, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The login ended: no more redirects are awaited.
        }
    }

    private async Task ReadAsync(TcpClient client, CancellationToken ct)
    {
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            idle.CancelAfter(HeadTimeout);
            var head = await ReadHeadAsync(client.GetStream(), idle.Token);
            var parts = head?.Split('\n', 2)[0].Trim().Split(' ');
            if (parts is { Length: 3 } && parts[0] == "GET" && Uri.TryCreate(new Uri("http://127.0.0.1/"), parts[1], out var target))
                await _requests.Writer.WriteAsync(new CallbackRequest(client, target.AbsolutePath, Query(target.Query)), ct);
            else await new CallbackRequest(client, "", new Dictionary<string, string>()).RespondAsync(400, "Bad request.", ct);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            client.Dispose();
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0) return null;
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal) || text.Contains("\n\n", StringComparison.Ordinal)) return text;
        }
        return null;
    }

    private static Dictionary<string, string> Query(string query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            values.TryAdd(Uri.UnescapeDataString(kv[0].Replace('+', ' ')), kv.Length == 2 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : "");
        }
        return values;
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>One request to the loopback listener: answered once with a small page, then closed.</summary>
internal sealed class CallbackRequest(TcpClient client, string path, IReadOnlyDictionary<string, string> query)
{
    public string Path { get; } = path;
    public IReadOnlyDictionary<string, string> Query { get; } = query;

    public async Task RespondAsync(int status, string message, CancellationToken ct)
    {
        using (client)
        {
            var body = Encoding.UTF8.GetBytes($"<!doctype html><html><head><title>durar</title></head><body><p>{WebUtility.HtmlEncode(message)}</p></body></html>");
            var reason = status switch { 200 => "OK", 404 => "Not Found", _ => "Bad Request" };
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            try
            {
                var stream = client.GetStream();
                await stream.WriteAsync(head, ct);
                await stream.WriteAsync(body, ct);
                await stream.FlushAsync(ct);
            }
            catch (IOException)
            {
                // The browser went away: the sign-in's outcome does not depend on the page.
            }
        }
    }
}
