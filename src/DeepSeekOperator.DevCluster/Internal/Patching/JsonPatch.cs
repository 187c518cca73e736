using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// JSON patch (RFC 6902, <c>application/json-patch+json</c>) as kube-apiserver applies it with evanphx/json-patch v4:
/// a body that does not decode is a 400, an operation that does not apply is a 422 whose cause carries the library's
/// message (<c>testing value /spec/replicas failed: test failed</c>), and more than 10000 operations is a 413.
/// The library's quirks are kept: <c>replace</c> of a missing object member adds it, negative array indices count
/// from the end, and <c>copy</c> from a missing member copies <c>null</c>.
/// </summary>
internal static class JsonPatch
{
    /// <summary>The most operations one patch may hold (<c>maxJSONPatchOperations</c>).</summary>
    public const int MaxOperations = 10000;

    private const string MissingValue = "missing value";
    private const string InvalidIndex = "invalid index referenced";

    /// <summary>Decodes a patch body and applies it to a copy of <paramref name="document"/>.</summary>
    public static JsonNode Apply(JsonNode document, string patch)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonValues.Parse(patch);
        }
        catch (FormatException e)
        {
            throw PatchException.BadRequest(e.Message);
        }

        return Apply(document, parsed);
    }

    /// <summary>Applies a decoded patch (a JSON array of operations) to a copy of <paramref name="document"/>.</summary>
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        var operations = Decode(patch);
        if (operations.Count > MaxOperations)
        {
            throw new PatchException(
                413,
                "RequestEntityTooLarge",
                $"Request entity too large: The allowed maximum operations in a JSON patch is {MaxOperations}, got {operations.Count}");
        }

        var root = document.DeepClone();
        foreach (var operation in operations)
        {
            var error = Run(root, operation);
            if (error is not null)
            {
                throw PatchException.Unprocessable(error);
            }
        }

        return root;
    }

    private static List<JsonObject?> Decode(JsonNode? patch)
    {
        if (JsonValues.IsNull(patch))
        {
            return [];
        }

        if (patch is not JsonArray array)
        {
            throw PatchException.BadRequest(JsonValues.CannotUnmarshal(patch, "jsonpatch.Patch"));
        }

        var operations = new List<JsonObject?>(array.Count);
        foreach (var item in array)
        {
            operations.Add(item switch
            {
                null => null,
                JsonObject o => o,
                JsonValue v when v.GetValueKind() == JsonValueKind.Null => null,
                _ => throw PatchException.BadRequest(JsonValues.CannotUnmarshal(item, "jsonpatch.Operation")),
            });
        }

        return operations;
    }

    /// <summary>Runs one operation; returns the library's error text, or null when it applied.</summary>
    private static string? Run(JsonNode root, JsonObject? operation)
    {
        var kind = Json.String(operation?["op"]) ?? "unknown";
        return kind switch
        {
            "add" => Add(root, operation!),
            "remove" => Remove(root, operation!),
            "replace" => Replace(root, operation!),
            "move" => Move(root, operation!),
            "test" => Test(root, operation!),
            "copy" => Copy(root, operation!),
            _ => $"Unexpected kind: {kind}",
        };
    }

    private static string? Add(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"add operation failed to decode path: {MissingValue}";
        }

        if (FindContainer(root, path) is not var (container, key))
        {
            return $"add operation does not apply: doc is missing path: \"{path}\": {MissingValue}";
        }

        var error = AddTo(container, key, Value(operation));
        return error is null ? null : $"error in add for path: '{path}': {error}";
    }

    private static string? Remove(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"remove operation failed to decode path: {MissingValue}";
        }

        if (FindContainer(root, path) is not var (container, key))
        {
            return $"remove operation does not apply: doc is missing path: \"{path}\": {MissingValue}";
        }

        var error = RemoveFrom(container, key);
        return error is null ? null : $"error in remove for path: '{path}': {error}";
    }

    private static string? Replace(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"replace operation failed to decode path: {PathError(operation, "path")}";
        }

        if (FindContainer(root, path) is not var (container, key))
        {
            return $"replace operation does not apply: doc is missing path: {path}: {MissingValue}";
        }

        var (_, getError) = Get(container, key);
        if (getError is not null)
        {
            return $"replace operation does not apply: doc is missing key: {path}: {MissingValue}";
        }

        Set(container, key, Value(operation));
        return null;
    }

    private static string? Move(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "from") is not { } from)
        {
            return $"move operation failed to decode from: {PathError(operation, "from")}";
        }

        if (FindContainer(root, from) is not var (source, sourceKey))
        {
            return $"move operation does not apply: doc is missing from path: {from}: {MissingValue}";
        }

        var (value, error) = Get(source, sourceKey);
        error ??= RemoveFrom(source, sourceKey);
        if (error is not null)
        {
            return $"error in move for path: '{sourceKey}': {error}";
        }

        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"move operation failed to decode path: {PathError(operation, "path")}";
        }

        if (FindContainer(root, path) is not var (target, targetKey))
        {
            return $"move operation does not apply: doc is missing destination path: {path}: {MissingValue}";
        }

        error = AddTo(target, targetKey, value);
        return error is null ? null : $"error in move for path: '{path}': {error}";
    }

    private static string? Test(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"test operation failed to decode path: {PathError(operation, "path")}";
        }

        if (FindContainer(root, path) is not var (container, key))
        {
            return $"test operation does not apply: is missing path: {path}: {MissingValue}";
        }

        var (value, error) = Get(container, key);
        if (error is not null)
        {
            return $"error in test for path: '{path}': {error}";
        }

        var hasExpected = operation.TryGetPropertyValue("value", out var expected);
        if (JsonValues.IsNull(value))
        {
            return JsonValues.IsNull(expected) ? null : TestFailed(path);
        }

        return hasExpected && JsonValues.DeepEquals(value, expected) ? null : TestFailed(path);

        static string TestFailed(string path) => $"testing value {path} failed: test failed";
    }

    private static string? Copy(JsonNode root, JsonObject operation)
    {
        if (ReadPointer(operation, "from") is not { } from)
        {
            return $"copy operation failed to decode from: {PathError(operation, "from")}";
        }

        if (FindContainer(root, from) is not var (source, sourceKey))
        {
            return $"copy operation does not apply: doc is missing from path: {from}: {MissingValue}";
        }

        var (value, error) = Get(source, sourceKey);
        if (error is not null)
        {
            return $"error in copy for from: '{from}': {error}";
        }

        if (ReadPointer(operation, "path") is not { } path)
        {
            return $"copy operation failed to decode path: {MissingValue}";
        }

        if (FindContainer(root, path) is not var (target, targetKey))
        {
            return $"copy operation does not apply: doc is missing destination path: {path}: {MissingValue}";
        }

        error = AddTo(target, targetKey, JsonValues.Clone(value));
        return error is null ? null : $"error while adding value during copy: {error}";
    }

    private static string? ReadPointer(JsonObject operation, string member) => Json.String(operation[member]);

    private static string PathError(JsonObject operation, string member) =>
        operation[member] is { } present
            ? JsonValues.CannotUnmarshal(present, "string")
            : member == "from" ? $"operation, missing from field: {MissingValue}" : $"operation missing path field: {MissingValue}";

    private static JsonNode? Value(JsonObject operation) => JsonValues.Clone(operation["value"]);

    /// <summary>
    /// evanphx's <c>findObject</c>: walks every segment but the last (the text before the first <c>/</c> is ignored)
    /// and returns the object or array that holds the last one, or null when any step is missing.
    /// </summary>
    private static (JsonNode Container, string Key)? FindContainer(JsonNode root, string path)
    {
        var segments = path.Split('/');
        if (segments.Length < 2)
        {
            return null;
        }

        var current = root;
        for (var i = 1; i < segments.Length - 1; i++)
        {
            var (next, error) = Get(current, DecodeSegment(segments[i]));
            if (error is not null || next is not (JsonObject or JsonArray))
            {
                return null;
            }

            current = next;
        }

        return (current, DecodeSegment(segments[^1]));
    }

    private static string DecodeSegment(string segment) => segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private static (JsonNode? Value, string? Error) Get(JsonNode container, string key)
    {
        if (container is JsonObject o)
        {
            return (o[key], null);
        }

        var array = (JsonArray)container;
        if (Atoi(key) is not { } index)
        {
            return (null, AtoiError(key));
        }

        var position = index < 0 && index >= -array.Count ? index + array.Count : index;
        return position < 0 || position >= array.Count
            ? (null, $"Unable to access invalid index: {index}: {InvalidIndex}")
            : (array[(int)position], null);
    }

    private static void Set(JsonNode container, string key, JsonNode? value)
    {
        if (container is JsonObject o)
        {
            o[key] = value;
            return;
        }

        var array = (JsonArray)container;
        var index = Atoi(key)!.Value;
        array[(int)(index < 0 ? index + array.Count : index)] = value;
    }

    private static string? AddTo(JsonNode container, string key, JsonNode? value)
    {
        if (container is JsonObject o)
        {
            o[key] = value;
            return null;
        }

        var array = (JsonArray)container;
        if (key == "-")
        {
            array.Add(value);
            return null;
        }

        if (Atoi(key) is not { } index)
        {
            return $"value was not a proper array index: '{key}': {AtoiError(key)}";
        }

        var size = array.Count + 1;
        if (index >= size || index < -size)
        {
            return $"Unable to access invalid index: {index}: {InvalidIndex}";
        }

        array.Insert((int)(index < 0 ? index + size : index), value);
        return null;
    }

    private static string? RemoveFrom(JsonNode container, string key)
    {
        if (container is JsonObject o)
        {
            return o.Remove(key) ? null : $"Unable to remove nonexistent key: {key}: {MissingValue}";
        }

        var array = (JsonArray)container;
        if (Atoi(key) is not { } index)
        {
            return AtoiError(key);
        }

        if (index >= array.Count || index < -array.Count)
        {
            return $"Unable to access invalid index: {index}: {InvalidIndex}";
        }

        array.RemoveAt((int)(index < 0 ? index + array.Count : index));
        return null;
    }

    /// <summary>Go's <c>strconv.Atoi</c>: an optional sign and decimal digits.</summary>
    private static long? Atoi(string text)
    {
        var digits = text.StartsWith('+') || text.StartsWith('-') ? text[1..] : text;
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) &&
            long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) &&
            value is >= int.MinValue and <= int.MaxValue
            ? value
            : null;
    }

    private static string AtoiError(string text)
    {
        var digits = text.StartsWith('+') || text.StartsWith('-') ? text[1..] : text;
        var reason = digits.Length > 0 && digits.All(char.IsAsciiDigit) ? "value out of range" : "invalid syntax";
        return $"strconv.Atoi: parsing {GoText.Quote(text)}: {reason}";
    }
}
