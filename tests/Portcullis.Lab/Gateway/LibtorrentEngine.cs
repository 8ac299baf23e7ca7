using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A real BitTorrent engine: libtorrent 2.0 (the engine of qBittorrent and Deluge) through Debian's Python binding,
/// listening on one port for TCP and uTP (UDP) and mapping it with its own PCP/NAT-PMP client, as it does for every
/// user. DHT, local discovery and UPnP are off (they would only chatter at the lab). It holds one torrent (a magnet
/// link, no tracker), since an engine with no torrent turns every incoming peer away. It prints one line per mapping
/// the gateway granted: "mapped tcp|udp PORT TRANSPORT".
/// </summary>
internal sealed partial class LibtorrentEngine
{
    // Debian's binding is for Debian's interpreter, which may not be the first python3 on PATH.
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import libtorrent as lt, sys
        s = lt.session({'listen_interfaces': '0.0.0.0:' + sys.argv[1], 'enable_natpmp': True, 'enable_upnp': False,
                        'enable_dht': False, 'enable_lsd': False, 'enable_incoming_utp': True,
                        'alert_mask': lt.alert.category_t.port_mapping_notification | lt.alert.category_t.port_mapping_log_notification
                                      | lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                                      | lt.alert.category_t.connect_notification | lt.alert.category_t.peer_notification})
        params = lt.parse_magnet_uri('magnet:?xt=urn:btih:' + sys.argv[2])
        params.save_path = sys.argv[3]
        # Started now rather than when the queue gets to it: until then the engine turns incoming peers away.
        params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        s.add_torrent(params)
        print('libtorrent', lt.__version__, flush=True)
        while True:
            s.wait_for_alert(1000)
            for a in s.pop_alerts():
                if isinstance(a, (lt.torrent_resumed_alert, lt.state_changed_alert)) and not a.handle.status().paused:
                    print('torrent active', flush=True)
                if isinstance(a, lt.portmap_alert):
                    protocol = 'udp' if 'udp' in str(a.map_protocol).lower() else 'tcp'
                    transport = str(a.map_transport).rsplit('.', 1)[-1]
                    print('mapped', protocol, a.external_port, transport, flush=True)
                else:
                    print(type(a).__name__, a.message(), flush=True)
        """;

    private LibtorrentEngine(LabProcess process, string infoHash)
    {
        Process = process;
        InfoHash = infoHash;
    }

    public LabProcess Process { get; }

    /// <summary>The torrent it serves (40 hex digits): what a remote peer's handshake names.</summary>
    public string InfoHash { get; }

    public static LibtorrentEngine Start(LabHost host, int listenPort)
    {
        var infoHash = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        var directory = host.Network.CreateTempDirectory();
        return new(host.Start(Python, "-c", Script, listenPort.ToString(CultureInfo.InvariantCulture), infoHash, directory), infoHash);
    }

    /// <summary>Returns once the torrent takes peers.</summary>
    public async Task WaitActiveAsync(TimeSpan timeout)
    {
        if (!await Wait.UntilAsync(() => Task.FromResult(Process.HasExited || Process.Output.Contains("torrent active", StringComparison.Ordinal)),
                timeout, TimeSpan.FromMilliseconds(100)) || Process.HasExited)
            throw new Xunit.Sdk.XunitException($"libtorrent's torrent never became active within {timeout}: {Process}");
    }

    /// <summary>The public port the engine was granted for <paramref name="protocol"/>, once its client says so.</summary>
    public async Task<int> MappedPortAsync(string protocol, TimeSpan timeout)
    {
        int? port = null;
        var mapped = await Wait.UntilAsync(() =>
        {
            if (Process.HasExited)
                throw new Xunit.Sdk.XunitException($"libtorrent exited: {Process}");
            port = MappedPort(protocol);
            return Task.FromResult(port is not null);
        }, timeout, TimeSpan.FromMilliseconds(100));
        return mapped ? port!.Value : throw new Xunit.Sdk.XunitException($"libtorrent never mapped {protocol} within {timeout}: {Process}");
    }

    private int? MappedPort(string protocol)
    {
        foreach (Match m in MappedLine().Matches(Process.Output))
        {
            if (m.Groups[1].Value == protocol)
                return int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }

    [GeneratedRegex(@"^mapped (tcp|udp) (\d+) ", RegexOptions.Multiline)]
    private static partial Regex MappedLine();
}
