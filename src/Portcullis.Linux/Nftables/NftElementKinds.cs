namespace Portcullis.Linux.Nftables;

/// <summary>What a run of elements does to its set: NFT_MSG_NEWSETELEM (as <c>nft add element</c>: an element that exists
/// with the same value is no error, one with another value is) or NFT_MSG_DELSETELEM (an absent element is an error).</summary>
public enum NftElementVerb
{
    Add,
    Delete,
}

/// <summary>nf_tables address families (NFPROTO_*), as in <c>table ip …</c>.</summary>
public enum NftFamily : byte
{
    Inet = 1,
    Ip = 2,
    Ip6 = 10,
}
