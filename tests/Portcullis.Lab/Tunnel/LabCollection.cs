namespace Portcullis.Lab.Tunnel;

/// <summary>
/// Lab tests run one at a time: each builds namespaces and starts daemons, and the machine has two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection
{
    public const string Name = "Lab";
}
