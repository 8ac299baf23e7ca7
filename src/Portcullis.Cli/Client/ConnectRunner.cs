using System.Runtime.InteropServices;
using Portcullis.Cli.Hosting;
using Portcullis.Client.Connect;
using Portcullis.Client.PortForwarding;

namespace Portcullis.Cli.Client;

/// <summary>Hosts one <see cref="ClientConnection"/> in the foreground until a signal or the interface vanishes.</summary>
internal static class ConnectRunner
{
    public static int Run(ConnectOptions options)
    {
        using var loggers = Logging.CreateFactory();
        using var stop = new ManualResetEventSlim();
        // Registered before anything is set up, so a signal during start still ends in a clean exit.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        ClientConnection connection;
        try
        {
            connection = ClientConnection.Start(options, loggers, new PortKeeperFactory());
        }
        catch (ClientException e)
        {
            Console.Error.WriteLine($"portcullis connect: {e.Message}");
            return 1;
        }
        using (connection)
        {
            while (!stop.Wait(TimeSpan.FromSeconds(1)))
            {
                if (!connection.InterfaceExists)
                {
                    // Nobody asked us to stop: fail closed, leave the kill switch for `disconnect`.
                    Console.Error.WriteLine($"portcullis connect: interface {connection.Interface} was removed; exiting (a kill switch stays until `portcullis disconnect`)");
                    connection.FailClosedOnExit = true;
                    return 1;
                }
            }
        }
        return 0;
    }
}
