using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace DeepSeekOperator.Controller.Hosting.Internal;

/// <summary>
/// Reads a kubeconfig file as <c>KubernetesClientConfiguration.BuildConfigFromConfigFile</c> does, without its YAML
/// deserializer: that one is built, the first time any YAML is read, with an override for every property of every API
/// model (about 50,000 of them), which stay on the operator's heap for good (about 5 MB, and the reflection and
/// compilation it takes). The kubeconfig types carry their own YAML names, so a plain deserializer reads them.
/// </summary>
internal static class KubeconfigFile
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithAttemptingUnquotedStringTypeDeserialization()
        .IgnoreUnmatchedProperties()
        .Build();

    /// <summary>The client configuration of <paramref name="path"/>'s current context.</summary>
    /// <exception cref="KubeConfigException">The file cannot be read or is not a kubeconfig.</exception>
    public static KubernetesClientConfiguration Load(string path)
    {
        var full = Path.GetFullPath(path);
        K8SConfiguration? config;
        try
        {
            config = Deserializer.Deserialize<K8SConfiguration?>(File.ReadAllText(full));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or YamlException)
        {
            throw new KubeConfigException($"kubeconfig {full}: {exception.Message}");
        }

        if (config is null)
        {
            throw new KubeConfigException($"kubeconfig {full} is empty");
        }

        // Relative certificate and key paths are relative to the file, as kubectl reads them.
        config.FileName = full;
        return KubernetesClientConfiguration.BuildConfigFromConfigObject(config);
    }
}
