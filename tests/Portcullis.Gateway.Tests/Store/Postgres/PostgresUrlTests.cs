using Npgsql;
using Portcullis.Gateway.Store.Postgres;

namespace Portcullis.Gateway.Tests.Store.Postgres;

public sealed class PostgresUrlTests
{
    [Fact]
    public void TryParse_FullUri_SetsEverySettingAndDisplaysWithoutTheQuery()
    {
        Assert.True(PostgresUrl.TryParse("postgresql://portcullis@db.example:6543/fleet?sslmode=verify-full&connect_timeout=7&application_name=ams-1",
            out var url, out var error), error);

        var s = url!.Settings;
        Assert.Equal(("db.example", 6543, "fleet", "portcullis"), (s.Host, s.Port, s.Database, s.Username));
        Assert.Equal((SslMode.VerifyFull, 7, "ams-1"), (s.SslMode, s.Timeout, s.ApplicationName));
        Assert.Null(s.Password);
        Assert.Equal("postgresql://portcullis@db.example:6543/fleet", url.Display);
    }

    [Fact]
    public void TryParse_Defaults_Port5432AndAShortConnectTimeout()
    {
        Assert.True(PostgresUrl.TryParse("postgres://db/fleet", out var url, out _));

        Assert.Equal((5432, 5), (url!.Settings.Port, url.Settings.Timeout));
        Assert.Equal("postgresql://db/fleet", url.Display);
    }

    [Theory]
    [InlineData("postgresql://portcullis:hunter2@db/fleet", "password")]
    [InlineData("postgresql://db", "no database")]
    [InlineData("postgresql://db/fleet?sslmode=maybe", "sslmode")]
    [InlineData("postgresql://db/fleet?options=-c%20x", "options")]
    [InlineData("mysql://db/fleet", "libpq URI")]
    [InlineData("postgresql://db/fleet?connect_timeout=0", "connect_timeout")]
    [InlineData("postgresql://db/fleet?password=hunter2", "password_file")]
    [InlineData("postgresql://db/fleet?hunter2hunter2hunter2hunter2hunter2", "a parameter")]
    public void TryParse_Bad_SaysWhyWithoutTheSecret(string text, string reason)
    {
        Assert.False(PostgresUrl.TryParse(text, out _, out var error));

        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }
}
