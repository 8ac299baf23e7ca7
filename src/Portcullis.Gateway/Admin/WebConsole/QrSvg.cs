using QRCoder;

namespace Portcullis.Gateway.Admin.WebConsole;

/// <summary>A client config as an SVG QR code, rendered on the gateway: the console pulls no QR library into the page.</summary>
internal static class QrSvg
{
    public static string Render(string text)
    {
        using var generator = new QRCodeGenerator();
        // Level L as the CLI's: a wg-quick file with a key is ~250 bytes; a screen needs no error correction to speak of.
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
        using var code = new SvgQRCode(data);
        return code.GetGraphic(6);
    }
}
