using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;

namespace DeepSeekOperator.DevCluster.Tests;

public sealed class FieldErrorTests
{
    [Fact]
    public void Invalid_FormatsLikeKubernetes()
    {
        var error = FieldError.Invalid("spec.replicas", JsonValue.Create(5), "must be less than or equal to 3");

        Assert.Equal("spec.replicas: Invalid value: 5: must be less than or equal to 3", error.ToString());
        Assert.Equal("FieldValueInvalid", error.Reason);
    }

    [Fact]
    public void NotSupported_ListsTheQuotedChoices()
    {
        var error = FieldError.NotSupported("spec.type", JsonValue.Create("Weird"), ["ClusterIP", "NodePort"]);

        Assert.Equal("spec.type: Unsupported value: \"Weird\": supported values: \"ClusterIP\", \"NodePort\"", error.ToString());
    }

    [Fact]
    public void Required_HasNoValue()
    {
        Assert.Equal("metadata.name: Required value: name or generateName is required",
            FieldError.Required("metadata.name", "name or generateName is required").ToString());
    }
}
