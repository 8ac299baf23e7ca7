namespace Portcullis.Client.Applications;

/// <summary>Builds the updater for an <see cref="ApplicationEndpoint"/>.</summary>
public static class PortPublishers
{
    /// <summary>Reads the password file now, so a wrong path fails at start; throws IOException or UnauthorizedAccessException.</summary>
    public static IPortPublisher Create(ApplicationEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.Kind switch
        {
            ApplicationKind.QBittorrent => new QBittorrentUpdater(endpoint),
            ApplicationKind.Transmission => new TransmissionUpdater(endpoint),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint.Kind, "unknown application"),
        };
    }
}
