using System.Text.Json.Nodes;
using static DeepSeekOperator.DevCluster.Internal.Schema.SchemaJson;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The per-node rules of apiextensions' <c>ValidateCustomResourceDefinitionOpenAPISchema</c> for v1 CRDs: unsupported
/// keywords, defaults where they are forbidden, list and map types, <c>x-kubernetes-validations</c> entries, and the
/// compilation of rules on nodes whose subtree has no other error. Schema errors of the whole tree come first, then
/// the errors of the rules.
/// </summary>
/// <param name="rules">Compiles the rules.</param>
internal sealed class OpenApiSchemaCheck(IValidationRules rules)
{
    private static readonly string[] OpenApiTypes = ["array", "boolean", "integer", "number", "object", "string"];
    private static readonly string[] ValidationReasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];

    private readonly List<FieldError> schemaErrors = [];
    private readonly List<FieldError> ruleErrors = [];

    /// <summary>Checks the schema at <paramref name="path"/>; its rules compile only when <paramref name="compileRules"/> (a sound structural schema).</summary>
    public static IReadOnlyList<FieldError> Check(JsonObject schema, string path, IValidationRules rules, bool compileRules)
    {
        var check = new OpenApiSchemaCheck(rules);
        check.Node(schema, path, new Context(true, string.Empty, false, null, compileRules), isRoot: true);
        return [.. check.schemaErrors, .. check.ruleErrors];
    }

    private void Node(JsonObject s, string path, Context context, bool isRoot)
    {
        var errorsBefore = schemaErrors.Count;
        var type = Text(s, "type");
        var embedded = Flag(s, "x-kubernetes-embedded-resource");
        NodeKeywords(s, path, type, embedded, context);
        if (Flag(s, "uniqueItems"))
        {
            Forbid(Child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
        }

        if (Has(s, "additionalProperties"))
        {
            var additional = s["additionalProperties"] as JsonObject;
            if (Map(s, "properties").Any() && (additional is not null || !Flag(s, "additionalProperties")))
            {
                Forbid(Child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive");
            }

            if (additional is not null)
            {
                var sub = context.InsideResourceMeta ? context.WithForbiddenDefaults("inside additionalProperties applying to object metadata") : context;
                Node(additional, Child(path, "additionalProperties"), sub, false);
            }
        }

        var mapCorrelatable = Text(s, "x-kubernetes-map-type") is "" or "granular";
        foreach (var (name, property) in Map(s, "properties"))
        {
            var sub = mapCorrelatable ? context : context.WithUncorrelatable(path);
            if ((isRoot || embedded) && name is "metadata" or "kind" or "apiVersion")
            {
                sub = sub with { InsideResourceMeta = true };
                if (isRoot)
                {
                    sub = sub.WithForbiddenDefaults("in top-level " + name);
                }
            }

            Node(property, Key(path, "properties", name), sub, false);
        }

        var nested = context with { CompileRules = false };
        if (s["not"] is JsonObject not)
        {
            Node(not, Child(path, "not"), nested, false);
        }

        foreach (var junctor in new[] { "allOf", "oneOf", "anyOf" })
        {
            var branches = List(s, junctor);
            for (var i = 0; i < branches.Count; i++)
            {
                Node(branches[i], Index(path, junctor, i), nested, false);
            }
        }

        foreach (var (name, definition) in Map(s, "definitions"))
        {
            Node(definition, Key(path, "definitions", name), nested, false);
        }

        var listType = s["x-kubernetes-list-type"] is null ? null : Text(s, "x-kubernetes-list-type");
        var itemsContext = listType == "map" ? context : context.WithUncorrelatable(path);
        switch (s["items"])
        {
            case JsonObject items:
                Node(items, Child(path, "items"), itemsContext, false);
                break;
            case JsonArray itemList:
                for (var i = 0; i < itemList.Count; i++)
                {
                    Node(itemList[i]!.AsObject(), Index(path, "items", i), itemsContext, false);
                }

                break;
        }

        foreach (var (name, dependency) in Map(s, "dependencies"))
        {
            Node(dependency, Key(path, "dependencies", name), nested, false);
        }

        if (s["x-kubernetes-preserve-unknown-fields"] is JsonValue preserve && !Flag(s, "x-kubernetes-preserve-unknown-fields") && JsonValues.KindOf(preserve) == JsonKind.Boolean)
        {
            schemaErrors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "x-kubernetes-preserve-unknown-fields"), "false", "must be true or undefined"));
        }

        ListAndMapTypes(s, path, type, listType);
        if (s["x-kubernetes-validations"] is JsonArray { Count: > 0 } validations)
        {
            Rules(s, validations, path, context, errorsBefore);
        }
    }

    private void NodeKeywords(JsonObject s, string path, string type, bool embedded, Context context)
    {
        if (type.Length > 0 && !OpenApiTypes.Contains(type))
        {
            schemaErrors.Add(NotSupported(Child(path, "type"), type, OpenApiTypes));
        }

        if (Has(s, "default") && !context.AllowDefaults)
        {
            Forbid(Child(path, "default"), "must not be set" + (context.DisallowReason.Length > 0 ? " " + context.DisallowReason : string.Empty));
        }

        if (Text(s, "id").Length > 0)
        {
            Forbid(Child(path, "id"), "id is not supported");
        }

        if (Has(s, "additionalItems"))
        {
            Forbid(Child(path, "additionalItems"), "additionalItems is not supported");
        }

        if (Map(s, "patternProperties").Any())
        {
            Forbid(Child(path, "patternProperties"), "patternProperties is not supported");
        }

        if (Map(s, "definitions").Any())
        {
            Forbid(Child(path, "definitions"), "definitions is not supported");
        }

        if (Has(s, "dependencies"))
        {
            Forbid(Child(path, "dependencies"), "dependencies is not supported");
        }

        if (Has(s, "$ref"))
        {
            Forbid(Child(path, "$ref"), "$ref is not supported");
        }

        if (type == "null")
        {
            Forbid(Child(path, "type"), "type cannot be set to null, use nullable as an alternative");
        }

        if (s["items"] is JsonArray { Count: > 0 })
        {
            Forbid(Child(path, "items"), "items must be a schema object and not an array");
        }

        if (context.InsideResourceMeta && embedded)
        {
            Forbid(Child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta");
        }
    }

    private void ListAndMapTypes(JsonObject s, string path, string type, string? listType)
    {
        var mapType = s["x-kubernetes-map-type"] is null ? null : Text(s, "x-kubernetes-map-type");
        if (mapType is not null && type != "object")
        {
            schemaErrors.Add(type.Length == 0
                ? FieldError.Required(Child(path, "type"), "must be object if x-kubernetes-map-type is specified")
                : FieldError.Invalid(Child(path, "type"), type, "must be object if x-kubernetes-map-type is specified"));
        }

        if (mapType is not null and not "atomic" and not "granular")
        {
            schemaErrors.Add(NotSupported(Child(path, "x-kubernetes-map-type"), mapType, ["atomic", "granular"]));
        }

        var items = s["items"] as JsonObject;
        if (listType is not null && type != "array")
        {
            schemaErrors.Add(type.Length == 0
                ? FieldError.Required(Child(path, "type"), "must be array if x-kubernetes-list-type is specified")
                : FieldError.Invalid(Child(path, "type"), type, "must be array if x-kubernetes-list-type is specified"));
        }
        else if (listType == "set" && items is not null)
        {
            var itemListType = items["x-kubernetes-list-type"] is null ? null : Text(items, "x-kubernetes-list-type");
            switch (Text(items, "type"))
            {
                case "array" when itemListType is not null and not "atomic":
                    schemaErrors.Add(FieldError.Invalid(Child(Child(path, "items"), "x-kubernetes-list-type"), itemListType, "must be atomic as item of a list with x-kubernetes-list-type=set"));
                    break;
                case "object" when Text(items, "x-kubernetes-map-type") != "atomic":
                    schemaErrors.Add(FieldError.Invalid(Child(Child(path, "items"), "x-kubernetes-map-type"), itemListType ?? "null", "must be atomic as item of a list with x-kubernetes-list-type=set"));
                    break;
            }
        }

        if (listType is not null and not "atomic" and not "set" and not "map")
        {
            schemaErrors.Add(NotSupported(Child(path, "x-kubernetes-list-type"), listType, ["atomic", "set", "map"]));
        }

        var keys = Strings(s, "x-kubernetes-list-map-keys");
        if (keys.Count > 0)
        {
            if (listType is null)
            {
                schemaErrors.Add(FieldError.Required(Child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"));
            }
            else if (listType != "map")
            {
                schemaErrors.Add(FieldError.Invalid(Child(path, "x-kubernetes-list-type"), listType, "must be map if x-kubernetes-list-map-keys is non-empty"));
            }
        }

        if (listType == "map")
        {
            MapList(s, path, keys, items);
        }

        if (items is not null && listType is "set" or "map")
        {
            if (Flag(items, "nullable"))
            {
                Forbid(Child(Child(path, "items"), "nullable"), "cannot be nullable when x-kubernetes-list-type is " + listType);
            }

            if (listType == "map")
            {
                var required = Strings(items, "required");
                foreach (var key in keys)
                {
                    if (Property(items, key) is not { } property)
                    {
                        continue;
                    }

                    var keyPath = Key(Child(path, "items"), "properties", key);
                    if (!required.Contains(key) && !Has(property, "default"))
                    {
                        schemaErrors.Add(FieldError.Required(Child(keyPath, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
                    }

                    if (Flag(property, "nullable"))
                    {
                        Forbid(Child(keyPath, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable");
                    }
                }
            }
        }
    }

    private void MapList(JsonObject s, string path, IReadOnlyList<string> keys, JsonObject? items)
    {
        if (keys.Count == 0)
        {
            schemaErrors.Add(FieldError.Required(Child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
        }

        if (s["items"] is null)
        {
            schemaErrors.Add(FieldError.Required(Child(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
        }
        else if (items is null)
        {
            schemaErrors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "items"), GoText.Value(s["items"]), "must only have a single schema if x-kubernetes-list-type is map"));
        }

        if (items is null)
        {
            return;
        }

        var itemType = Text(items, "type");
        if (itemType != "object")
        {
            schemaErrors.Add(FieldError.Invalid(Child(Child(path, "items"), "type"), itemType, "must be object if parent array's x-kubernetes-list-type is map"));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (Property(items, key) is { } property)
            {
                if (Text(property, "type") is "array" or "object")
                {
                    schemaErrors.Add(FieldError.Invalid(Child(Key(Child(path, "items"), "properties", key), "type"), itemType, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
                }
            }
            else
            {
                schemaErrors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "x-kubernetes-list-map-keys"), GoText.StringSlice(keys), "entries must all be names of item properties"));
            }

            if (!seen.Add(key))
            {
                schemaErrors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "x-kubernetes-list-map-keys"), GoText.StringSlice(keys), "must not contain duplicate entries"));
            }
        }
    }

    private void Rules(JsonObject s, JsonArray validations, string path, Context context, int errorsBefore)
    {
        for (var i = 0; i < validations.Count; i++)
        {
            var rule = validations[i]!.AsObject();
            var at = Index(path, "x-kubernetes-validations", i);
            var text = Text(rule, "rule");
            var message = Text(rule, "message");
            var messageExpression = Text(rule, "messageExpression");
            var fieldPath = Text(rule, "fieldPath");
            if (text.Trim().Length == 0)
            {
                schemaErrors.Add(FieldError.Required(Child(at, "rule"), "rule is not specified"));
            }
            else if (message.Length > 0 && message.Trim().Length == 0)
            {
                schemaErrors.Add(FieldError.Invalid(Child(at, "message"), message, "message must be non-empty if specified"));
            }
            else if (HasNewlines(message.Trim()))
            {
                schemaErrors.Add(FieldError.Invalid(Child(at, "message"), message, "message must not contain line breaks"));
            }
            else if (HasNewlines(text.Trim()) && message.Trim().Length == 0)
            {
                schemaErrors.Add(FieldError.Required(Child(at, "message"), "message must be specified if rule contains line breaks"));
            }

            if (messageExpression.Length > 0 && messageExpression.Trim().Length == 0)
            {
                schemaErrors.Add(FieldError.Required(Child(at, "messageExpression"), "messageExpression must be non-empty if specified"));
            }

            if (rule["reason"] is not null && !ValidationReasons.Contains(Text(rule, "reason")))
            {
                schemaErrors.Add(NotSupported(Child(at, "reason"), Text(rule, "reason"), ValidationReasons));
            }

            if (fieldPath.Length > 0 && fieldPath.Trim().Length == 0)
            {
                schemaErrors.Add(FieldError.Invalid(Child(at, "fieldPath"), fieldPath, "fieldPath must be non-empty if specified"));
            }

            if (HasNewlines(fieldPath))
            {
                schemaErrors.Add(FieldError.Invalid(Child(at, "fieldPath"), fieldPath, "fieldPath must not contain line breaks"));
            }

            if (fieldPath.Length > 0 && !RuleFieldPath.IsValid(s, fieldPath))
            {
                schemaErrors.Add(FieldError.Invalid(Child(at, "fieldPath"), fieldPath, "fieldPath must be a valid path"));
            }
        }

        if (schemaErrors.Count != errorsBefore || !context.CompileRules)
        {
            return;
        }

        ruleErrors.AddRange(rules.Compile(s, path));
        for (var i = 0; i < validations.Count; i++)
        {
            var rule = validations[i]!.AsObject();
            var at = Index(path, "x-kubernetes-validations", i);
            var text = Text(rule, "rule");
            if (RuleText.UsesOldSelf(text))
            {
                if (context.Uncorrelatable is { } uncorrelatable)
                {
                    ruleErrors.Add(FieldError.Invalid(Child(at, "rule"), text, "oldSelf cannot be used on the uncorrelatable portion of the schema within " + uncorrelatable));
                }
            }
            else if (rule["optionalOldSelf"] is JsonValue optional)
            {
                ruleErrors.Add(new FieldError(FieldErrorType.Invalid, Child(at, "optionalOldSelf"), GoText.Value(optional), "may not be set if oldSelf is not used in rule"));
            }
        }
    }

    private void Forbid(string path, string detail) => schemaErrors.Add(FieldError.Forbidden(path, detail));

    private static FieldError NotSupported(string path, string value, IEnumerable<string> supported) =>
        new(FieldErrorType.NotSupported, path, GoText.Quote(value), "supported values: " + string.Join(", ", supported.Select(GoText.Quote)));

    private static bool HasNewlines(string text) => text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal);

    /// <summary>What the position in the schema allows, as apiextensions' <c>specStandardValidator</c> carries it down.</summary>
    /// <param name="AllowDefaults">Whether <c>default</c> may be set here.</param>
    /// <param name="DisallowReason">Why not, appended to <c>must not be set</c>.</param>
    /// <param name="InsideResourceMeta">Whether this is inside the type or object metadata of a resource.</param>
    /// <param name="Uncorrelatable">The path of the highest ancestor whose old and new values cannot be correlated, where <c>oldSelf</c> cannot be used.</param>
    /// <param name="CompileRules">Whether rules here are compiled (structural nodes of a sound schema).</param>
    private sealed record Context(bool AllowDefaults, string DisallowReason, bool InsideResourceMeta, string? Uncorrelatable, bool CompileRules)
    {
        public Context WithForbiddenDefaults(string reason) => this with { AllowDefaults = false, DisallowReason = reason };

        public Context WithUncorrelatable(string path) => Uncorrelatable is null ? this with { Uncorrelatable = path } : this;
    }
}
