using System.Text;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Fuzz.Targets.Text;

/// <summary>
/// The body of a UAPI <c>set=1</c> request, decoded as the server decodes socket bytes (Latin-1). Asserts: a refusal
/// is a UapiException with -EINVAL or -EPROTO whose message holds no 64-hex key; an accepted request, applied to an
/// empty device and read back with <c>get=1</c>, parses again to the same device (the get-only counters dropped).
/// </summary>
internal sealed class UapiSetTarget : FuzzTarget
{
    private static readonly string[] GetOnlyKeys = ["last_handshake_time_sec=", "last_handshake_time_nsec=", "tx_bytes=", "rx_bytes="];

    public override string Name => "uapi-set";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var body = Encoding.Latin1.GetString(input);
        UapiSetRequest request;
        try
        {
            request = UapiSetParser.Parse(body);
        }
        catch (UapiException e)
        {
            Check.That(e.Errno is UapiErrno.Invalid or UapiErrno.Protocol, "a refusal is -EINVAL or -EPROTO");
            Check.That(!HoldsHexKey(e.Message), "a refusal never quotes a key");
            return;
        }

        Accept();
        var state = Apply(request);
        var text = UapiGetFormatter.Format(state);
        var setBody = new StringBuilder();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!GetOnlyKeys.Any(key => line.StartsWith(key, StringComparison.Ordinal)))
                setBody.Append(line).Append('\n');
        }
        UapiSetRequest again;
        try
        {
            again = UapiSetParser.Parse(setBody.ToString());
        }
        catch (UapiException e)
        {
            throw new FuzzCheckException($"what get=1 prints is refused by set=1: {e.Message}", e);
        }
        Check.That(SameState(state, Apply(again)), "get=1 reads back the device that set=1 made");
    }

    /// <summary>The device an empty one becomes under <paramref name="request"/> (removals and update_only refer to nothing).</summary>
    private static UapiDeviceState Apply(UapiSetRequest request)
    {
        var peers = new List<UapiPeerState>();
        foreach (var change in request.Peers)
        {
            var index = peers.FindIndex(p => p.PublicKey.AsSpan().SequenceEqual(change.PublicKey));
            if (change.Remove)
            {
                if (index >= 0)
                    peers.RemoveAt(index);
                continue;
            }
            if (index < 0 && change.UpdateOnly)
                continue;
            var old = index >= 0 ? peers[index] : new UapiPeerState(change.PublicKey, null, null, null, 0, 0, 0, []);
            var allowed = change.ReplaceAllowedIps ? [] : old.AllowedIps.ToList();
            allowed.RemoveAll(change.RemovedAllowedIps.Contains);
            foreach (var prefix in change.AddedAllowedIps)
            {
                if (!allowed.Contains(prefix))
                    allowed.Add(prefix);
            }
            var updated = old with
            {
                PresharedKey = change.PresharedKey ?? old.PresharedKey,
                Endpoint = change.Endpoint ?? old.Endpoint,
                PersistentKeepaliveInterval = change.PersistentKeepaliveInterval ?? old.PersistentKeepaliveInterval,
                AllowedIps = allowed,
            };
            if (index >= 0)
                peers[index] = updated;
            else
                peers.Add(updated);
        }
        return new UapiDeviceState(request.PrivateKey, request.ListenPort ?? 0, request.Fwmark ?? 0, peers);
    }

    private static bool SameState(UapiDeviceState a, UapiDeviceState b) =>
        SameKey(a.PrivateKey, b.PrivateKey) && a.ListenPort == b.ListenPort && a.Fwmark == b.Fwmark && a.Peers.Count == b.Peers.Count
        && a.Peers.Zip(b.Peers).All(pair =>
            pair.First.PublicKey.AsSpan().SequenceEqual(pair.Second.PublicKey) && SameKey(pair.First.PresharedKey, pair.Second.PresharedKey)
            && pair.First.Endpoint == pair.Second.Endpoint && pair.First.PersistentKeepaliveInterval == pair.Second.PersistentKeepaliveInterval
            && pair.First.AllowedIps.SequenceEqual(pair.Second.AllowedIps));

    /// <summary>Null and all-zero both mean "no key".</summary>
    private static bool SameKey(byte[]? a, byte[]? b)
    {
        var x = a is null || a.AsSpan().IndexOfAnyExcept((byte)0) < 0 ? [] : a;
        var y = b is null || b.AsSpan().IndexOfAnyExcept((byte)0) < 0 ? [] : b;
        return x.AsSpan().SequenceEqual(y);
    }

    private static bool HoldsHexKey(string message)
    {
        var run = 0;
        foreach (var c in message)
        {
            run = char.IsAsciiHexDigit(c) ? run + 1 : 0;
            if (run >= 64)
                return true;
        }
        return false;
    }
}
