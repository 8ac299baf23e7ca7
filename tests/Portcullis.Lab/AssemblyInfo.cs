using System.Runtime.Versioning;

// The lab is network namespaces, veth pairs and TUN devices: Linux only.
[assembly: SupportedOSPlatform("linux")]
