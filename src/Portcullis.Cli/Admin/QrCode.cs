using QRCoder;

namespace Portcullis.Cli.Admin;

/// <summary>A client config as a QR code for a terminal (the WireGuard phone apps scan it), two modules per character.</summary>
internal static class QrCode
{
    public static string Render(string text)
    {
        using var generator = new QRCodeGenerator();
        // Not inverted: a terminal draws '█' light on dark, so the light modules (the quiet zone) are the blocks and the
        // dark ones blanks, which reads right on the usual dark terminal (as qrencode -t UTF8 draws it).
        // Level L: a wg-quick file with a key is ~250 bytes; the lowest correction keeps the code small enough for a
        // terminal, and a screen has no dirt to correct for.
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
        using var code = new AsciiQRCode(data);
        return code.GetGraphicSmall(drawQuietZones: true, invert: false) + "\n";
    }
}
