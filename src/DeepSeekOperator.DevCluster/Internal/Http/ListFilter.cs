using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>The label and field selectors of a list, watch or delete-collection request.</summary>
internal sealed class ListFilter
{
    private readonly string? name;

    private ListFilter(string? name)
    {
        this.name = name;
    }

    /// <summary>True when every object matches (no selector).</summary>
    public bool IsEverything => name is null;

    public static ListFilter Parse(IQueryCollection query, ResourceType type)
    {
        _ = type;
        if (!string.IsNullOrEmpty(query["labelSelector"].FirstOrDefault()) || !string.IsNullOrEmpty(query["fieldSelector"].FirstOrDefault()))
        {
            throw ApiException.BadRequest("selectors are not supported yet");
        }

        return new ListFilter(null);
    }

    /// <summary>This filter, further limited to one name (a watch of a single object).</summary>
    public ListFilter WithName(string only) => new(name ?? only);

    public bool Matches(StoredObject item) => name is null || item.Name == name;
}
