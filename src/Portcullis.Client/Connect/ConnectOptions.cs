using System.Net;
using Portcullis.Client.Applications;
using Portcullis.Client.Dns;
using Portcullis.Client.PortForwarding;
using Portcullis.Client.Status;

namespace Portcullis.Client.Connect;

/// <summary>What <c>portcullis connect</c> was asked to do.</summary>
public sealed record ConnectOptions
{
    public required string ConfigPath { get; init; }

    /// <summary>Defaults to the config file's name without ".conf", as wg-quick names the interface.</summary>
    public string? InterfaceName { get; init; }

    /// <summary>Drop everything outside the tunnel, installed before the tunnel first comes up. Defaults to off.</summary>
    public bool KillSwitch { get; init; }

    /// <summary>With the kill switch: the physical interfaces' prefixes stay reachable. Defaults to off.</summary>
    public bool AllowLan { get; init; }

    /// <summary>With the kill switch: DHCP may renew the physical lease. Defaults to off.</summary>
    public bool AllowDhcp { get; init; }

    /// <summary>Keep the kill switch after a clean exit too (only <c>disconnect</c> removes it). Defaults to off.</summary>
    public bool Persistent { get; init; }

    public ForwardSpec? Forward { get; init; }

    public string? PortFile { get; init; }

    public string? OnPortChange { get; init; }

    /// <summary>
    /// With <see cref="Forward"/> and IPv6 in the tunnel: the IPv6 mapping is written here as <c>[ADDRESS]:PORT</c>
    /// (atomic replace) whenever it changes (<c>--port-file6</c>). Defaults to none (the IPv6 mapping is logged only).
    /// </summary>
    public string? PortFile6 { get; init; }

    /// <summary>Applications told each new port (<c>--qbittorrent</c>, <c>--transmission</c>); needs <see cref="Forward"/>. Defaults to none.</summary>
    public IReadOnlyList<ApplicationEndpoint> Applications { get; init; } = [];

    /// <summary>Where port requests go; defaults to the first host of the Address prefix.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>Serve Prometheus metrics on this loopback address and port (<c>--metrics</c>). Defaults to none.</summary>
    public IPEndPoint? MetricsListen { get; init; }

    public string StateDirectory { get; init; } = ClientState.DefaultDirectory;

    public string ResolvConfPath { get; init; } = ResolverConfiguration.DefaultPath;
}

/// <summary>connect could not do what was asked; the message is for the user and holds no secret.</summary>
public sealed class ClientException : Exception
{
    public ClientException()
    {
    }

    public ClientException(string message)
        : base(message)
    {
    }

    public ClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
