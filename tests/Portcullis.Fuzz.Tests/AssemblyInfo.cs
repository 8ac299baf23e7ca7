using System.Runtime.Versioning;

// The targets include Linux-only parsers (the gateway config loader, netlink).
[assembly: SupportedOSPlatform("linux")]
