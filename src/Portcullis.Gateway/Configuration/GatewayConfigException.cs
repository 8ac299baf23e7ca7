namespace Portcullis.Gateway.Configuration;

/// <summary>
/// The configuration cannot be used. <see cref="Errors"/> holds one line per problem, each
/// <c>FILE:LINE: [section] key: what is wrong</c>; no line ever carries a key's secret value.
/// </summary>
public sealed class GatewayConfigException : Exception
{
    public GatewayConfigException()
        : this([])
    {
    }

    public GatewayConfigException(string message)
        : this([message])
    {
    }

    public GatewayConfigException(string message, Exception inner)
        : base(message, inner) => Errors = [message];

    public GatewayConfigException(IReadOnlyList<string> errors)
        : base(errors.Count == 0 ? "invalid configuration" : string.Join('\n', errors)) => Errors = errors;

    public IReadOnlyList<string> Errors { get; }
}
