using System.Runtime.Versioning;

// The CLI runs on Linux only (the client and gateway it drives do).
[assembly: SupportedOSPlatform("linux")]
