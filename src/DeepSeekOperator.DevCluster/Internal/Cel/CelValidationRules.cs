using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// <c>x-kubernetes-validations</c> with Kubernetes' semantics: each rule is compiled once per schema node and evaluated
/// on every write, reporting failures the way kube-apiserver's <c>apiextensions-apiserver</c> does.
/// </summary>
internal sealed class CelValidationRules : IValidationRules
{
    private const int MaxMessageExpressionLength = 5 * 1024;

    private static readonly string[] Reasons = ["FieldValueRequired", "FieldValueForbidden", "FieldValueInvalid", "FieldValueDuplicate"];

    private readonly ConditionalWeakTable<JsonObject, CompiledNode> _cache = [];

    /// <inheritdoc/>
    public IReadOnlyList<FieldError> Compile(JsonObject schema, string schemaPath)
    {
        var node = Get(schema, schemaPath.EndsWith("openAPIV3Schema", StringComparison.Ordinal));
        return [.. node.Errors.Select(e => e with { Field = schemaPath + "." + e.Field })];
    }

    /// <inheritdoc/>
    public IReadOnlyList<FieldError> Evaluate(JsonObject schema, JsonNode? value, JsonNode? oldValue, bool hasOld, string path)
    {
        if (value is null || (value is JsonValue v && v.GetValueKind() == JsonValueKind.Null))
        {
            // Kubernetes validates only non-null values.
            return [];
        }

        var node = Get(schema, path.Length == 0);
        if (node.Rules.Count == 0)
        {
            return [];
        }

        var typeName = CelSchema.Text(schema, "type") ?? "";
        var errors = new List<FieldError>();
        var self = CelJson.ToValue(value, schema);
        var withOld = hasOld ? new Dictionary<string, object> { ["self"] = self, ["oldSelf"] = CelJson.ToValue(oldValue, schema) } : null;
        var withoutOld = new Dictionary<string, object> { ["self"] = self };
        foreach (var rule in node.Rules)
        {
            if (rule.Program is null)
            {
                if (rule.CompileError is not null)
                {
                    errors.Add(FieldError.Invalid(path, typeName, "rule compile error: " + rule.CompileError));
                }

                continue;
            }

            if (rule.Program.UsesOldSelf && withOld is null)
            {
                // Transition rules run only when there is an old value to compare with.
                continue;
            }

            var variables = withOld ?? withoutOld;
            var result = rule.Program.Evaluate(variables);
            if (result is CelError error)
            {
                errors.Add(FieldError.Invalid(path, typeName, error.Message.StartsWith(CelLibrary.NoSuchOverload, StringComparison.Ordinal)
                    ? $"'{error.Message}': call arguments did not match a supported operator, function or macro signature for rule: {rule.ErrorString}"
                    : $"{error.Message} evaluating rule: {rule.ErrorString}"));
                continue;
            }

            if (result is true)
            {
                continue;
            }

            var field = rule.FieldPath is null ? path : path.Length == 0 ? rule.FieldPath : path + "." + rule.FieldPath;
            var detail = MessageFromExpression(rule, variables) ?? rule.MessageOrDefault;
            errors.Add(rule.Reason switch
            {
                "FieldValueForbidden" => FieldError.Forbidden(field, detail),
                "FieldValueRequired" => FieldError.Required(field, detail),
                "FieldValueDuplicate" => FieldError.Duplicate(field, JsonValue.Create(typeName)),
                _ => FieldError.Invalid(field, typeName, detail),
            });
        }

        return errors;
    }

