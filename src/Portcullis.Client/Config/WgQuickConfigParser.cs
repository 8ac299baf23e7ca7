namespace Portcullis.Client.Config;

/// <summary>
/// Parses wg-quick(8) files: <c>[Interface]</c> and <c>[Peer]</c> sections of <c>Key = Value</c> lines, '#' comments,
/// keys and section names case-insensitive (as wg-quick matches them). Address, DNS and AllowedIPs may repeat and take
/// comma-separated lists; every other key is set once. Unknown keys are errors; wg-quick's shell hooks and SaveConfig
/// are refused with the reason. Errors name file, line and key, never a value.
/// </summary>
public static partial class WgQuickConfigParser
{
    private static readonly HashSet<string> RefusedHooks = new(StringComparer.OrdinalIgnoreCase)
    {
        "PreUp", "PostUp", "PreDown", "PostDown",
    };

    /// <summary>
    /// Text from the file as an error may show it: short texts (names, addresses) as they are; anything longer, which
    /// could be a key pasted on the wrong line (44 characters), only by its length.
    /// </summary>
    internal static string Shown(string text) => text.Length <= 32 ? text : $"({text.Length} characters, not shown)";

    /// <summary>Reads and parses <paramref name="path"/>; <paramref name="warnings"/> gets a note if others can read it.</summary>
    public static WgQuickConfig Load(string path, out IReadOnlyList<string> warnings)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("wg-quick files are read on Linux only");
        string text;
        UnixFileMode mode;
        try
        {
            text = File.ReadAllText(path);
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WgQuickConfigException(path, 0, null, $"cannot read the file: {e.Message}");
        }

        warnings = PermissionWarning(path, mode) is { } warning ? [warning] : [];
        return Parse(text, path);
    }

    /// <summary>A warning when a file holding a private key is open to group or others (wg-quick wants 0600).</summary>
    public static string? PermissionWarning(string path, UnixFileMode mode)
    {
        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & Others) == 0)
            return null;
        var octal = Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
        return $"{path} holds a private key but has mode {octal}; run `chmod 600 {path}`";
    }

    public static WgQuickConfig Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var state = new ParseState(path);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            state.Line(i + 1, lines[i]);
        return state.Finish();
    }

    private sealed class ParseState(string path)
    {
        private InterfaceBuilder? _interface;
        private readonly List<PeerBuilder> _peers = [];
        private SectionBuilder? _current;

        public void Line(int number, string raw)
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
                return;

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                var name = line[1..^1].Trim();
                if (name.Equals("Interface", StringComparison.OrdinalIgnoreCase))
                {
                    if (_interface is not null)
                        throw Error(number, null, $"a second [Interface] section (the first is on line {_interface.Line})");
                    _current = _interface = new InterfaceBuilder(path, number);
                }
                else if (name.Equals("Peer", StringComparison.OrdinalIgnoreCase))
                {
                    var peer = new PeerBuilder(path, number);
                    _peers.Add(peer);
                    _current = peer;
                }
                else
                {
                    throw Error(number, null, $"unknown section [{Shown(name)}] (expected [Interface] or [Peer])");
                }
                return;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw Error(number, null, "expected `Key = Value`");
            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (RefusedHooks.Contains(key))
                throw Error(number, key, "refused: Portcullis does not run shell commands from a VPN configuration (remove the line, or use --on-port-change for port hooks)");
            if (key.Equals("SaveConfig", StringComparison.OrdinalIgnoreCase))
                throw Error(number, key, "refused: Portcullis never writes the running configuration back into this file");
            if (_current is null)
                throw Error(number, key, "outside of a section (put it under [Interface] or [Peer])");
            _current.Set(number, key, value);
        }

        public WgQuickConfig Finish()
        {
            if (_interface is null)
                throw Error(0, null, "no [Interface] section");
            var peers = new List<PeerSection>(_peers.Count);
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var builder in _peers)
            {
                var peer = builder.Build();
                var key = Convert.ToBase64String(peer.PublicKey);
                if (seen.TryGetValue(key, out var first))
                    throw Error(builder.Line, "PublicKey", $"the same peer twice (first in the [Peer] on line {first})");
                seen[key] = builder.Line;
                peers.Add(peer);
            }
            return new WgQuickConfig { Path = path, Interface = _interface.Build(), Peers = peers };
        }

        private WgQuickConfigException Error(int line, string? key, string reason) => new(path, line, key is null ? null : Shown(key), reason);
    }
}
