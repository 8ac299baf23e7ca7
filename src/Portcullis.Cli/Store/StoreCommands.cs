using System.CommandLine;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;

namespace Portcullis.Cli.Store;

/// <summary>
/// `portcullis store migrate --from sqlite:PATH --to postgresql://USER@HOST/DB [--password-file F] [--gateway NAME]`:
/// one gateway's store copied into a fleet's database, idempotently (see <see cref="StoreMigration"/>). Exit 0 done
/// (what was copied on stdout), 1 the copy was refused or failed (nothing copied; the reason on stderr), 2 usage.
/// </summary>
internal static class StoreCommands
{
    public static Command Create()
    {
        var command = new Command("store", "Work on a gateway's store.");
        command.Subcommands.Add(Migrate());
        return command;
    }

    private static Command Migrate()
    {
        var from = new Option<string>("--from") { Description = "The one-box store: sqlite:PATH.", Required = true };
        var to = new Option<string>("--to") { Description = "The fleet's database: postgresql://USER@HOST:PORT/DB.", Required = true };
        var passwordFile = new Option<string?>("--password-file") { Description = "The database password's file (0600); else PGPASSFILE or ~/.pgpass." };
        var gateway = new Option<string?>("--gateway")
        {
            Description = "The gateway this store belonged to, by its fleet name: its dedicated addresses and policy overrides become that gateway's.",
        };
        var command = new Command("migrate", "Copy a one-box SQLite store into a fleet's PostgreSQL database (idempotent).")
        {
            from, to, passwordFile, gateway,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var source = result.GetValue(from)!;
            if (!source.StartsWith("sqlite:", StringComparison.Ordinal) || source.Length == "sqlite:".Length)
                return Usage($"--from '{source}': expected sqlite:PATH");
            if (!PostgresUrl.TryParse(result.GetValue(to)!, out var url, out var error))
                return Usage($"--to: {error}");
            var name = result.GetValue(gateway) ?? "";
            if (name.Length > 0 && !FleetSectionParser.IsName(name))
                return Usage($"--gateway '{name}': expected 1-{FleetSectionParser.MaxNameLength} letters, digits, '-', '_' or '.'");
            try
            {
                var target = url!.WithPasswordFile(result.GetValue(passwordFile));
                var report = await StoreMigration.CopyAsync(Path.GetFullPath(source["sqlite:".Length..]), target, name, null, cancellationToken)
                    .ConfigureAwait(false);
                Console.WriteLine($"{target.Display}: {report}.");
                return 0;
            }
            catch (Exception e) when (e is StoreException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"portcullis store migrate: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"portcullis store migrate: {message}");
        return 2;
    }
}
