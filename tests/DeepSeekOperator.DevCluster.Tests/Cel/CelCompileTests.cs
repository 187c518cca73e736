using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Cel;

namespace DeepSeekOperator.DevCluster.Tests.Cel;

public sealed class CelCompileTests
{
    private const string SpecSchema = """
        {"type": "object", "properties": {
           "replicas": {"type": "integer"}, "name": {"type": "string"},
           "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "string"}}},
           "tags": {"type": "array", "items": {"type": "string"}}}}
        """;

    private static string Errors(string rule)
    {
        var schema = JsonNode.Parse(SpecSchema)!.AsObject();
        schema["x-kubernetes-validations"] = new JsonArray(new JsonObject { ["rule"] = rule });
        return string.Join("\n", new CelValidationRules().Compile(schema, "spec.versions[0].schema.openAPIV3Schema.properties[spec]").Select(e => e.ToString()));
    }

    private static string Detail(string rule)
    {
        var errors = Errors(rule);
        const string prefix = "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ";
        Assert.StartsWith(prefix, errors, StringComparison.Ordinal);
        return errors[(errors.IndexOf(": compilation failed: ", StringComparison.Ordinal) + 2)..];
    }

    [Fact]
    public void UnknownIdentifier_IsReportedLikeCelGo() =>
        Assert.Equal(
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: \"foo > 1\": " +
            "compilation failed: ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo > 1\n | ^",
            Errors("foo > 1"));

    [Theory]
    [InlineData("self.nosuchfield == 1", "ERROR: <input>:1:5: undefined field 'nosuchfield'\n | self.nosuchfield == 1\n | ....^")]
    [InlineData("self.extra.unknown == 'x'", "ERROR: <input>:1:11: undefined field 'unknown'\n | self.extra.unknown == 'x'\n | ..........^")]
    [InlineData("self.replicas + 'a' == 1", "ERROR: <input>:1:15: found no matching overload for '_+_' applied to '(int, string)'\n | self.replicas + 'a' == 1\n | ..............^")]
    [InlineData("self.name.frobnicate()", "ERROR: <input>:1:21: undeclared reference to 'frobnicate' (in container '')\n | self.name.frobnicate()\n | ....................^")]
    [InlineData("self.name.startsWith(1)", "ERROR: <input>:1:21: found no matching overload for 'startsWith' applied to 'string.(int)'\n | self.name.startsWith(1)\n | ....................^")]
    [InlineData("self.replicas == 'one'", "ERROR: <input>:1:15: found no matching overload for '_==_' applied to '(int, string)'\n | self.replicas == 'one'\n | ..............^")]
    [InlineData("self.replicas.name == 1", "ERROR: <input>:1:14: type 'int' does not support field selection\n | self.replicas.name == 1\n | .............^")]
    [InlineData("has(self)", "ERROR: <input>:1:5: invalid argument to has() macro\n | has(self)\n | ....^")]
    [InlineData("self.tags.all(t.x, true)", "ERROR: <input>:1:16: argument must be a simple name\n | self.tags.all(t.x, true)\n | ...............^")]
    [InlineData("[1, 'a'].size() == 2", "ERROR: <input>:1:5: expected type 'int' but found 'string'\n | [1, 'a'].size() == 2\n | ....^")]
    [InlineData("self.name.matches('(?=a)')", "ERROR: <input>:1:19: invalid matches argument\n | self.name.matches('(?=a)')\n | ..................^")]
    [InlineData("self.name.matches('(a)\\\\1')", "ERROR: <input>:1:19: invalid matches argument\n | self.name.matches('(a)\\\\1')\n | ..................^")]
    [InlineData("duration('1x') > duration('1s')", "ERROR: <input>:1:10: invalid duration argument\n | duration('1x') > duration('1s')\n | .........^")]
    [InlineData("timestamp('yesterday') > timestamp('2024-01-01T00:00:00Z')", "ERROR: <input>:1:11: invalid timestamp argument\n | timestamp('yesterday') > timestamp('2024-01-01T00:00:00Z')\n | ..........^")]
    [InlineData("timestamp('2024-01-01T00:00:00Z').getHours('Europe/Paris') == 1", "ERROR: <input>:1:43: found no matching overload for 'getHours' applied to 'google.protobuf.Timestamp.(string)'\n | timestamp('2024-01-01T00:00:00Z').getHours('Europe/Paris') == 1\n | ..........................................^")]
    [InlineData("self.replicas ==", "ERROR: <input>:1:17: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | self.replicas ==\n | ................^")]
    [InlineData("self.replicas > 1 #", "ERROR: <input>:1:19: Syntax error: token recognition error at: '#'\n | self.replicas > 1 #\n | ..................^")]
    [InlineData("self.name.?x == 'a'", "ERROR: <input>:1:11: unsupported syntax '.?'\n | self.name.?x == 'a'\n | ..........^")]
    [InlineData("self.tags.sortBy(t, t).size() > 0", "ERROR: <input>:1:17: undeclared reference to 'sortBy' (in container '')\n | self.tags.sortBy(t, t).size() > 0\n | ................^\n" +
        "ERROR: <input>:1:18: undeclared reference to 't' (in container '')\n | self.tags.sortBy(t, t).size() > 0\n | .................^\n" +
        "ERROR: <input>:1:21: undeclared reference to 't' (in container '')\n | self.tags.sortBy(t, t).size() > 0\n | ....................^")]
    [InlineData("9223372036854775808 > 0", "ERROR: <input>:1:1: invalid int literal\n | 9223372036854775808 > 0\n | ^")]
    public void UnsupportedOrIllTypedRules_FailToCompile(string rule, string expected) =>
        Assert.Equal(expected, Detail(rule)[("compilation failed: ").Length..]);

    [Fact]
    public void NonBooleanRule_IsRejected() =>
        Assert.EndsWith(": Invalid value: \"self.replicas + 1\": cel expression must evaluate to a bool", Errors("self.replicas + 1"), StringComparison.Ordinal);

    [Fact]
    public void OptionalOldSelf_IsRejectedAtTheField()
    {
        var schema = JsonNode.Parse("""{"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "optionalOldSelf": true}]}""")!.AsObject();

        var error = Assert.Single(new CelValidationRules().Compile(schema, "s"));

        Assert.Equal("s.x-kubernetes-validations[0].optionalOldSelf", error.Field);
    }

    [Fact]
    public void InvalidFieldPathAndReason_AreReported()
    {
        var schema = JsonNode.Parse("""{"type": "object", "properties": {"a": {"type": "string"}}, "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".b", "reason": "Nope"}]}""")!.AsObject();

        Assert.Equal(
            [
                "s.x-kubernetes-validations[0].reason: Unsupported value: \"Nope\": supported values: \"FieldValueRequired\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueDuplicate\"",
                "s.x-kubernetes-validations[0].fieldPath: Invalid value: \".b\": fieldPath must be a valid path",
            ],
            new CelValidationRules().Compile(schema, "s").Select(e => e.ToString()));
    }

    [Fact]
    public void MultilineRule_PointsAtTheRightLine()
    {
        var detail = Detail("self.replicas > 0 &&\n  self.bogus");

        Assert.Equal("compilation failed: ERROR: <input>:2:7: undefined field 'bogus'\n |   self.bogus\n | ......^", detail);
    }
}
