using System.Globalization;

namespace Portcullis.Lab.Harness;

/// <summary>
/// A PostgreSQL of the test's own in a lab host: <c>initdb</c> into the network's temporary folder (owned by the
/// <c>postgres</c> user, as PostgreSQL will not run as root), password authentication (SCRAM) for one superuser, the
/// server in the foreground listening on the host's lab address only. <see cref="StopAsync"/> is a fast shutdown (as an
/// operator's <c>pg_ctl stop</c>); <see cref="StartAsync()"/> again brings the same data back. The network removes the
/// folder and any process left.
/// </summary>
internal sealed class LabPostgres
{
    public const int Port = 5432;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly LabHost _host;
    private readonly string _directory;

    private LabPostgres(LabHost host, string directory, string user, string password)
    {
        _host = host;
        _directory = directory;
        User = user;
        Password = password;
    }

    public string User { get; }

    public string Password { get; }

    public string Address => _host.Address!;

    public LabProcess? Server { get; private set; }

    private static string Bin(string program) =>
        Path.Combine(Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Last(), "bin", program);

    private static string[] AsPostgres(params string[] command) => ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. command];

    /// <summary>initdb with <paramref name="user"/> as the superuser, then the server; returns once it accepts connections.</summary>
    public static async Task<LabPostgres> CreateAsync(LabHost host, string user, string password)
    {
        var directory = host.Network.CreateTempDirectory();
        await ProcessRunner.RunCheckedAsync("chown", "postgres:postgres", directory);
        var passwordFile = Path.Combine(directory, "initdb.password");
        await File.WriteAllTextAsync(passwordFile, password + "\n");
        await ProcessRunner.RunCheckedAsync("chown", "postgres:postgres", passwordFile);
        await ProcessRunner.RunAsync(AsPostgres(Bin("initdb"), "-D", Path.Combine(directory, "data"), "-U", user, "--pwfile", passwordFile,
            "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"), RunOptions.Default with { Check = true, Timeout = TimeSpan.FromSeconds(120) });
        File.Delete(passwordFile);
        await File.AppendAllTextAsync(Path.Combine(directory, "data", "pg_hba.conf"), "host all all 0.0.0.0/0 scram-sha-256\n");
        var postgres = new LabPostgres(host, directory, user, password);
        await postgres.StartAsync();
        return postgres;
    }

    /// <summary>Starts the server on the existing data; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        Server = _host.Start(AsPostgres(Bin("postgres"), "-D", Path.Combine(_directory, "data"), "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-c", $"listen_addresses={Address}", "-c", $"unix_socket_directories={_directory}", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off"), environment: null);
        var server = Server;
        await Wait.ForStartAsync(server, "postgres",
            () => Task.FromResult(server.Output.Contains("database system is ready to accept connections", StringComparison.Ordinal)),
            ReadyTimeout, TimeSpan.FromMilliseconds(50), $"was not ready within {ReadyTimeout}");
    }

    /// <summary>Fast shutdown (SIGINT: clients are disconnected at once), and waits for the server to exit.</summary>
    public async Task StopAsync()
    {
        var server = Server ?? throw new InvalidOperationException("not running");
        Native.SignalGroup(server.Id, Native.SigInt);
        if (!await server.WaitForExitAsync(TimeSpan.FromSeconds(30)))
            throw new LabCommandException($"postgres did not stop:\n{server.Output}");
        Server = null;
    }

    /// <summary>A new empty database.</summary>
    public Task CreateDatabaseAsync(string name) =>
        _host.RunAsync([Bin("createdb"), "-h", Address, "-U", User, name],
            RunOptions.Default with { Check = true, Environment = new Dictionary<string, string> { ["PGPASSWORD"] = Password } });

    /// <summary>One value from SQL, as psql prints it.</summary>
    public async Task<string> QueryAsync(string database, string sql) =>
        (await _host.RunAsync([Bin("psql"), "-h", Address, "-U", User, "-d", database, "-tAc", sql],
            RunOptions.Default with { Check = true, Environment = new Dictionary<string, string> { ["PGPASSWORD"] = Password } })).Stdout.Trim();
}
