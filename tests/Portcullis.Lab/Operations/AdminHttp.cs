using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Operations;

/// <summary>
/// HTTP to a gateway's admin listener from inside its namespace, with curl: the listener is on 127.0.0.1 there, and
/// nothing in the root namespace can (or should) reach it. The token goes in a header file, never on a command line.
/// </summary>
internal static class AdminHttp
{
    public const string Base = "http://127.0.0.1:8351";

    /// <summary>GET <paramref name="path"/>; the status code and the body. <paramref name="tokenFile"/> null: no token.</summary>
    public static async Task<(int Status, string Body)> GetAsync(LabHost host, string path, string? tokenFile)
    {
        var arguments = new List<string> { "curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}" };
        string? headers = null;
        if (tokenFile is not null)
        {
            headers = Path.Combine(Path.GetDirectoryName(tokenFile)!, $"auth-{Guid.NewGuid():N}.header");
            await WgTools.WritePrivateFileAsync(headers, $"Authorization: Bearer {(await File.ReadAllTextAsync(tokenFile)).Trim()}\n");
            arguments.AddRange(["-H", "@" + headers]);
        }
        arguments.Add(Base + path);
        try
        {
            var result = await host.RunAsync(arguments, RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30), Check = true });
            var text = result.Stdout;
            var cut = text.LastIndexOf('\n');
            return (int.Parse(text[(cut + 1)..].Trim(), CultureInfo.InvariantCulture), text[..cut]);
        }
        finally
        {
            if (headers is not null)
                File.Delete(headers);
        }
    }
}
