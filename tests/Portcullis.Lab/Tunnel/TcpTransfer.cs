using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// A TCP stream between two lab hosts with a SHA-256 taken at both ends. The sender streams fresh random bytes
/// (optionally paced, so a test can act mid-transfer) and hashes them as it goes; the receiver hashes what arrives.
/// </summary>
internal static class TcpTransfer
{
    public const int Port = 5201;

    private const string Receiver = """
        import hashlib, socket, sys
        Started = 1 << 20
        family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], int(sys.argv[2])))
        s.listen(1)
        print('listening', flush=True)
        c, _ = s.accept()
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
            if n < Started <= n + len(b):
                print('started', flush=True)
            n += len(b)
        print(n, h.hexdigest(), flush=True)
        """;

    private const string Sender = """
        import hashlib, os, socket, sys, time
        host, port, total, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        deadline = time.time() + 10
        while True:
            try:
                c = socket.create_connection((host, port), timeout=30)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        h, sent, start = hashlib.sha256(), 0, time.time()
        while sent < total:
            b = os.urandom(min(1 << 16, total - sent))
            c.sendall(b)
            h.update(b)
            sent += len(b)
            if rate > 0:
                ahead = sent / rate - (time.time() - start)
                if ahead > 0:
                    time.sleep(ahead)
        c.shutdown(socket.SHUT_WR)
        while c.recv(1 << 16):
            pass
        print(sent, h.hexdigest(), flush=True)
        """;

    /// <summary>Starts the receiver listening on <paramref name="address"/>; returns once it listens.</summary>
    public static async Task<LabProcess> ListenAsync(LabHost host, string address)
    {
        var receiver = host.Start("python3", "-c", Receiver, address, Port.ToString(CultureInfo.InvariantCulture));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!receiver.Output.Contains("listening", StringComparison.Ordinal))
        {
            if (receiver.HasExited || DateTime.UtcNow > deadline)
                throw new LabCommandException($"receiver did not start listening: {receiver}");
            await Task.Delay(20);
        }

        return receiver;
    }

    /// <summary>Waits until the receiver has taken its first megabyte: the transfer is under way.</summary>
    public static async Task StartedAsync(LabProcess receiver, TimeSpan timeout) =>
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(receiver.Output.Contains("started", StringComparison.Ordinal)),
            timeout, TimeSpan.FromMilliseconds(20)), $"no data arrived: {receiver}");

    /// <summary>Sends <paramref name="bytes"/> (paced at <paramref name="bytesPerSecond"/> when positive) and returns what the sender hashed.</summary>
    public static async Task<(long Bytes, string Sha256)> SendAsync(
        LabHost host, string address, long bytes, double bytesPerSecond, TimeSpan timeout)
    {
        var result = await host.RunAsync(
            ["python3", "-c", Sender, address, Port.ToString(CultureInfo.InvariantCulture),
             bytes.ToString(CultureInfo.InvariantCulture), bytesPerSecond.ToString(CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = timeout, Check = true });
        return Parse(result.Stdout);
    }

    /// <summary>What the receiver counted and hashed, once its peer closed.</summary>
    public static async Task<(long Bytes, string Sha256)> ReceivedAsync(LabProcess receiver, TimeSpan timeout)
    {
        if (!await receiver.WaitForExitAsync(timeout) || receiver.ExitCode != 0)
            throw new LabCommandException($"receiver did not finish: {receiver}");
        var lines = receiver.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return Parse(lines[^1]);
    }

    private static (long, string) Parse(string line)
    {
        var fields = line.Trim().Split(' ');
        return (long.Parse(fields[0], CultureInfo.InvariantCulture), fields[1]);
    }
}
