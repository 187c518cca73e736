using System.Reflection;
using System.Text.Json.Nodes;
using DeepSeekOperator.Api.Internal;
using DeepSeekOperator.Api.Schema;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Api;

/// <summary>Generates <c>apiextensions.k8s.io/v1</c> CustomResourceDefinitions from the API types.</summary>
public static class CustomResourceDefinitions
{
    /// <summary>The file name <c>make manifests</c> writes the DeepSeekModel CRD to, under <c>crds/</c>.</summary>
    public const string DeepSeekModelFileName = V1Alpha1.DeepSeekModel.Plural + "." + V1Alpha1.DeepSeekModel.Group + ".yaml";

    /// <summary>The DeepSeekModel CRD.</summary>
    public static V1CustomResourceDefinition DeepSeekModel() => For<V1Alpha1.DeepSeekModel>();

    /// <summary>The DeepSeekModel CRD as YAML, exactly as checked in under <c>crds/</c>.</summary>
    public static string DeepSeekModelYaml() => ToYaml(DeepSeekModel());

    /// <summary>The CRD of one custom resource type, which must carry <see cref="KubernetesEntityAttribute"/>.</summary>
    /// <typeparam name="TEntity">The custom resource.</typeparam>
    public static V1CustomResourceDefinition For<TEntity>()
        where TEntity : IKubernetesObject<V1ObjectMeta>
    {
        var type = typeof(TEntity);
        foreach (var assembly in new[] { type.Assembly, typeof(V1ObjectMeta).Assembly })
        {
            if (!XmlDocumentation.IsAvailable(assembly))
            {
                throw new InvalidOperationException(
                    $"The XML documentation of {assembly.GetName().Name} was not found beside {assembly.Location}; the CRD's descriptions come from it. " +
                    "Build with GenerateDocumentationFile and CopyDocumentationFilesFromPackages.");
            }
        }

        var entity = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{type.Name} has no [KubernetesEntity] attribute");
        var hasStatus = SchemaBuilder.Implements(type, typeof(IStatus<>));
        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = $"{entity.PluralName}.{entity.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = entity.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = entity.Kind,
                    ListKind = entity.Kind + "List",
                    Plural = entity.PluralName,
                    Singular = entity.Kind.ToLowerInvariant(),
                    ShortNames = type.GetCustomAttribute<ShortNamesAttribute>()?.Names.ToList(),
                    Categories = type.GetCustomAttribute<CategoriesAttribute>()?.Names.ToList(),
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = entity.ApiVersion,
                        Served = true,
                        Storage = true,
                        Subresources = hasStatus ? new V1CustomResourceSubresources { Status = new Dictionary<string, object>() } : null,
                        AdditionalPrinterColumns = [.. type.GetCustomAttributes<PrinterColumnAttribute>().OrderBy(c => c.Order).Select(c =>
                            new V1CustomResourceColumnDefinition
                            {
                                Name = c.Name,
                                JsonPath = c.JsonPath,
                                Type = c.Type,
                                Description = c.Description,
                                Priority = c.Priority == 0 ? null : c.Priority,
                            })],
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new SchemaBuilder().ForEntity(type) },
                    },
                ],
            },
        };
    }

    /// <summary>Serializes a CRD as a YAML document.</summary>
    public static string ToYaml(V1CustomResourceDefinition crd) => Yaml.Write(JsonNode.Parse(KubernetesJson.Serialize(crd)));
}
