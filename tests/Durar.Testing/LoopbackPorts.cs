using System.Net;
using System.Net.Sockets;

namespace Durar.Testing;

/// <summary>
/// Loopback TCP ports for servers a test starts itself (Akka remoting, a gateway process's HTTP port, a private
/// PostgreSQL). A port the kernel hands out for <c>bind(0)</c> comes from the ephemeral range, which outgoing connections
/// draw from too: between "free a moment ago" and the server's own bind, any HTTP client in the same test run may take it
/// as its local port (seen in CI: Akka remoting failing with "Address already in use"). These ports come from below the
/// ephemeral range instead, where nothing is assigned implicitly; each process starts at its own random offset and walks
/// forward, so parallel test assemblies do not pick the same sequence, and every port is checked bindable before it is
/// handed out.
/// </summary>
public static class LoopbackPorts
{
    private const int Floor = 20_000;
    private static readonly int Ceiling = EphemeralLow() - 1;
    private static int _cursor = Ceiling > Floor + 1_000 ? Random.Shared.Next(Floor, Ceiling) : 0;

    /// <summary>A port on 127.0.0.1 that is free now and that no other caller in this process has been given.</summary>
    public static int Next()
    {
        if (Ceiling <= Floor + 1_000) return KernelPort(); // an unusual range setting: fall back to the kernel's choice
        for (var attempt = 0; attempt < 2_000; attempt++)
        {
            var port = Floor + (int)((uint)(Interlocked.Increment(ref _cursor) - Floor) % (uint)(Ceiling - Floor));
            if (IsFree(port)) return port;
        }

        throw new InvalidOperationException($"LoopbackPorts: no free port between {Floor} and {Ceiling} on 127.0.0.1.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int KernelPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The low end of the kernel's ephemeral range (Linux <c>ip_local_port_range</c>; IANA's 49152 elsewhere).</summary>
    private static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (range.Length >= 1 && int.TryParse(range[0], out var low)) return low;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        return 49_152;
    }
}
