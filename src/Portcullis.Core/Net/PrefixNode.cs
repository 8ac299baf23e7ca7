namespace Portcullis.Core.Net;

/// <summary>
/// One immutable node of a path-compressed binary trie over 128-bit keys (IPv4 keys sit in the top
/// 32 bits). A node is never changed after it is published, so readers can walk the trie without a
/// lock while a writer builds a new path beside it (path copying).
/// </summary>
internal sealed class PrefixNode<T>
    where T : class
{
    public PrefixNode(UInt128 bits, int cidr, PrefixNode<T>? zero, PrefixNode<T>? one, T? value)
    {
        Mask = MaskOf(cidr);
        Bits = bits & Mask;
        ChildBit = cidr == 128 ? UInt128.Zero : UInt128.One << (127 - cidr);
        Cidr = cidr;
        Zero = zero;
        One = one;
        Value = value;
    }

    /// <summary>The prefix bits, host bits zero.</summary>
    public UInt128 Bits { get; }

    /// <summary>Precomputed from <see cref="Cidr"/> so a lookup does one AND per node.</summary>
    public UInt128 Mask { get; }

    public int Cidr { get; }

    /// <summary>
    /// The key bit that picks the child (the first bit after the prefix), precomputed so a lookup
    /// step is an AND rather than a 128-bit shift. Zero for a /128, whose children are always null.
    /// </summary>
    public UInt128 ChildBit { get; }

    public PrefixNode<T>? Zero { get; }

    public PrefixNode<T>? One { get; }

    /// <summary>Null for a branch node that only joins two subtrees.</summary>
    public T? Value { get; }

    public static UInt128 MaskOf(int cidr) =>
        cidr == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - cidr);

    /// <summary>The bit of <paramref name="key"/> at <paramref name="position"/>, counted from the most significant.</summary>
    public static int BitAt(UInt128 key, int position) => (int)(key >> (127 - position)) & 1;

    public bool Matches(UInt128 key) => ((key ^ Bits) & Mask) == UInt128.Zero;

    public PrefixNode<T> WithValue(T? value) => new(Bits, Cidr, Zero, One, value);

    public PrefixNode<T> WithChild(int bit, PrefixNode<T>? child) =>
        bit == 0 ? new(Bits, Cidr, child, One, Value) : new(Bits, Cidr, Zero, child, Value);

    public PrefixNode<T>? Child(int bit) => bit == 0 ? Zero : One;
}
