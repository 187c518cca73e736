namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// The test classes that start a dev cluster: one at a time, since every cluster hands out the same loopback pod and
/// cluster IPs, and their pods share the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OneDevClusterAtATime
{
    /// <summary>The collection's name.</summary>
    public const string Name = "dev cluster";
}
