using System.Net;
using Portcullis.Gateway.Peers;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Tests.Peers;

public sealed class PeerDirectoryTests
{
    private static StoredPeer Peer(string id, string key, int host) => new()
    {
        Id = id,
        Name = "n" + id,
        PublicKey = key,
        TunnelAddress = new IPAddress([10, 99, 0, (byte)host]),
        CreatedUtc = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void Upsert_KeyRotated_OldKeyNoLongerFindsThePeer()
    {
        var directory = new PeerDirectory();
        directory.Replace([Peer("1", "old", 2), Peer("2", "other", 3)]);

        directory.Upsert(Peer("1", "new", 2));

        Assert.Null(directory.FindByKey("old"));
        Assert.Equal("1", directory.FindByKey("new")?.Id);
        Assert.Equal(2, directory.Count);
    }

    [Fact]
    public void Remove_Peer_GoneByIdAndKeyOthersStay()
    {
        var directory = new PeerDirectory();
        directory.Replace([Peer("1", "k1", 2), Peer("2", "k2", 3)]);

        directory.Remove("1");
        directory.Remove("missing");

        Assert.Null(directory.FindById("1"));
        Assert.Null(directory.FindByKey("k1"));
        Assert.Equal("2", Assert.Single(directory.Snapshot()).Id);
    }

    [Fact]
    public void Replace_DropsWhatWasThere()
    {
        var directory = new PeerDirectory();
        directory.Replace([Peer("1", "k1", 2)]);

        directory.Replace([Peer("3", "k3", 4)]);

        Assert.Null(directory.FindByKey("k1"));
        Assert.Equal("3", directory.FindByKey("k3")?.Id);
    }
}