    /// <summary>The evaluated <c>messageExpression</c>, or null when it fails or gives no usable message (Kubernetes then falls back).</summary>
    private static string? MessageFromExpression(CompiledRule rule, IReadOnlyDictionary<string, object> variables)
    {
        if (rule.MessageExpression?.Evaluate(variables) is not string message)
        {
            return null;
        }

        message = message.Trim();
        return message.Length == 0 || message.Contains('\n', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(message) > MaxMessageExpressionLength
            ? null
            : message;
    }

    private CompiledNode Get(JsonObject schema, bool isResourceRoot) =>
        _cache.GetValue(schema, s => CompileNode(s, isResourceRoot));

    private static CompiledNode CompileNode(JsonObject schema, bool isResourceRoot)
    {
        if (schema["x-kubernetes-validations"] is not JsonArray list || list.Count == 0)
        {
            return new CompiledNode([], []);
        }

        var errors = new List<FieldError>();
        var selfType = CelType.FromSchema(schema, isResourceRoot);
        if (selfType is null)
        {
            var detail = "failed to compile x-kubernetes-validations rules: rule declared on schema that does not support validation rules " +
                $"type: '{CelSchema.Text(schema, "type")}' x-kubernetes-preserve-unknown-fields: '{(CelSchema.Flag(schema, "x-kubernetes-preserve-unknown-fields") ? "true" : "false")}'";
            return new CompiledNode([], [new FieldError(FieldErrorType.Internal, "x-kubernetes-validations", null, detail)]);
        }

        var variables = new Dictionary<string, CelType>(StringComparer.Ordinal) { ["self"] = selfType, ["oldSelf"] = selfType };
        var rules = new List<CompiledRule>();
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"x-kubernetes-validations[{i}]";
            var entry = list[i] as JsonObject ?? [];
            var text = CelSchema.Text(entry, "rule") ?? "";
            var message = CelSchema.Text(entry, "message");
            var messageExpression = CelSchema.Text(entry, "messageExpression");
            var reason = CelSchema.Text(entry, "reason");
            var fieldPath = CelSchema.Text(entry, "fieldPath");
            var optionalOldSelf = CelSchema.Flag(entry, "optionalOldSelf");
            var ruleErrorString = string.IsNullOrEmpty(message) ? text.Trim() : message.Trim();

            if (text.Trim().Length == 0)
            {
                errors.Add(FieldError.Required(at + ".rule", "rule is not specified"));
                rules.Add(new CompiledRule(null, null, null, null, null, ruleErrorString, message));
                continue;
            }

            if (!string.IsNullOrEmpty(message) && message.Trim().Length == 0)
            {
                errors.Add(FieldError.Invalid(at + ".message", message, "message must be non-empty if specified"));
            }
            else if (message is not null && message.Contains('\n', StringComparison.Ordinal))
            {
                errors.Add(FieldError.Invalid(at + ".message", message, "message must not contain line breaks"));
            }

            if (reason is not null && !Reasons.Contains(reason))
            {
                errors.Add(FieldError.NotSupported(at + ".reason", JsonValue.Create(reason), Reasons));
            }

            string? normalizedFieldPath = null;
            if (!string.IsNullOrEmpty(fieldPath))
            {
                normalizedFieldPath = CelFieldPath.Normalize(fieldPath, schema);
                if (normalizedFieldPath is null)
                {
                    errors.Add(FieldError.Invalid(at + ".fieldPath", fieldPath, "fieldPath must be a valid path"));
                }
            }

            var program = CelProgram.Compile(text, variables, out var compileError);
            if (program is null)
            {
                compileError = "compilation failed: " + compileError;
            }
            else if (program.ResultType.Kind != CelKind.Bool)
            {
                compileError = "cel expression must evaluate to a bool";
                program = null;
            }

            if (compileError is not null)
            {
                errors.Add(FieldError.Invalid(at + ".rule", text, compileError));
            }
            else if (optionalOldSelf)
            {
                errors.Add(program!.UsesOldSelf
                    ? FieldError.Invalid(at + ".optionalOldSelf", JsonValue.Create(true), "optionalOldSelf is not supported: oldSelf cannot be evaluated as an optional value")
                    : FieldError.Invalid(at + ".optionalOldSelf", JsonValue.Create(true), "may not be set if oldSelf is not used in rule"));
                program = null;
            }

            CelProgram? messageProgram = null;
            if (!string.IsNullOrWhiteSpace(messageExpression))
            {
                messageProgram = CelProgram.Compile(messageExpression, variables, out var messageError);
                if (messageProgram is null)
                {
                    errors.Add(FieldError.Invalid(at + ".messageExpression", messageExpression, "messageExpression compilation failed: " + messageError));
                }
                else if (messageProgram.ResultType.Kind != CelKind.String)
                {
                    errors.Add(FieldError.Invalid(at + ".messageExpression", messageExpression, "must evaluate to a string"));
                    messageProgram = null;
                }
            }

            rules.Add(new CompiledRule(program, compileError, messageProgram, normalizedFieldPath, reason, ruleErrorString, message));
        }

        return new CompiledNode(rules, errors);
    }

    /// <summary>The compiled rules of one schema node, and the errors to report when the CRD is created (paths relative to the node).</summary>
    private sealed record CompiledNode(IReadOnlyList<CompiledRule> Rules, IReadOnlyList<FieldError> Errors);

    /// <summary>One compiled rule; <see cref="ErrorString"/> is the message or else the rule, as Kubernetes names a rule in errors.</summary>
    private sealed record CompiledRule(
        CelProgram? Program,
        string? CompileError,
        CelProgram? MessageExpression,
        string? FieldPath,
        string? Reason,
        string ErrorString,
        string? Message)
    {
        public string MessageOrDefault => string.IsNullOrEmpty(Message) ? "failed rule: " + ErrorString : Message.Trim();
    }
}
