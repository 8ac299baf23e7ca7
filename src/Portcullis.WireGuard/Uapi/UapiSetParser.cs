using System.Net;
using System.Security.Cryptography;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// Parses the body of a <c>set=1</c> request line by line into one <see cref="UapiSetRequest"/>, so the
/// device can apply it all or nothing (wireguard-go applies line by line and can leave half a request
/// behind; we do not).
///
/// Flow: device lines (private_key, listen_port, fwmark, replace_peers) → <c>public_key=</c> opens a peer
/// block → peer lines → blank line ends the request (the caller stops feeding there).
/// The first bad line sets <see cref="Errno"/> (-EPROTO when it is not <c>key=value</c>, -EINVAL for an
/// unknown key, a key in the wrong section or a bad value); later lines are then ignored.
/// </summary>
public sealed class UapiSetParser
{
    private readonly List<UapiPeerChange> _peers = [];
    private byte[]? _privateKey;
    private ushort? _listenPort;
    private uint? _fwmark;
    private bool _replacePeers;
    private PeerBlock? _peer;

    /// <summary>0 while every line so far was good; otherwise the negative errno of the first bad one.</summary>
    public int Errno { get; private set; }

    /// <summary>Why the first bad line was refused; names the key but never echoes a value.</summary>
    public string? Error { get; private set; }

