using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Client;

/// <summary>
/// dist/portcullis-client@.service read as systemd reads it, for running its command lines in the lab: the [Service]
/// settings in order, command lines split into words (systemd.service(5), "Command lines"). This unit needs no
/// quoting, no variables and no prefixes; anything of the kind is refused rather than guessed at. The instance
/// specifier %i is replaced, and the unit's two absolute paths are mapped into the lab: the installed binary to the
/// published one, /etc/portcullis/clients/ to the lab's folder of client configs.
/// </summary>
internal sealed class ClientUnit
{
    public const string InstalledBinary = "/usr/local/bin/portcullis";
    public const string ClientsDirectory = "/etc/portcullis/clients/";

    private readonly List<(string Key, string Value)> _service;

    private ClientUnit(List<(string Key, string Value)> service) => _service = service;

    public static string SourcePath => Path.Combine(LabBinaries.RepositoryRoot, "dist", "portcullis-client@.service");

    public static ClientUnit Load()
    {
        var service = new List<(string, string)>();
        var section = "";
        var pending = "";
        foreach (var raw in File.ReadAllLines(SourcePath))
        {
            var line = pending + raw.Trim();
            pending = "";
            if (line.EndsWith('\\'))
            {
                pending = line[..^1] + " ";
                continue;
            }
            if (line.Length == 0 || line[0] is '#' or ';')
                continue;
            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new FormatException($"{SourcePath}: not KEY=VALUE: {line}");
            if (section == "Service")
                service.Add((line[..equals].Trim(), line[(equals + 1)..].Trim()));
        }
        return new ClientUnit(service);
    }

    /// <summary>Every value of <paramref name="key"/> in [Service], in order (an empty value resets the list, as in systemd).</summary>
    public IReadOnlyList<string> Values(string key)
    {
        var values = new List<string>();
        foreach (var (k, v) in _service)
        {
            if (k != key)
                continue;
            if (v.Length == 0)
                values.Clear();
            else
                values.Add(v);
        }
        return values;
    }

    /// <summary>The one command line of <paramref name="key"/> for instance <paramref name="instance"/>, mapped into the lab.</summary>
    public string[] Command(string key, string instance, string clientsDirectory)
    {
        var line = Assert.Single(Values(key));
        if (line.IndexOfAny(['"', '\'', '$', ';']) >= 0 || line[0] is '-' or '@' or '+' or '!' or ':')
            throw new FormatException($"{key}={line}: quotes, variables, ';' and prefixes are not handled here");
        var words = line.Replace("%i", instance, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (line.Replace("%i", "", StringComparison.Ordinal).Contains('%', StringComparison.Ordinal))
            throw new FormatException($"{key}={line}: only the %i specifier is handled here");
        for (var i = 0; i < words.Length; i++)
        {
            if (words[i] == InstalledBinary)
                words[i] = LabBinaries.Portcullis;
            else if (words[i].StartsWith(ClientsDirectory, StringComparison.Ordinal))
                words[i] = Path.Combine(clientsDirectory, words[i][ClientsDirectory.Length..]);
        }
        return words;
    }

    /// <summary>The unit's Environment= assignments, plus what systemd adds for a stop command (<paramref name="extra"/>).</summary>
    public Dictionary<string, string> Environment(params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>();
        foreach (var assignment in Values("Environment"))
        {
            var equals = assignment.IndexOf('=', StringComparison.Ordinal);
            environment[assignment[..equals]] = assignment[(equals + 1)..];
        }
        foreach (var (name, value) in extra)
            environment[name] = value;
        return environment;
    }
}
