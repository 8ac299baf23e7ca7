using System.Net;

namespace Portcullis.Gateway.Addressing;

/// <summary>A peer's one stable tunnel address (its /32 allowed IP on the gateway).</summary>
/// <param name="Configured">True when the config file pins the address; false when the address book allocated it.</param>
public sealed record PeerAddress(string Name, byte[] PublicKey, IPAddress Address, bool Configured)
{
    public string PublicKeyBase64 => Convert.ToBase64String(PublicKey);

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Name = {Name}, PublicKey = {PublicKeyBase64}, Address = {Address}, Configured = {Configured}");
        return true;
    }
}

/// <summary>What the allocator needs to know of a peer: who, and the address the config pins, if any.</summary>
public sealed record AddressRequest(string Name, byte[] PublicKey, IPAddress? ConfiguredAddress);

/// <summary>The tunnel prefix has no free host address left for a peer.</summary>
public sealed class AddressExhaustedException : Exception
{
    public AddressExhaustedException() { }
    public AddressExhaustedException(string message) : base(message) { }
    public AddressExhaustedException(string message, Exception inner) : base(message, inner) { }
}
