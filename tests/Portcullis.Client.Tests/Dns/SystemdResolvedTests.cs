using System.Net;
using Portcullis.Client.Dns;

namespace Portcullis.Client.Tests.Dns;

public sealed class SystemdResolvedTests
{
    [Theory]
    [InlineData("../run/systemd/resolve/stub-resolv.conf")]
    [InlineData("/run/systemd/resolve/stub-resolv.conf")]
    [InlineData("/run/systemd/resolve/resolv.conf")]
    [InlineData("/usr/lib/systemd/resolv.conf")]
    public void ManagesResolvConf_LinkToResolvedsFile_True(string target) =>
        Assert.True(SystemdResolved.ManagesResolvConf(target, content: null));

    [Theory]
    [InlineData("/run/resolvconf/resolv.conf")]
    [InlineData("../run/NetworkManager/resolv.conf")]
    [InlineData("/run/systemd/resolve-not/resolv.conf")]
    public void ManagesResolvConf_LinkElsewhere_False(string target) =>
        Assert.False(SystemdResolved.ManagesResolvConf(target, content: null));

    [Theory]
    [InlineData("# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\n", true)]
    [InlineData("nameserver 127.0.0.53\nnameserver 192.168.1.1\n", false)]
    [InlineData("nameserver 192.168.1.1\n", false)]
    [InlineData("search lan\n", false)]
    public void ManagesResolvConf_File_OnlyACopyOfTheStub(string content, bool expected) =>
        Assert.Equal(expected, SystemdResolved.ManagesResolvConf(linkTarget: null, content));

    [Fact]
    public void ApplyCommands_ServersAndEveryNameOnTheTunnelLink()
    {
        var commands = SystemdResolved.ApplyCommands("wg0", [IPAddress.Parse("10.99.0.1"), IPAddress.Parse("9.9.9.9")], ["corp.example"]);

        Assert.Equal([["dns", "wg0", "10.99.0.1", "9.9.9.9"], ["domain", "wg0", "~.", "corp.example"]], commands);
        Assert.Equal(["revert", "wg0"], SystemdResolved.RevertCommand("wg0"));
    }

    [Fact]
    public void IsRunning_NoRuntimeDirectory_FalseWithoutAskingResolvectl()
    {
        var resolvectl = new RecordingResolvectl();

        Assert.False(SystemdResolved.IsRunning(resolvectl, "/nonexistent/systemd/resolve"));
        Assert.Empty(resolvectl.Calls);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(127, false)]
    public void IsRunning_RuntimeDirectory_WhatResolvedAnswers(int exitCode, bool running)
    {
        var directory = Directory.CreateTempSubdirectory("pc-resolved-").FullName;
        try
        {
            var resolvectl = new RecordingResolvectl { Answer = _ => (exitCode, "") };
            Assert.Equal(running, SystemdResolved.IsRunning(resolvectl, directory));
            Assert.Equal([["--no-pager", "status"]], resolvectl.Calls);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }
}
