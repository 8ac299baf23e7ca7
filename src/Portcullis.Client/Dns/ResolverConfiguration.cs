using System.Net;
using System.Text;

namespace Portcullis.Client.Dns;

/// <summary>
/// Sets the tunnel's DNS servers in resolv.conf and puts the previous file back afterwards:
/// save (once: a backup left by a killed client is the real original and is kept) → write a temp file beside it →
/// rename over it (atomic). Under `ip netns exec` resolv.conf is a bind mount, which rename cannot replace (EBUSY);
/// then the file is rewritten in place. A symlinked resolv.conf (systemd-resolved, resolvconf) is restored as the link.
/// </summary>
public sealed class ResolverConfiguration(string resolvConfPath, string backupPath)
{
    public const string DefaultPath = "/etc/resolv.conf";
    private const string SymlinkMarker = "# portcullis-symlink: ";
    private const string AbsentMarker = "# portcullis-absent\n";

    public string ResolvConfPath { get; } = resolvConfPath;

    public string BackupPath { get; } = backupPath;

    public static string Render(string interfaceName, IReadOnlyList<IPAddress> servers, IReadOnlyList<string> search)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(search);
        var text = new StringBuilder();
        text.Append("# Written by portcullis connect (").Append(interfaceName).Append("); the previous file comes back on disconnect.\n");
        foreach (var server in servers)
            text.Append("nameserver ").Append(server).Append('\n');
        if (search.Count > 0)
            text.Append("search ").Append(string.Join(' ', search)).Append('\n');
        return text.ToString();
    }

    public void Apply(string content)
    {
        if (!File.Exists(BackupPath))
            SaveBackup();
        Replace(content);
    }

    /// <summary>Puts the saved file back and deletes the backup; false when there was nothing saved.</summary>
    public bool Restore()
    {
        if (!File.Exists(BackupPath))
            return false;
        var saved = File.ReadAllText(BackupPath);
        if (saved.StartsWith(SymlinkMarker, StringComparison.Ordinal))
        {
            var target = saved[SymlinkMarker.Length..].TrimEnd('\n');
            var temp = ResolvConfPath + ".portcullis-link";
            File.Delete(temp);
            File.CreateSymbolicLink(temp, target);
            File.Move(temp, ResolvConfPath, overwrite: true);
        }
        else if (saved == AbsentMarker)
        {
            File.Delete(ResolvConfPath);
        }
        else
        {
            Replace(saved);
        }
        File.Delete(BackupPath);
        return true;
    }

    private void SaveBackup()
    {
        string saved;
        var info = new FileInfo(ResolvConfPath);
        if (info.LinkTarget is { } target)
            saved = SymlinkMarker + target + "\n";
        else if (!info.Exists)
            saved = AbsentMarker;
        else
            saved = File.ReadAllText(ResolvConfPath);
        Directory.CreateDirectory(Path.GetDirectoryName(BackupPath)!);
        WriteDurably(BackupPath + ".tmp", saved);
        File.Move(BackupPath + ".tmp", BackupPath, overwrite: true);
    }

    private void Replace(string content)
    {
        var temp = Path.Combine(Path.GetDirectoryName(ResolvConfPath)!, "." + Path.GetFileName(ResolvConfPath) + ".portcullis");
        WriteDurably(temp, content);
        try
        {
            File.Move(temp, ResolvConfPath, overwrite: true);
        }
        catch (IOException)
        {
            // A bind-mounted resolv.conf (ip netns exec, containers) cannot be renamed over.
            File.Delete(temp);
            using var stream = new FileStream(ResolvConfPath, FileMode.Truncate, FileAccess.Write);
            stream.Write(Encoding.UTF8.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }
    }

    private static void WriteDurably(string path, string content)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(Encoding.UTF8.GetBytes(content));
        stream.Flush(flushToDisk: true);
    }
}
