namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>Builds field paths as apimachinery's <c>field.Path</c> prints them: <c>spec.ports[0].name</c>, <c>metadata.labels[app]</c>.</summary>
internal static class FieldPath
{
    /// <summary>A named child: <c>parent.name</c>, or <c>name</c> at the root.</summary>
    public static string Child(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    /// <summary>A list element: <c>parent[3]</c>.</summary>
    public static string Index(string parent, int index) => parent + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";

    /// <summary>A map entry: <c>parent[key]</c>.</summary>
    public static string Key(string parent, string key) => parent + "[" + key + "]";
}
