using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// apiextensions-apiserver's <c>tableconvertor</c>: the Table of a custom resource from its CRD version's
/// <c>additionalPrinterColumns</c>.
/// </summary>
internal static class CustomResourcePrinter
{
    /// <summary>
    /// The printer for the columns (an absent or empty list means the single default Age column); null when a column's
    /// <c>jsonPath</c> does not parse, in which case Kubernetes falls back to the default printer.
    /// </summary>
    public static ResourcePrinter? Create(JsonArray? additionalPrinterColumns)
    {
        var declared = additionalPrinterColumns is { Count: > 0 }
            ? additionalPrinterColumns
            : [new JsonObject
            {
                ["name"] = "Age",
                ["type"] = "date",
                ["description"] = ColumnDescriptions.CreationTimestamp,
                ["jsonPath"] = ".metadata.creationTimestamp",
            }];

        var columns = new List<TableColumnDefinition> { new("Name", "string", "name", ColumnDescriptions.Name, 0) };
        var paths = new List<JsonPath>();
        foreach (var column in declared)
        {
            var jsonPath = JsonFields.String(column, "jsonPath");
            if (!JsonPath.TryParse("{" + jsonPath + "}", out var path, out _))
            {
                return null;
            }

            var description = JsonFields.String(column, "description");
            columns.Add(new TableColumnDefinition(
                JsonFields.String(column, "name"),
                JsonFields.String(column, "type"),
                JsonFields.String(column, "format"),
                description.Length > 0 ? description : "Custom resource definition column (in JSONPath format): " + jsonPath,
                (int)JsonFields.Integer(column, "priority")));
            paths.Add(path);
        }

        return new ResourcePrinter(columns, (obj, now) =>
        {
            var cells = new JsonArray { JsonFields.String(obj, "metadata", "name") };
            for (var i = 0; i < paths.Count; i++)
            {
                cells.Add(Cell(paths[i], columns[i + 1].Type, obj, now));
            }

            return cells;
        });
    }

    // The first value the path selects, typed as the column says; null when there is none or it does not fit the type.
    private static JsonNode? Cell(JsonPath path, string type, JsonObject obj, DateTimeOffset now)
    {
        if (!path.TryFindResults(obj, allowMissingKeys: true, out var results, out _) || results.Count == 0 || results[0].Count == 0)
        {
            return null;
        }

        var value = results[0][0];
        if (type == "string")
        {
            // Go prints a JSON null held in an interface{} as an invalid value.
            return value is null ? "<no value>" : JsonPath.PrintResults([value]);
        }

        if (value is not JsonValue scalar)
        {
            return null;
        }

        switch (type, scalar.GetValueKind())
        {
            case ("integer", JsonValueKind.Number):
                var number = JsonValues.ReadNumber(scalar);
                return number.IsInteger ? number.Integer : (long)number.Float;
            case ("number", JsonValueKind.Number):
                return JsonValues.ReadNumber(scalar).AsDouble;
            case ("boolean", JsonValueKind.True or JsonValueKind.False):
                return scalar.GetValue<bool>();
            case ("date", JsonValueKind.String):
                var text = scalar.GetValue<string>();
                if (text.Length == 0 || text == "null")
                {
                    return "<unknown>";
                }

                return DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFFK"], CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal, out var time)
                    ? HumanDuration.Since(time, now)
                    : "<invalid>";
            default:
                return null;
        }
    }
}
