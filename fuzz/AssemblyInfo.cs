// The parsers under test include Linux-only ones (the gateway config loader, netlink); so does the fuzzer (AFL++).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