    /// <summary>Parses a whole body (lines ending in <c>\n</c>, optionally closed by a blank line). Throws <see cref="UapiException"/>.</summary>
    public static UapiSetRequest Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var parser = new UapiSetParser();
        var rest = body.AsSpan();
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf('\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            if (line.IsEmpty)
            {
                if (!rest.IsEmpty)
                    parser.Fail(UapiErrno.Protocol, "text after the blank line that ends the request");
                break;
            }
            parser.AddLine(line);
        }
        if (parser.Errno != 0)
            throw new UapiException(parser.Errno, parser.Error!);
        return parser.Build();
    }

    /// <summary>Feeds one non-blank line, without its newline.</summary>
    public void AddLine(ReadOnlySpan<char> line)
    {
        if (Errno != 0)
            return;
        var equals = line.IndexOf('=');
        if (equals < 0)
        {
            Fail(UapiErrno.Protocol, "a line is not key=value");
            return;
        }
        var key = line[..equals];
        var value = line[(equals + 1)..];

        if (key.SequenceEqual("public_key"))
            StartPeer(value);
        else if (_peer is null)
            AddDeviceLine(key, value);
        else
            _peer.AddLine(this, key, value);
    }

    /// <summary>The request; valid only when <see cref="Errno"/> is 0.</summary>
    public UapiSetRequest Build()
    {
        if (Errno != 0)
            throw new InvalidOperationException("The request has a bad line; nothing may be applied.");
        ClosePeer();
        return new UapiSetRequest
        {
            PrivateKey = _privateKey,
            ListenPort = _listenPort,
            Fwmark = _fwmark,
            ReplacePeers = _replacePeers,
            Peers = _peers.ToArray(),
        };
    }

    internal void Fail(int errno, string error)
    {
        if (Errno != 0)
            return;
        Errno = errno;
        Error = error;
        // Nothing will be applied: wipe the secrets parsed so far.
        if (_privateKey is not null)
            CryptographicOperations.ZeroMemory(_privateKey);
        _peer?.ZeroSecrets();
        foreach (var peer in _peers)
        {
            if (peer.PresharedKey is not null)
                CryptographicOperations.ZeroMemory(peer.PresharedKey);
        }
    }

    private void AddDeviceLine(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        if (key.SequenceEqual("private_key"))
        {
            var privateKey = _privateKey ?? new byte[UapiValueParser.KeyLength];
            _privateKey = privateKey;
            if (!UapiValueParser.TryParseKey(value, privateKey))
                Fail(UapiErrno.Invalid, "bad private_key");
        }
        else if (key.SequenceEqual("listen_port"))
        {
            if (UapiValueParser.TryParseUInt16(value, out var port))
                _listenPort = port;
            else
                Fail(UapiErrno.Invalid, "bad listen_port");
        }
        else if (key.SequenceEqual("fwmark"))
        {
            if (UapiValueParser.TryParseUInt32(value, out var mark))
                _fwmark = mark;
            else
                Fail(UapiErrno.Invalid, "bad fwmark");
        }
        else if (key.SequenceEqual("replace_peers"))
        {
            if (value.SequenceEqual("true"))
                _replacePeers = true;
            else
                Fail(UapiErrno.Invalid, "bad replace_peers");
        }
        else
        {
            Fail(UapiErrno.Invalid, "unknown device key " + DescribeKey(key));
        }
    }

    private void StartPeer(ReadOnlySpan<char> value)
    {
        ClosePeer();
        var publicKey = new byte[UapiValueParser.KeyLength];
        if (!UapiValueParser.TryParseKey(value, publicKey))
        {
            Fail(UapiErrno.Invalid, "bad public_key");
            return;
        }
        _peer = new PeerBlock(publicKey);
    }

    private void ClosePeer()
    {
        if (_peer is not null)
            _peers.Add(_peer.ToChange());
        _peer = null;
    }

    /// <summary>Key names are protocol words, but a garbage line could hold anything: echo only plain short names.</summary>
    internal static string DescribeKey(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty || key.Length > 32)
            return "(unprintable)";
        foreach (var c in key)
        {
            if (!char.IsAsciiLetterLower(c) && c != '_')
                return "(unprintable)";
        }
        return key.ToString();
    }

    /// <summary>One peer block being folded; see <see cref="UapiPeerChange"/> for the folding rules.</summary>
    private sealed class PeerBlock(byte[] publicKey)
    {
        private readonly List<IPNetwork> _added = [];
        private readonly List<IPNetwork> _removed = [];
        private bool _remove;
        private bool _updateOnly;
        private byte[]? _presharedKey;
        private UdpEndpoint? _endpoint;
        private ushort? _keepalive;
        private bool _replaceAllowedIps;

        public void AddLine(UapiSetParser parser, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
        {
            if (key.SequenceEqual("remove"))
            {
                if (IsTrue(parser, key, value))
                    _remove = true;
            }
            else if (key.SequenceEqual("update_only"))
            {
                if (IsTrue(parser, key, value))
                    _updateOnly = true;
            }
            else if (key.SequenceEqual("replace_allowed_ips"))
            {
                if (IsTrue(parser, key, value))
                    ReplaceAllowedIps();
            }
            else if (key.SequenceEqual("preshared_key"))
            {
                _presharedKey ??= new byte[UapiValueParser.KeyLength];
                if (!UapiValueParser.TryParseKey(value, _presharedKey))
                    parser.Fail(UapiErrno.Invalid, "bad preshared_key");
            }
            else if (key.SequenceEqual("endpoint"))
            {
                if (UapiValueParser.TryParseEndpoint(value, out var endpoint))
                    _endpoint = endpoint;
                else
                    parser.Fail(UapiErrno.Invalid, "bad endpoint");
            }
            else if (key.SequenceEqual("persistent_keepalive_interval"))
            {
                if (UapiValueParser.TryParseUInt16(value, out var seconds))
                    _keepalive = seconds;
                else
                    parser.Fail(UapiErrno.Invalid, "bad persistent_keepalive_interval");
            }
            else if (key.SequenceEqual("allowed_ip"))
            {
                var removing = value.StartsWith('-');
                if (!UapiValueParser.TryParsePrefix(removing ? value[1..] : value, out var prefix))
                    parser.Fail(UapiErrno.Invalid, "bad allowed_ip");
                else if (removing)
                    RemoveAllowedIp(prefix);
                else
                    AddAllowedIp(prefix);
            }
            else if (key.SequenceEqual("protocol_version"))
            {
                if (!value.SequenceEqual("1"))
                    parser.Fail(UapiErrno.Invalid, "unsupported protocol_version");
            }
            else
            {
                parser.Fail(UapiErrno.Invalid, "unknown peer key " + DescribeKey(key));
            }
        }

        public UapiPeerChange ToChange()
        {
            if (_remove)
            {
                // Whatever came before remove=true dies with the peer, and wireguard-go ignores what follows.
                ZeroSecrets();
                return new UapiPeerChange { PublicKey = publicKey, Remove = true };
            }
            return new UapiPeerChange
            {
                PublicKey = publicKey,
                UpdateOnly = _updateOnly,
                PresharedKey = _presharedKey,
                Endpoint = _endpoint,
                PersistentKeepaliveInterval = _keepalive,
                ReplaceAllowedIps = _replaceAllowedIps,
                AddedAllowedIps = _added.ToArray(),
                RemovedAllowedIps = _removed.ToArray(),
            };
        }

        public void ZeroSecrets()
        {
            if (_presharedKey is not null)
                CryptographicOperations.ZeroMemory(_presharedKey);
        }

        private void ReplaceAllowedIps()
        {
            _replaceAllowedIps = true;
            _added.Clear();
            _removed.Clear();
        }

        private static bool IsTrue(UapiSetParser parser, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
        {
            if (value.SequenceEqual("true"))
                return true;
            parser.Fail(UapiErrno.Invalid, "bad " + key.ToString());
            return false;
        }

        // The two lists stay disjoint, so the device may apply them in either order and still get what
        // applying the lines one by one would give. (Removal is rare; the common path stays O(1).)
        private void AddAllowedIp(IPNetwork prefix)
        {
            if (_removed.Count > 0)
                _removed.RemoveAll(p => p == prefix);
            _added.Add(prefix);
        }

        private void RemoveAllowedIp(IPNetwork prefix)
        {
            _added.RemoveAll(p => p == prefix);
            if (!_removed.Contains(prefix))
                _removed.Add(prefix);
        }
    }
}
