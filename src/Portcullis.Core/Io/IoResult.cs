namespace Portcullis.Core.Io;

/// <summary>What <see cref="ITun.Read"/> and <see cref="IBind.Receive"/> return besides a count of packets.</summary>
public static class IoResult
{
    /// <summary>
    /// Nothing was kept: what arrived did not fit the areas offered (dropped and counted). Offer larger areas if the
    /// MTU has grown, and call again.
    /// </summary>
    public const int NothingFitted = 0;

    /// <summary>Closed (a TUN also when its interface was deleted). Every later call returns this at once.</summary>
    public const int Closed = -1;
}
