using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace DeepSeekOperator.Api.Internal;

/// <summary>Reads the summaries of types and properties from the XML documentation file beside an assembly.</summary>
internal static partial class XmlDocumentation
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, string>?> Files = new();

    /// <summary>The summary of a type, or null when it has none.</summary>
    public static string? Summary(Type type) => Lookup(type.Assembly, "T:" + DocId(type));

    /// <summary>The summary of a property, or null when it has none.</summary>
    public static string? Summary(PropertyInfo property) =>
        Lookup(property.DeclaringType!.Assembly, "P:" + DocId(property.DeclaringType!) + "." + property.Name);

    /// <summary>Whether the assembly's XML documentation file was found.</summary>
    public static bool IsAvailable(Assembly assembly) => Load(assembly) is not null;

    private static string? Lookup(Assembly assembly, string id) =>
        Load(assembly) is { } members && members.TryGetValue(id, out var text) ? text : null;

    private static string DocId(Type type)
    {
        if (type.IsGenericType)
        {
            type = type.GetGenericTypeDefinition();
        }

        return (type.FullName ?? type.Name).Replace('+', '.');
    }

    private static IReadOnlyDictionary<string, string>? Load(Assembly assembly) => Files.GetOrAdd(assembly, static a =>
    {
        var path = string.IsNullOrEmpty(a.Location) ? null : Path.ChangeExtension(a.Location, ".xml");
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in XDocument.Load(path).Descendants("member"))
        {
            if (member.Attribute("name")?.Value is { } name && member.Element("summary") is { } summary)
            {
                members[name] = Flatten(summary);
            }
        }

        return members;
    });

    // <c>x</c> and <see cref="T:A.B"/> become x and B; white space is folded to single spaces.
    private static string Flatten(XElement summary)
    {
        var text = new StringBuilder();
        foreach (var node in summary.Nodes())
        {
            text.Append(node switch
            {
                XText t => t.Value,
                XElement { Name.LocalName: "see" or "seealso" } e =>
                    e.Attribute("cref")?.Value is { } cref ? cref[(cref.LastIndexOf('.') + 1)..] :
                    e.Attribute("langword")?.Value ?? e.Attribute("href")?.Value ?? e.Value,
                XElement { Name.LocalName: "paramref" or "typeparamref" } e => e.Attribute("name")?.Value,
                XElement e => e.Value,
                _ => string.Empty,
            });
        }

        return Whitespace().Replace(text.ToString(), " ").Trim();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
