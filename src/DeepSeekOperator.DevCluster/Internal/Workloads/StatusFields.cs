using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>Writes status fields as the Go types marshal them, and compares statuses by value.</summary>
internal static class StatusFields
{
    /// <summary>Sets a count; a field tagged <c>omitempty</c> in Go is left out when it is zero.</summary>
    public static void SetCount(JsonObject status, string field, long value, bool omitZero = true)
    {
        if (value == 0 && omitZero)
        {
            status.Remove(field);
        }
        else
        {
            status[field] = value;
        }
    }

    /// <summary>Whether two JSON values are equal, whatever the order of keys or the form numbers were held in.</summary>
    public static bool Same(JsonNode? a, JsonNode? b) => TemplateHash.CanonicalJson(a) == TemplateHash.CanonicalJson(b);

    /// <summary>The condition of <paramref name="type"/> in <c>status.conditions</c>, if any.</summary>
    public static JsonObject? Condition(JsonObject? status, string type) =>
        (status?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.String(c["type"]) == type);

    /// <summary>Removes the condition of <paramref name="type"/>, and the list when it empties.</summary>
    public static void RemoveCondition(JsonObject status, string type)
    {
        if (status["conditions"] is not JsonArray conditions)
        {
            return;
        }

        foreach (var condition in conditions.OfType<JsonObject>().Where(c => Json.String(c["type"]) == type).ToList())
        {
            conditions.Remove(condition);
        }

        if (conditions.Count == 0)
        {
            status.Remove("conditions");
        }
    }
}
