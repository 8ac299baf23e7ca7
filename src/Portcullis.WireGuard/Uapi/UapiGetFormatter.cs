using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// Writes the body of a <c>get=1</c> reply, in the order wireguard-go writes it: private_key (only when
/// set), listen_port, fwmark (only when nonzero); then per peer public_key, preshared_key (only when
/// set), protocol_version=1, endpoint (only when known), last_handshake_time_sec/_nsec, tx_bytes,
/// rx_bytes, persistent_keepalive_interval and one allowed_ip per prefix. The caller appends
/// <c>errno=0\n\n</c>.
/// </summary>
public static class UapiGetFormatter
{
    /// <summary>The reply body as text. It holds the private key: for tests and tools, not for logs.</summary>
    public static string Format(UapiDeviceState state)
    {
        using var buffer = new UapiBuffer();
        Format(state, buffer);
        return Encoding.ASCII.GetString(buffer.Written.Span);
    }

    internal static void Format(UapiDeviceState state, UapiBuffer output)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (IsSet(state.PrivateKey))
            Key(output, "private_key="u8, state.PrivateKey);
        Number(output, "listen_port="u8, state.ListenPort);
        if (state.Fwmark != 0)
            Number(output, "fwmark="u8, state.Fwmark);

        foreach (var peer in state.Peers)
        {
            Key(output, "public_key="u8, peer.PublicKey);
            if (IsSet(peer.PresharedKey))
                Key(output, "preshared_key="u8, peer.PresharedKey);
            output.Append("protocol_version=1\n"u8);
            if (peer.Endpoint is { } endpoint)
                Endpoint(output, endpoint);

            var (seconds, nanoseconds) = SplitUnixTime(peer.LastHandshake);
            Number(output, "last_handshake_time_sec="u8, seconds);
            Number(output, "last_handshake_time_nsec="u8, nanoseconds);
            Number(output, "tx_bytes="u8, peer.TxBytes);
            Number(output, "rx_bytes="u8, peer.RxBytes);
            Number(output, "persistent_keepalive_interval="u8, peer.PersistentKeepaliveInterval);
            foreach (var prefix in peer.AllowedIps)
            {
                output.Append("allowed_ip="u8);
                output.Append(prefix.ToString());
                output.Append("\n"u8);
            }
        }
    }

    /// <summary>Seconds and nanoseconds since the Unix epoch; 0/0 for "never", as wg expects.</summary>
    internal static (long Seconds, long Nanoseconds) SplitUnixTime(DateTimeOffset? time)
    {
        if (time is not { } value)
            return (0, 0);
        var ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }
        return (seconds, remainder * TimeSpan.NanosecondsPerTick);
    }

    private static bool IsSet([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] byte[]? key) =>
        key is not null && key.AsSpan().IndexOfAnyExcept((byte)0) >= 0;

    private static void Key(UapiBuffer output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> key)
    {
        output.Append(name);
        output.AppendHex(key);
        output.Append("\n"u8);
    }

    private static void Number(UapiBuffer output, ReadOnlySpan<byte> name, ulong value)
    {
        output.Append(name);
        output.Append(value);
        output.Append("\n"u8);
    }

    private static void Number(UapiBuffer output, ReadOnlySpan<byte> name, long value)
    {
        output.Append(name);
        output.Append(value);
        output.Append("\n"u8);
    }

    private static void Endpoint(UapiBuffer output, UdpEndpoint endpoint)
    {
        var address = endpoint.ToIPEndPoint().Address;
        output.Append("endpoint="u8);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            output.Append("["u8);
            output.Append(address.ToString());
            output.Append("]"u8);
        }
        else
        {
            output.Append(address.ToString());
        }
        output.Append(":"u8);
        output.Append((ulong)endpoint.Port);
        output.Append("\n"u8);
    }
}
