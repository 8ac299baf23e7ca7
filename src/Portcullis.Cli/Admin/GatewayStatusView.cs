using System.Globalization;
using System.Text;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>`portcullis status` on a gateway: the API's status as aligned lines.</summary>
internal static class GatewayStatusView
{
    public static string Text(StatusModel s, DateTimeOffset now)
    {
        var text = new StringBuilder();
        Line(text, "gateway", $"{s.Interface}, UDP {s.ListenPort}, version {s.Version}");
        Line(text, "public key", s.PublicKey);
        Line(text, "public addresses", string.Join(", ", s.PublicAddresses));
        Line(text, "peers", $"{s.Peers} ({s.ConnectedPeers} connected)");
        Line(text, "forwards", $"{s.LiveStaticForwards} static live, {s.DynamicMappings} dynamic");
        Line(text, "epoch", $"{s.EpochSeconds} s");
        Line(text, "started", $"{Formats.Utc(s.StartedUtc)} ({Formats.Ago(s.StartedUtc, now)})");
        return text.ToString();
    }

    private static void Line(StringBuilder text, string key, string value) =>
        text.Append(CultureInfo.InvariantCulture, $"{key + ":",-18}{value}\n");
}
