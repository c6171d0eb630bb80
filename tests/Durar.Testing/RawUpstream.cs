using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durar.Testing;

/// <summary>
/// An upstream that answers every request with the exact bytes a test scripts: a status line and headers, then body
/// pieces written one by one with pauses between them. It exists for what <see cref="FakeProvider"/> cannot produce
/// because it speaks well-formed HTTP through Kestrel: a compressed bomb, an endless line, keep-alive comments that trickle
/// in slower than an idle timeout. One connection per request (<c>Connection: close</c>), on 127.0.0.1 only.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Func<IReadOnlyList<Piece>> _script;
    private int _requests;

    /// <summary>One write of the answer: its bytes, after a pause.</summary>
    public sealed record Piece(byte[] Bytes, TimeSpan Delay = default)
    {
        /// <summary>UTF-8 text, after a pause.</summary>
        public static Piece Text(string text, TimeSpan delay = default) => new(Encoding.UTF8.GetBytes(text), delay);
    }

    private RawUpstream(Func<IReadOnlyList<Piece>> script)
    {
        _script = script;
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The base URL (no trailing slash); any path under it gets the scripted answer.</summary>
    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Requests answered (or being answered) so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Starts an upstream answering every request with the pieces <paramref name="script"/> returns.</summary>
    public static RawUpstream Start(Func<IReadOnlyList<Piece>> script) => new(script);

    /// <summary>The head of an answer: status line and headers (with <c>Connection: close</c>), ending in the blank line.</summary>
    public static Piece Head(int status, params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} Scripted\r\nConnection: close\r\n");
        foreach (var (name, value) in headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        return Piece.Text(head.Append("\r\n").ToString());
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            Interlocked.Increment(ref _requests);
            try
            {
                var stream = client.GetStream();
                await ReadHeadAndBodyAsync(stream);
                foreach (var piece in _script())
                {
                    if (piece.Delay > TimeSpan.Zero) await Task.Delay(piece.Delay, _stop.Token);
                    await stream.WriteAsync(piece.Bytes, _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The client went away (e.g. it stopped reading at a limit): nothing left to answer.
            }
        }
    }

    /// <summary>Reads the request head and a Content-Length body, so the client never sees its request cut off.</summary>
    private async Task ReadHeadAndBodyAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        var received = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, received).IndexOf("\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(received), _stop.Token);
            if (read == 0) return;
            received += read;
        }
        var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
        var length = head.Split("\r\n").Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
        var remaining = length - (received - headEnd - 4);
        while (remaining > 0)
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0) return;
            remaining -= read;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
