using System.Runtime.Versioning;

// The client configures Linux networking: its tests run on Linux only.
[assembly: SupportedOSPlatform("linux")]
