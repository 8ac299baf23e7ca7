using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// A growable ASCII buffer from the shared pool that wipes every array it lets go of: a <c>get=1</c>
/// reply carries the private key in hex, and pooled arrays outlive us.
/// </summary>
internal sealed class UapiBuffer : IDisposable
{
    private byte[] _array;
    private int _length;

    public UapiBuffer(int capacity = 4096) => _array = ArrayPool<byte>.Shared.Rent(capacity);

    public ReadOnlyMemory<byte> Written => _array.AsMemory(0, _length);

    public void Append(ReadOnlySpan<byte> ascii)
    {
        ascii.CopyTo(GetSpan(ascii.Length));
        _length += ascii.Length;
    }

    public void Append(string ascii)
    {
        var span = GetSpan(ascii.Length);
        _length += Encoding.ASCII.GetBytes(ascii, span);
    }

    public void Append(ulong value)
    {
        var span = GetSpan(20);
        value.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        _length += written;
    }

    public void Append(long value)
    {
        var span = GetSpan(20);
        value.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        _length += written;
    }

    public void AppendHex(ReadOnlySpan<byte> bytes)
    {
        const string Digits = "0123456789abcdef";
        var span = GetSpan(bytes.Length * 2);
        for (var i = 0; i < bytes.Length; i++)
        {
            span[2 * i] = (byte)Digits[bytes[i] >> 4];
            span[(2 * i) + 1] = (byte)Digits[bytes[i] & 0xF];
        }
        _length += bytes.Length * 2;
    }

    public void Clear()
    {
        CryptographicOperations.ZeroMemory(_array.AsSpan(0, _length));
        _length = 0;
    }

    public void Dispose()
    {
        if (_array.Length == 0)
            return;
        Clear();
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
    }

    private Span<byte> GetSpan(int size)
    {
        ObjectDisposedException.ThrowIf(_array.Length == 0, this);
        if (_length + size > _array.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + size));
            _array.AsSpan(0, _length).CopyTo(bigger);
            CryptographicOperations.ZeroMemory(_array.AsSpan(0, _length));
            ArrayPool<byte>.Shared.Return(_array);
            _array = bigger;
        }
        return _array.AsSpan(_length, size);
    }
}
