using Portcullis.Cli.Admin;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Tests.Admin;

public sealed class OutputTests
{
    [Fact]
    public void TextTable_Rows_ColumnsAlignedNoTrailingBlanks()
    {
        var table = new TextTable("NAME", "ADDRESS", "UP");
        table.Add("alice", "10.99.0.2", "yes");
        table.Add("bartholomew", "10.99.0.10", "no");

        var lines = table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("NAME         ADDRESS     UP", lines[0]);
        Assert.Equal("alice        10.99.0.2   yes", lines[1]);
        Assert.Equal("bartholomew  10.99.0.10  no", lines[2]);
    }

    [Fact]
    public void TextTable_WrongCellCount_Throws() =>
        Assert.Throws<ArgumentException>(() => new TextTable("A", "B").Add("only one"));

    [Fact]
    public void PeerTable_Peer_ShowsStateAndHandshakeAge()
    {
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        var peer = new PeerModel("p1", "alice", "KEY=", "10.99.0.2", null, Enabled: true, now.AddDays(-1), Connected: true, now.AddSeconds(-42));

        var text = PeerCommands.Table([peer], now);

        Assert.Matches(@"(?m)^alice\s+p1\s+10\.99\.0\.2\s+-\s+yes\s+yes\s+42s ago\s+KEY=$", text);
    }

    [Theory]
    [InlineData(null, "-")]
    [InlineData(5, "5s ago")]
    [InlineData(600, "10m ago")]
    [InlineData(3 * 3600, "3h ago")]
    [InlineData(3 * 86400, "3d ago")]
    public void Ago_Seconds_Readable(int? secondsAgo, string expected)
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(100);
        Assert.Equal(expected, Formats.Ago(secondsAgo is { } s ? now.AddSeconds(-s) : null, now));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("http")]
    [InlineData("")]
    public void Port_NotAPort_UsageError(string text) =>
        Assert.Throws<UsageException>(() => Arguments.Port(text, "PORT"));

    [Theory]
    [InlineData("tcp", true, "tcp")]
    [InlineData("UDP", false, "udp")]
    [InlineData("both", true, "both")]
    public void Protocol_Known_Normalised(string text, bool allowBoth, string expected) =>
        Assert.Equal(expected, Arguments.Protocol(text, allowBoth));

    [Theory]
    [InlineData("both", false)]
    [InlineData("sctp", true)]
    public void Protocol_NotAllowedHere_UsageError(string text, bool allowBoth) =>
        Assert.Throws<UsageException>(() => Arguments.Protocol(text, allowBoth));

    [Fact]
    public void QrCode_Config_SquareWithALightQuietZoneForDarkTerminals()
    {
        var config = "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.99.0.2/16\n";

        var lines = QrCode.Render(config).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // Each character holds two rows of modules; the quiet zone (4 modules) is drawn light: full blocks.
        Assert.All(lines, line => Assert.Equal(lines[0].Length, line.Length));
        Assert.InRange(lines.Length * 2, lines[0].Length, lines[0].Length + 1);
        Assert.All(lines[0], c => Assert.Equal('█', c));
        // (The last line may hold a single row of modules, drawn as upper halves.)
        Assert.All(lines[..^1], line => Assert.Equal("████", line[..4]));
        Assert.All(lines[^1], c => Assert.Contains(c, "█▀"));
        Assert.NotEqual(QrCode.Render(config), QrCode.Render(config + "DNS = 10.99.0.1\n"));
    }
}
