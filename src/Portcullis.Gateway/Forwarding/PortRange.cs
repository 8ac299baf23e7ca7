using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Portcullis.Gateway.Forwarding;

/// <summary>An inclusive range of ports, as the config writes it: "20000-59999".</summary>
public readonly record struct PortRange
{
    public PortRange(ushort first, ushort last)
    {
        if (first == 0 || first > last)
            throw new ArgumentException($"Port range {first}-{last} must satisfy 1 <= first <= last.");
        First = first;
        Last = last;
    }

    public ushort First { get; }

    public ushort Last { get; }

    /// <summary>Number of ports in the range.</summary>
    public int Count => Last - First + 1;

    public bool Contains(ushort port) => port >= First && port <= Last;

    /// <summary>Parses "FIRST-LAST" or a single "PORT"; false for anything else, port 0 included.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out PortRange? range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var dash = text.IndexOf('-');
        var firstText = dash < 0 ? text : text[..dash];
        var lastText = dash < 0 ? text : text[(dash + 1)..];
        if (!ushort.TryParse(firstText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !ushort.TryParse(lastText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first == 0 || first > last)
            return false;
        range = new PortRange(first, last);
        return true;
    }

    public override string ToString() => First == Last ? $"{First}" : $"{First}-{Last}";
}
