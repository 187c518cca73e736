using System.Globalization;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// Turns objects of one resource into a <c>meta.k8s.io/v1</c> Table, the answer to
/// <c>Accept: application/json;as=Table;v=v1;g=meta.k8s.io</c>: the columns and cells kube-apiserver's printers
/// (<c>pkg/printers/internalversion</c>) produce for built-in resources — every column, wide ones included, since the server
/// always prints wide — the CRD <c>additionalPrinterColumns</c> for custom resources, and Name / Created At for the rest.
/// </summary>
internal sealed class TablePrinter
{
    private readonly Func<JsonObject, DateTimeOffset, JsonArray> _cells;
    private readonly Func<JsonObject, JsonArray?> _conditions;
    private readonly bool _rowsNullWhenEmpty;

    private TablePrinter(
        IReadOnlyList<TableColumnDefinition> columns,
        Func<JsonObject, DateTimeOffset, JsonArray> cells,
        Func<JsonObject, JsonArray?>? conditions = null,
        bool rowsNullWhenEmpty = false)
    {
        Columns = columns;
        _cells = cells;
        _conditions = conditions ?? (_ => null);
        _rowsNullWhenEmpty = rowsNullWhenEmpty;
    }

    /// <summary>The column definitions, in cell order.</summary>
    public IReadOnlyList<TableColumnDefinition> Columns { get; }

    /// <summary>
    /// The printer of a built-in resource (<paramref name="group"/> "" for the core group, plural <paramref name="resource"/>);
    /// resources without a printer of their own get the default one: Name and Created At.
    /// </summary>
    public static TablePrinter For(string group, string resource) => (group, resource) switch
    {
        ("", "pods") => new(PodPrinter.Columns, PodPrinter.Cells, PodPrinter.Conditions),
        _ when BuiltInPrinters.Find(group, resource) is { } printer => new(printer.Columns, printer.Cells),
        _ => Default,
    };

    /// <summary>
    /// The printer of a custom resource from its CRD version's <c>additionalPrinterColumns</c>: Name, then the declared
    /// columns; a version declaring none gets a single Age column on <c>.metadata.creationTimestamp</c>. A column whose
    /// <c>jsonPath</c> does not parse makes the whole CRD fall back to the default printer, as apiextensions-apiserver does.
    /// </summary>
    public static TablePrinter ForCustomResource(JsonArray? additionalPrinterColumns) =>
        CustomResourcePrinter.Create(additionalPrinterColumns) is { } printer ? new(printer.Columns, printer.Cells) : Default;

    /// <summary>The default printer (apiserver's <c>defaultTableConvertor</c>): Name and Created At (RFC 3339).</summary>
    public static TablePrinter Default { get; } = new(
        [
            new("Name", "string", "name", ColumnDescriptions.Name, 0),
            new("Created At", "date", "", ColumnDescriptions.CreationTimestamp, 0),
        ],
        (obj, _) => [JsonFields.String(obj, "metadata", "name"), CreatedAt(obj)],
        rowsNullWhenEmpty: true);

    /// <summary>The cells of one object's row.</summary>
    public JsonArray Cells(JsonObject obj, DateTimeOffset now) => _cells(obj, now);

    /// <summary>
    /// The Table for <paramref name="objects"/> (the items of a list, or the one object of a get): <c>columnDefinitions</c>
    /// unless <see cref="TableRequest.NoHeaders"/>, one row per object with its cells and its <c>object</c> as
    /// <see cref="TableRequest.IncludeObject"/> asks, and the list metadata.
    /// </summary>
    public JsonObject ToTable(IReadOnlyList<JsonObject> objects, TableRequest request)
    {
        var metadata = new JsonObject();
        if (!string.IsNullOrEmpty(request.ResourceVersion))
        {
            metadata["resourceVersion"] = request.ResourceVersion;
        }

        if (!string.IsNullOrEmpty(request.Continue))
        {
            metadata["continue"] = request.Continue;
        }

        if (request.RemainingItemCount is { } remaining)
        {
            metadata["remainingItemCount"] = remaining;
        }

        JsonArray? rows = objects.Count == 0 && _rowsNullWhenEmpty ? null : [];
        foreach (var obj in objects)
        {
            var row = new JsonObject { ["cells"] = Cells(obj, request.Now) };
            if (_conditions(obj) is { } conditions)
            {
                row["conditions"] = conditions;
            }

            row["object"] = request.IncludeObject switch
            {
                TableIncludeObject.Object => obj.DeepClone(),
                TableIncludeObject.None => null,
                _ => new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = request.GroupVersion,
                    ["metadata"] = JsonFields.Object(obj, "metadata")?.DeepClone() ?? new JsonObject(),
                },
            };
            rows!.Add(row);
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = request.GroupVersion,
            ["metadata"] = metadata,
            ["columnDefinitions"] = request.NoHeaders ? null : new JsonArray([.. Columns.Select(column => (JsonNode)column.ToJson())]),
            ["rows"] = rows,
        };
    }

    /// <summary><c>creationTimestamp.UTC().Format(time.RFC3339)</c>; the zero time when there is none.</summary>
    internal static string CreatedAt(JsonObject obj) =>
        (JsonFields.Time(obj, "metadata", "creationTimestamp") ?? DateTimeOffset.MinValue).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
