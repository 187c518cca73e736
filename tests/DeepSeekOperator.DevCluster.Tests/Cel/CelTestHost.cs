using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Cel;

namespace DeepSeekOperator.DevCluster.Tests.Cel;

/// <summary>Compiles and runs expressions against a schema-typed <c>self</c>, rendering results compactly for table tests.</summary>
internal static class CelTestHost
{
    public static string Run(string expression, string? selfJson = null, string? schemaJson = null)
    {
        var schema = schemaJson is null ? null : JsonNode.Parse(schemaJson)!.AsObject();
        var variables = new Dictionary<string, CelType>(StringComparer.Ordinal)
        {
            ["self"] = CelType.FromSchema(schema) ?? CelType.Dyn,
        };
        var program = CelProgram.Compile(expression, variables, out var error);
        if (program is null)
        {
            return "compile: " + error;
        }

        var self = CelJson.ToValue(selfJson is null ? null : JsonNode.Parse(selfJson), schema);
        return Render(program.Evaluate(new Dictionary<string, object> { ["self"] = self }));
    }

    public static string Render(object value) => value switch
    {
        CelError e => "error: " + e.Message,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        ulong u => u.ToString(CultureInfo.InvariantCulture) + "u",
        double d => CelValues.FormatDouble(d) + "d",
        string s => "'" + s + "'",
        CelBytes b => "b'" + Convert.ToHexString(b.Value) + "'",
        CelNull => "null",
        CelList l => "[" + string.Join(", ", l.Items.Select(Render)) + "]",
        CelMap m => "{" + string.Join(", ", m.Entries.Select(e => Render(e.Key) + ": " + Render(e.Value))) + "}",
        CelDuration d => "duration(" + CelValues.FormatDuration(d) + ")",
        CelTimestamp t => "timestamp(" + CelValues.FormatTimestamp(t) + ")",
        CelTypeValue t => "type(" + t.Name + ")",
        _ => value.ToString() ?? "",
    };
}
