using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// Debian's qbittorrent-nox (4.5) and transmission-daemon (3.00) run in a lab host as foreground children the network
/// reaps, each with a private profile in a lab temp directory, their Web UI / RPC on 127.0.0.1 (qBittorrent with or
/// without a login, Transmission without), and their own NAT-PMP/UPnP, DHT and local peer discovery off (they would
/// only chatter at the lab). Their APIs are read with python3 (the lab's tools have no curl), bypassing any proxy.
/// </summary>
internal sealed class TorrentApp
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    // With a password (argv 2, 3) it logs in first, as a browser would: the SID cookie, the Referer of its own origin.
    private const string QBittorrentPort = """
        import json, sys, urllib.parse, urllib.request
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor())
        base = sys.argv[1]
        if len(sys.argv) > 3:
            form = urllib.parse.urlencode({'username': sys.argv[2], 'password': sys.argv[3]}).encode()
            answer = opener.open(urllib.request.Request(base + 'api/v2/auth/login', data=form, headers={'Referer': base}), timeout=3).read()
            if answer.strip() != b'Ok.':
                sys.exit('login refused')
        print(json.load(opener.open(base + 'api/v2/app/preferences', timeout=3))['listen_port'])
        """;

    private const string TransmissionPort = """
        import json, sys, urllib.request, urllib.error
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        body = json.dumps({'method': 'session-get', 'arguments': {'fields': ['peer-port']}}).encode()
        def call(headers):
            return json.load(opener.open(urllib.request.Request(sys.argv[1], data=body, headers=headers), timeout=3))
        try:
            answer = call({})
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            answer = call({'X-Transmission-Session-Id': e.headers['X-Transmission-Session-Id']})
        print(answer['arguments']['peer-port'])
        """;

    private readonly LabHost _host;
    private readonly string _portScript;
    private readonly string[] _login;

    private TorrentApp(string name, LabHost host, LabProcess process, string url, string portScript, params string[] login)
    {
        Name = name;
        _host = host;
        Process = process;
        Url = url;
        _portScript = portScript;
        _login = login;
    }

    public string Name { get; }

    public LabProcess Process { get; }

    /// <summary>What <c>--qbittorrent</c> / <c>--transmission</c> is given.</summary>
    public string Url { get; }

    /// <summary>
    /// qbittorrent-nox with its legal notice accepted and the Web UI on 127.0.0.1:<paramref name="webPort"/>; without
    /// <paramref name="password"/> localhost needs no login, with it even localhost logs in as "admin" (the hash is
    /// qBittorrent's own: PBKDF2-SHA512, 100 000 rounds, 16-byte salt, 64-byte key).
    /// </summary>
    public static async Task<TorrentApp> StartQBittorrentAsync(LabHost host, string directory, int webPort, string? password = null)
    {
        var login = password is null ? "WebUI\\LocalHostAuth=false" : $"""
            WebUI\LocalHostAuth=true
            WebUI\Username={QBittorrentUser}
            WebUI\Password_PBKDF2="@ByteArray({PasswordHash(password)})"
            """;
        var config = Path.Combine(directory, "qBittorrent", "config");
        Directory.CreateDirectory(config);
        await File.WriteAllTextAsync(Path.Combine(config, "qBittorrent.conf"), $"""
            [LegalNotice]
            Accepted=true

            [BitTorrent]
            Session\DHTEnabled=false
            Session\LSDEnabled=false
            Session\PeXEnabled=false
            Session\Port=6881

            [Preferences]
            Connection\UPnP=false
            WebUI\Address=127.0.0.1
            WebUI\Port={webPort}
            {login}
            WebUI\UPnP=false
            Downloads\SavePath={directory}/downloads
            """);
        var process = host.Start("qbittorrent-nox", $"--profile={directory}");
        var app = new TorrentApp("qBittorrent", host, process, $"http://127.0.0.1:{webPort}/", QBittorrentPort,
            password is null ? [] : [QBittorrentUser, password]);
        await app.WaitUpAsync();
        return app;
    }

    /// <summary>transmission-daemon -f -g DIR with its RPC on 127.0.0.1:<paramref name="rpcPort"/> without authentication.</summary>
    public static async Task<TorrentApp> StartTransmissionAsync(LabHost host, string directory, int rpcPort)
    {
        await File.WriteAllTextAsync(Path.Combine(directory, "settings.json"), $$"""
            {
              "rpc-enabled": true,
              "rpc-bind-address": "127.0.0.1",
              "rpc-port": {{rpcPort}},
              "rpc-authentication-required": false,
              "rpc-whitelist-enabled": true,
              "rpc-whitelist": "127.0.0.1",
              "peer-port": 51413,
              "port-forwarding-enabled": false,
              "dht-enabled": false,
              "lpd-enabled": false,
              "pex-enabled": false,
              "download-dir": "{{directory}}/downloads",
              "incomplete-dir-enabled": false
            }
            """);
        var process = host.Start("transmission-daemon", "-f", "-g", directory);
        var app = new TorrentApp("Transmission", host, process, $"http://127.0.0.1:{rpcPort}/transmission/rpc", TransmissionPort);
        await app.WaitUpAsync();
        return app;
    }

    /// <summary>The listening port the application reports through its own API; null while it does not answer.</summary>
    public async Task<int?> ListeningPortAsync()
    {
        var result = await _host.RunAsync(["python3", "-c", _portScript, Url, .. _login], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(10) });
        return result.Succeeded && int.TryParse(result.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    private Task WaitUpAsync() => Wait.ForStartAsync(Process, Name, async () => await ListeningPortAsync() is not null,
        StartTimeout, TimeSpan.FromMilliseconds(200), $"did not answer on {Url} within {StartTimeout}");

    public const string QBittorrentUser = "admin";

    private static string PasswordHash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, 100_000, HashAlgorithmName.SHA512, 64);
        return Convert.ToBase64String(salt) + ":" + Convert.ToBase64String(key);
    }

    public override string ToString() => Process.ToString();
}
