namespace Portcullis.Core.Net;

/// <summary>
/// Pure functions over immutable <see cref="PrefixNode{T}"/> trees: each write returns a new root that
/// shares every untouched subtree with the old one, so the old root stays valid for readers.
/// Keys are masked to their prefix length by the caller.
/// </summary>
internal static class PrefixTrie<T>
    where T : class
{
    /// <summary>Longest-prefix match; allocation-free and safe against concurrent writers.</summary>
    /// <remarks>
    /// No bound on the depth is needed: a full-length node (/32 or /128) never has children, and its
    /// child bit reads a key bit that is always zero (IPv4) or is zero itself (IPv6), so the walk ends.
    /// </remarks>
    public static T? Lookup(PrefixNode<T>? node, UInt128 key)
    {
        T? found = null;
        while (node is not null && node.Matches(key))
        {
            if (node.Value is not null)
                found = node.Value;
            node = (key & node.ChildBit) == UInt128.Zero ? node.Zero : node.One;
        }
        return found;
    }

    public static PrefixNode<T> Insert(PrefixNode<T>? node, UInt128 key, int cidr, T value, out T? replaced)
    {
        replaced = null;
        if (node is null)
            return new PrefixNode<T>(key, cidr, null, null, value);

        var common = Math.Min(Math.Min(CommonPrefixLength(node.Bits, key), node.Cidr), cidr);
        if (common == node.Cidr && common == cidr)
        {
            replaced = node.Value;
            return node.WithValue(value);
        }
        if (common == node.Cidr)
        {
            // The node is an ancestor of the new prefix: descend.
            var bit = PrefixNode<T>.BitAt(key, node.Cidr);
            return node.WithChild(bit, Insert(node.Child(bit), key, cidr, value, out replaced));
        }
        if (common == cidr)
        {
            // The new prefix is an ancestor of the node: it goes above it.
            var below = PrefixNode<T>.BitAt(node.Bits, cidr);
            return below == 0
                ? new PrefixNode<T>(key, cidr, node, null, value)
                : new PrefixNode<T>(key, cidr, null, node, value);
        }

        // The two diverge below their common prefix: join them under a valueless branch node.
        var leaf = new PrefixNode<T>(key, cidr, null, null, value);
        return PrefixNode<T>.BitAt(key, common) == 0
            ? new PrefixNode<T>(key, common, leaf, node, null)
            : new PrefixNode<T>(key, common, node, leaf, null);
    }

    /// <summary>Returns the new root (the same reference when nothing was removed).</summary>
    public static PrefixNode<T>? Remove(PrefixNode<T>? node, UInt128 key, int cidr, out T? removed)
    {
        removed = null;
        if (node is null || node.Cidr > cidr || !node.Matches(key))
            return node;
        if (node.Cidr == cidr)
        {
            if (node.Value is null)
                return node;
            removed = node.Value;
            return Collapse(node.Zero, node.One, node, null);
        }
        var bit = PrefixNode<T>.BitAt(key, node.Cidr);
        var child = node.Child(bit);
        var newChild = Remove(child, key, cidr, out removed);
        if (ReferenceEquals(child, newChild))
            return node;
        return bit == 0
            ? Collapse(newChild, node.One, node, node.Value)
            : Collapse(node.Zero, newChild, node, node.Value);
    }

    /// <summary>Visits every (key, cidr, value) with a value, in key order.</summary>
    public static void Walk(PrefixNode<T>? node, List<(UInt128 Key, int Cidr, T Value)> into)
    {
        if (node is null)
            return;
        if (node.Value is not null)
            into.Add((node.Bits, node.Cidr, node.Value));
        Walk(node.Zero, into);
        Walk(node.One, into);
    }

    // A valueless node with fewer than two children adds nothing: lookups check every node's own
    // prefix, so a lone child can take its place.
    private static PrefixNode<T>? Collapse(PrefixNode<T>? zero, PrefixNode<T>? one, PrefixNode<T> old, T? value)
    {
        if (value is null)
        {
            if (zero is null)
                return one;
            if (one is null)
                return zero;
        }
        return new PrefixNode<T>(old.Bits, old.Cidr, zero, one, value);
    }

    private static int CommonPrefixLength(UInt128 a, UInt128 b) => (int)UInt128.LeadingZeroCount(a ^ b);
}
