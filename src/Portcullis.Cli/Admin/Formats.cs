using System.Globalization;

namespace Portcullis.Cli.Admin;

/// <summary>How tables show times and flags.</summary>
internal static class Formats
{
    public static string Ago(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t)
            return "-";
        var age = now - t;
        if (age < TimeSpan.Zero)
            age = TimeSpan.Zero;
        return age.TotalSeconds < 120 ? $"{(int)age.TotalSeconds}s ago"
            : age.TotalMinutes < 120 ? $"{(int)age.TotalMinutes}m ago"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h ago"
            : $"{(int)age.TotalDays}d ago";
    }

    public static string In(DateTimeOffset time, DateTimeOffset now)
    {
        var left = time - now;
        return left <= TimeSpan.Zero ? "now" : left.TotalSeconds < 120 ? $"{(int)left.TotalSeconds}s" : $"{(int)left.TotalMinutes}m";
    }

    public static string YesNo(bool value) => value ? "yes" : "no";

    public static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
