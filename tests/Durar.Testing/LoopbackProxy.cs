using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durar.Testing;

/// <summary>
/// A tiny HTTP forward proxy on 127.0.0.1, for the gateway's per-provider proxy setting: absolute-form requests to
/// <c>http://</c> upstreams are forwarded one per connection (<c>Connection: close</c>), <c>CONNECT host:port</c> opens a
/// tunnel (for <c>https://</c> upstreams), and every request through it is counted with its target. Only loopback targets
/// are forwarded.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _targets = [];
    private readonly Task _accepting;

    private LoopbackProxy()
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    /// <summary><c>http://127.0.0.1:PORT</c>, the value for <c>request.proxy</c>.</summary>
    public string Url { get; }

    /// <summary>The request lines (<c>POST http://127.0.0.1:P/v1/chat/completions</c>, <c>CONNECT 127.0.0.1:P</c>) it forwarded, in order.</summary>
    public IReadOnlyList<string> Targets
    {
        get
        {
            lock (_targets) return _targets.ToArray();
        }
    }

    public static LoopbackProxy Start() => new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var downstream = client.GetStream();
                var (head, rest) = await ReadHeadAsync(downstream);
                if (head is null) return;
                var lines = head.Split("\r\n");
                var parts = lines[0].Split(' ');
                if (parts.Length != 3) return;
                var (method, target) = (parts[0], parts[1]);
                lock (_targets) _targets.Add($"{method} {target}");
                using var upstream = new TcpClient();
                if (method == "CONNECT")
                {
                    var hostPort = target.Split(':');
                    await upstream.ConnectAsync(IPAddress.Loopback, int.Parse(hostPort[1]), _stop.Token);
                    await downstream.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), _stop.Token);
                }
                else
                {
                    var uri = new Uri(target);
                    if (!uri.IsLoopback) return;
                    await upstream.ConnectAsync(IPAddress.Loopback, uri.Port, _stop.Token);
                    var forwarded = new StringBuilder($"{method} {uri.PathAndQuery} {parts[2]}\r\n");
                    foreach (var line in lines.Skip(1))
                        if (line.Length > 0 && !line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)
                            && !line.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
                            forwarded.Append(line).Append("\r\n");
                    forwarded.Append("Connection: close\r\n\r\n");
                    await upstream.GetStream().WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()), _stop.Token);
                }
                var up = upstream.GetStream();
                if (rest.Length > 0) await up.WriteAsync(rest, _stop.Token);
                var toUpstream = downstream.CopyToAsync(up, _stop.Token);
                var toClient = up.CopyToAsync(downstream, _stop.Token);
                await Task.WhenAny(toUpstream, toClient);
                if (method != "CONNECT") await toClient; // the upstream closes after its answer (Connection: close)
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>The request head (up to the blank line) and whatever body bytes arrived with it.</summary>
    private async Task<(string? Head, byte[] Body)> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), _stop.Token);
            if (read == 0) return (null, []);
            total += read;
            var end = buffer.AsSpan(0, total).IndexOf("\r\n\r\n"u8);
            if (end >= 0) return (Encoding.ASCII.GetString(buffer, 0, end), buffer[(end + 4)..total]);
        }
        return (null, []);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
