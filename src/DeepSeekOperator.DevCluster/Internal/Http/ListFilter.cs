using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>
/// The label and field selectors of a list, watch or delete-collection request, parsed with the messages of
/// apimachinery (a bad selector is a 400), and matched against stored objects.
/// </summary>
internal sealed class ListFilter
{
    private readonly LabelSelector labels;
    private readonly FieldSelector fields;
    private readonly FieldSelectorSupport support;
    private readonly string? name;
    private readonly Func<StoredObject, JsonObject> view;

    private ListFilter(LabelSelector labels, FieldSelector fields, FieldSelectorSupport support, string? name, Func<StoredObject, JsonObject> view)
    {
        this.view = view;
        this.labels = labels;
        this.fields = fields;
        this.support = support;
        this.name = name;
    }

    /// <summary>True when every object matches (no selector).</summary>
    public bool IsEverything => labels.IsEmpty && fields.IsEmpty && name is null;

    /// <summary>Parses the selectors of a request served at <paramref name="version"/> (field selectors see that version's fields).</summary>
    public static ListFilter Parse(IQueryCollection query, ResourceType type, string version)
    {
        var labelText = query["labelSelector"].FirstOrDefault() ?? "";
        if (!LabelSelector.TryParse(labelText, out var labels, out var labelError))
        {
            throw ApiException.BadRequest(labelError);
        }

        var support = type.Custom is null
            ? FieldSelectorSupport.For(type.Group, type.Plural, type.Namespaced)
            : FieldSelectorSupport.ForCustomResource(type.Namespaced, []);
        var fieldText = query["fieldSelector"].FirstOrDefault() ?? "";
        if (!FieldSelector.TryParse(fieldText, out var parsed, out var fieldError))
        {
            throw ApiException.BadRequest(fieldError);
        }

        if (!support.TryConvert(parsed, out var fields, out var convertError))
        {
            throw ApiException.BadRequest(convertError);
        }

        Func<StoredObject, JsonObject> view = type.StorageOverride is null ? item => item.Value : item => ObjectService.ToVersion(type, item.Clone(), version);
        return new ListFilter(labels, fields, support, null, view);
    }

    /// <summary>This filter, further limited to one name (a watch of a single object).</summary>
    public ListFilter WithName(string only) => new(labels, fields, support, only, view);

    public bool Matches(StoredObject item) =>
        (name is null || item.Name == name)
        && (labels.IsEmpty || labels.Matches(item.Value["metadata"]?["labels"] as JsonObject))
        && (fields.IsEmpty || support.Matches(fields, view(item)));
}
