using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Npgsql;

namespace Portcullis.Gateway.Tests.Store.Postgres;

/// <summary>
/// A PostgreSQL cluster of the test run's own: <c>initdb</c> into a temporary folder and <c>postgres</c> in the
/// foreground on a free loopback port, both as the <c>postgres</c> user when the tests run as root (PostgreSQL refuses
/// to run as root); removed with everything in it on dispose. Nothing uses a system-wide cluster or service. Each test
/// class gets a database of its own (<see cref="NewDatabase"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PostgresCluster : IDisposable
{
    // Debian's layout (/usr/lib/postgresql/VERSION/bin): the newest installed.
    private static readonly string BinDirectory = System.IO.Directory.GetDirectories("/usr/lib/postgresql")
        .OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Select(d => Path.Combine(d, "bin")).LastOrDefault()
        ?? throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/VERSION/bin): run scripts/setup.");
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _server;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _databases;

    public PostgresCluster()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("portcullis-pg-").FullName;
        var data = Path.Combine(Directory, "data");
        var asPostgres = Environment.IsPrivilegedProcess;
        if (asPostgres)
            Run("chown", "postgres:postgres", Directory);
        Run(AsPostgres(asPostgres, Path.Combine(BinDirectory, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync"));
        Port = FreePort();
        var info = Start(AsPostgres(asPostgres, Path.Combine(BinDirectory, "postgres"), "-D", data, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={Directory}", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"));
        _server = Process.Start(info) ?? throw new InvalidOperationException("postgres did not start");
        _server.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _server.OutputDataReceived += (_, e) => OnLine(e.Data);
        _server.BeginErrorReadLine();
        _server.BeginOutputReadLine();
        if (!_ready.Task.Wait(StartTimeout))
        {
            Dispose();
            throw new InvalidOperationException($"postgres did not get ready within {StartTimeout}:\n{Log}");
        }
    }

    public string Directory { get; }

    public int Port { get; }

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>The URL of database <paramref name="database"/> as <c>[store] url</c> takes it.</summary>
    public string Url(string database) => $"postgresql://postgres@127.0.0.1:{Port}/{database}";

    /// <summary>A fresh empty database; its name.</summary>
    public string NewDatabase()
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        Execute($"CREATE DATABASE {name}");
        return name;
    }

    public void DropDatabase(string name) => Execute($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");

    /// <summary>Runs SQL on database <paramref name="database"/> outside any store.</summary>
    public void Execute(string sql, string database = "postgres")
    {
        using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public object? Scalar(string sql, string database)
    {
        using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (!_server.HasExited)
        {
            // SIGINT: fast shutdown (SIGTERM would wait for every client to leave).
            _ = Portcullis.Linux.Interop.ProcessSignals.Send(_server.Id, Portcullis.Linux.Interop.ProcessSignals.SigInt);
            if (!_server.WaitForExit(TimeSpan.FromSeconds(20)))
                _server.Kill(entireProcessTree: true);
        }
        _server.WaitForExit();
        _server.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
        if (line.Contains("database system is ready to accept connections", StringComparison.Ordinal))
            _ready.TrySetResult();
    }

    private static string[] AsPostgres(bool asPostgres, params string[] command) =>
        asPostgres ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. command] : command;

    private static ProcessStartInfo Start(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in command[1..])
            info.ArgumentList.Add(arg);
        return info;
    }

    private static void Run(params string[] command)
    {
        using var process = Process.Start(Start(command)) ?? throw new InvalidOperationException($"{command[0]} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}):\n{output.Result}\n{error}");
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

/// <summary>Tests that use the run's one cluster; they run one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "Postgres";
}
