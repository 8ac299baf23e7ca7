using System.Text;

namespace Portcullis.Linux.Tun;

/// <summary>Kernel interface-name rules (dev_valid_name) and the struct ifreq that carries a name.</summary>
internal static class InterfaceName
{
    /// <summary>IFNAMSIZ: 15 bytes and the terminating NUL.</summary>
    public const int MaxBytes = 15;

    /// <summary>sizeof(struct ifreq) on LP64: 16-byte name and a 24-byte union.</summary>
    public const int IfReqSize = 40;

    public static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name == "." || name == "..")
            throw new ArgumentException($"Interface name '{name}' is not valid.", nameof(name));
        if (Encoding.UTF8.GetByteCount(name) > MaxBytes)
            throw new ArgumentException($"Interface name '{name}' is longer than {MaxBytes} bytes.", nameof(name));
        foreach (var c in name)
        {
            if (c == '/' || c == ':' || c == '\0' || char.IsWhiteSpace(c))
                throw new ArgumentException($"Interface name '{name}' contains '/', ':', NUL or white space.", nameof(name));
        }
    }

    /// <summary>Writes the NUL-terminated name at the start of an ifreq.</summary>
    public static void WriteTo(Span<byte> ifreq, string name)
    {
        ifreq[..(MaxBytes + 1)].Clear();
        Encoding.UTF8.GetBytes(name, ifreq);
    }

    public static string ReadFrom(ReadOnlySpan<byte> ifreq)
    {
        var name = ifreq[..(MaxBytes + 1)];
        var end = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
    }
}
