using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Walks a value and evaluates the <c>x-kubernetes-validations</c> rules of every schema node on the way, as
/// apiextensions' CEL validator does: a node's own rules first, then its members (properties by name, additional
/// properties by key) and items; null values are not evaluated. <c>oldSelf</c> is the correlated old value. On an
/// update, errors of rules that do not use <c>oldSelf</c> are dropped where the value did not change (ratcheting);
/// defaults at CRD creation are checked without ratcheting.
/// </summary>
internal static class RuleEvaluation
{
    /// <summary>Evaluates every rule under <paramref name="schema"/> for <paramref name="value"/> at <paramref name="path"/>.</summary>
    public static void Evaluate(SchemaNode schema, JsonNode? value, Correlation old, string path, IValidationRules rules, bool ratchet, List<FieldError> errors)
    {
        if (!schema.SubtreeHasRules || value is null)
        {
            return;
        }

        if (schema.HasRules)
        {
            var found = rules.Evaluate(schema.Source, value, old.Value, old.Exists, path);
            var unchanged = ratchet && old.Exists && !schema.HasTransitionRules && JsonValues.GoEquals(old.Value, value);
            if (!unchanged)
            {
                errors.AddRange(found);
            }
        }

        switch (value)
        {
            case JsonArray array when schema.Items is { } items:
                for (var i = 0; i < array.Count; i++)
                {
                    Evaluate(items, array[i], old.Item(schema, array[i], includeSets: false), FieldPath.Index(path, i), rules, ratchet, errors);
                }

                break;
            case JsonObject obj:
                if (schema.AdditionalProperties is { } additional)
                {
                    foreach (var (key, member) in obj)
                    {
                        if (schema.Property(key) is null)
                        {
                            Evaluate(additional, member, old.Member(schema, key), FieldPath.Key(path, key), rules, ratchet, errors);
                        }
                    }
                }

                foreach (var (key, member) in obj)
                {
                    if (schema.Property(key) is { } property)
                    {
                        Evaluate(property, member, old.Member(schema, key), FieldPath.Child(path, key), rules, ratchet, errors);
                    }
                }

                break;
        }
    }
}
