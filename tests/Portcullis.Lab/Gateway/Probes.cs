using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A listener on a client that answers each TCP connection or UDP datagram with "NAME from SOURCE", so a test sees
/// both who answered and whom the client believed it was talking to; and the probe a remote host runs against it.
/// </summary>
internal static class Probes
{
    private const string Listener = """
        import socket, sys
        proto, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        if proto == 'tcp':
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('0.0.0.0', port))
            s.listen(16)
            print('listening', flush=True)
            while True:
                c, a = s.accept()
                c.sendall(f'{name} from {a[0]}\n'.encode())
                c.close()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(('0.0.0.0', port))
            print('listening', flush=True)
            while True:
                d, a = s.recvfrom(2048)
                s.sendto(f'{name} from {a[0]} {d.decode()}'.encode(), a)
        """;

    private const string Probe = """
        import socket, sys
        proto, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        try:
            if proto == 'tcp':
                c = socket.create_connection((host, port), timeout=timeout)
                c.settimeout(timeout)
                print(c.recv(256).decode().strip())
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(timeout / 4)
                for attempt in range(4):
                    s.sendto(b'ping', (host, port))
                    try:
                        print(s.recvfrom(256)[0].decode().strip())
                        break
                    except socket.timeout:
                        pass
                else:
                    raise TimeoutError('no UDP answer')
        except OSError as e:
            print(f'no answer: {e}')
            sys.exit(1)
        """;

    /// <summary>Starts the listener on <paramref name="host"/>; returns once it listens.</summary>
    public static async Task<LabProcess> ListenAsync(LabHost host, string protocol, int port)
    {
        var listener = host.Start("python3", "-c", Listener, protocol, port.ToString(CultureInfo.InvariantCulture), host.Name);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!listener.Output.Contains("listening", StringComparison.Ordinal))
        {
            if (listener.HasExited || DateTime.UtcNow > deadline)
                throw new LabCommandException($"listener did not start: {listener}");
            await Task.Delay(20);
        }
        return listener;
    }

    /// <summary>The listener's answer ("NAME from SOURCE…"), or null when nothing answered within the timeout.</summary>
    public static async Task<string?> AskAsync(LabHost from, string protocol, string address, int port, double timeoutSeconds = 2)
    {
        var result = await from.RunAsync(
            ["python3", "-c", Probe, protocol, address, port.ToString(CultureInfo.InvariantCulture), timeoutSeconds.ToString(CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(timeoutSeconds + 10) });
        return result.Succeeded ? result.Stdout.Trim() : null;
    }
}
