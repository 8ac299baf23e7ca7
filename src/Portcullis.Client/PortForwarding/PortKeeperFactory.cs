using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.ClientSide;

namespace Portcullis.Client.PortForwarding;

/// <summary>Builds a <see cref="PortKeeper"/> speaking PCP/NAT-PMP to <see cref="PortKeeperOptions.Gateway"/>.</summary>
public sealed class PortKeeperFactory(TimeProvider? time = null) : IPortKeeperFactory
{
    public IPortKeeper Create(PortKeeperOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = new PortMappingClient(new PortMappingClientOptions { Gateway = options.Gateway, Port = options.ServerPort });
        return new PortKeeper(options, client, logger, time);
    }
}
