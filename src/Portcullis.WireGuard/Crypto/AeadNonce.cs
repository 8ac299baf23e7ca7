using System.Buffers.Binary;

namespace Portcullis.WireGuard.Crypto;

/// <summary>WireGuard's AEAD nonce: 4 zero bytes, then the 64-bit counter little-endian (whitepaper §5.4).</summary>
internal static class AeadNonce
{
    internal const int Size = 12;

    public static void Write(ulong counter, Span<byte> nonce12)
    {
        nonce12[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce12[4..Size], counter);
    }
}
