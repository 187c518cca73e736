using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// A set of field paths as structured-merge-diff's <c>fieldpath.Set</c>: a tree whose nodes hold the path elements
/// that are members themselves and the children below; serialised as FieldsV1
/// (<c>{"f:spec":{"f:replicas":{}}}</c>, with <c>".": {}</c> where a node is a member and has children too).
/// Operations return new sets, which may share subsets with their operands (or be an operand, when they leave it as it
/// is); <see cref="Insert"/> builds one in place. No node keeps an empty child set.
/// </summary>
internal sealed class FieldSet
{
    private readonly SortedSet<PathElement> members = [];
    private readonly SortedDictionary<PathElement, FieldSet> children = [];

    /// <summary>Whether the set holds no path.</summary>
    public bool IsEmpty => members.Count == 0 && children.Count == 0;

    /// <summary>Adds a path; the empty path (the whole object) is not recorded.</summary>
    public void Insert(IReadOnlyList<PathElement> path)
    {
        if (path.Count == 0)
        {
            return;
        }

        var node = this;
        for (var i = 0; i < path.Count - 1; i++)
        {
            if (!node.children.TryGetValue(path[i], out var child))
            {
                child = new FieldSet();
                node.children[path[i]] = child;
            }

            node = child;
        }

        node.members.Add(path[^1]);
    }

    /// <summary>Whether <paramref name="element"/> is a member at the top of this set.</summary>
    public bool HasMember(PathElement element) => members.Contains(element);

    /// <summary>The paths below <paramref name="element"/>, or null when none.</summary>
    public FieldSet? Child(PathElement element) => children.GetValueOrDefault(element);

    public FieldSet Union(FieldSet other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        var result = ShallowCopy();
        result.members.UnionWith(other.members);
        foreach (var (element, child) in other.children)
        {
            result.children[element] = result.children.TryGetValue(element, out var mine) ? mine.Union(child) : child;
        }

        return result;
    }

    public FieldSet Difference(FieldSet other)
    {
        FieldSet? result = null;
        foreach (var member in other.members)
        {
            if (members.Contains(member))
            {
                result ??= ShallowCopy();
                _ = result.members.Remove(member);
            }
        }

        foreach (var (element, theirs) in other.children)
        {
            if (children.TryGetValue(element, out var child) && child.Difference(theirs) is var rest && !ReferenceEquals(rest, child))
            {
                result ??= ShallowCopy();
                if (rest.IsEmpty)
                {
                    result.children.Remove(element);
                }
                else
                {
                    result.children[element] = rest;
                }
            }
        }

        return result ?? this;
    }

    public FieldSet Intersection(FieldSet other)
    {
        var result = new FieldSet();
        result.members.UnionWith(members);
        result.members.IntersectWith(other.members);
        foreach (var (element, child) in children)
        {
            if (other.children.TryGetValue(element, out var theirs))
            {
                var both = child.Intersection(theirs);
                if (!both.IsEmpty)
                {
                    result.children[element] = both;
                }
            }
        }

        return result;
    }

    /// <summary>The set without <paramref name="path"/> and everything below it.</summary>
    public FieldSet Without(IReadOnlyList<PathElement> path) => Without(path, 0);

    /// <summary>Every path, members of a node before the paths below it, each group in path-element order.</summary>
    public IEnumerable<PathElement[]> Paths()
    {
        foreach (var member in members)
        {
            yield return [member];
        }

        foreach (var (element, child) in children)
        {
            foreach (var path in child.Paths())
            {
                yield return [element, .. path];
            }
        }
    }

    /// <summary>
    /// <c>EnsureNamedFieldsAreMembers</c>: the set plus every declared struct field that has paths below it, so that a
    /// field counts as owned when anything under it is.
    /// </summary>
    public FieldSet EnsureNamedFieldsAreMembers(IFieldSchema schema)
    {
        var result = new FieldSet();
        result.members.UnionWith(members);
        foreach (var (element, child) in children)
        {
            if (element.Kind == PathElementKind.Field && schema.IsNamedField(element.Name))
            {
                result.members.Add(element);
            }

            var childSchema = element.Kind == PathElementKind.Field ? schema.Field(element.Name) : schema.Items;
            result.children[element] = child.EnsureNamedFieldsAreMembers(childSchema);
        }

        return result;
    }

    /// <summary>The FieldsV1 object of this set.</summary>
    public JsonObject ToFieldsV1() => Emit(false);

    /// <summary>Reads a FieldsV1 object; throws <see cref="FormatException"/> when it is not one.</summary>
    public static FieldSet FromFieldsV1(JsonObject fields)
    {
        var set = new FieldSet();
        Read(set, fields);
        return set;

        static void Read(FieldSet node, JsonObject fields)
        {
            foreach (var (key, value) in fields)
            {
                if (key == ".")
                {
                    continue;
                }

                if (value is not JsonObject inner)
                {
                    throw new FormatException($"expected an object for {GoText.Quote(key)}");
                }

                var element = PathElement.Parse(key);
                var hasChildren = inner.Any(p => p.Key != ".");
                if (!hasChildren || inner.ContainsKey("."))
                {
                    node.members.Add(element);
                }

                if (hasChildren)
                {
                    var child = new FieldSet();
                    Read(child, inner);
                    node.children[element] = child;
                }
            }
        }
    }

    // Members and children in path-element order: both collections are sorted, so they are merged as they are read.
    private JsonObject Emit(bool includeSelf)
    {
        var result = new JsonObject();
        if (includeSelf && !IsEmpty)
        {
            result["."] = new JsonObject();
        }

        using var member = members.GetEnumerator();
        using var child = children.GetEnumerator();
        var (hasMember, hasChild) = (member.MoveNext(), child.MoveNext());
        while (hasMember || hasChild)
        {
            var order = !hasChild ? -1 : !hasMember ? 1 : member.Current.CompareTo(child.Current.Key);
            if (order < 0)
            {
                result[member.Current.Encoded] = new JsonObject();
                hasMember = member.MoveNext();
            }
            else
            {
                result[child.Current.Key.Encoded] = child.Current.Value.Emit(order == 0);
                hasMember = order == 0 ? member.MoveNext() : hasMember;
                hasChild = child.MoveNext();
            }
        }

        return result;
    }

    // The set without path[from..] and everything below it, sharing the subsets it leaves alone; empty subsets are dropped.
    private FieldSet Without(IReadOnlyList<PathElement> path, int from)
    {
        if (from >= path.Count)
        {
            return this;
        }

        var element = path[from];
        var last = from == path.Count - 1;
        if (!children.TryGetValue(element, out var child) && !(last && members.Contains(element)))
        {
            return this;
        }

        var result = ShallowCopy();
        if (last)
        {
            result.members.Remove(element);
            result.children.Remove(element);
        }
        else if (child!.Without(path, from + 1) is { IsEmpty: false } rest)
        {
            result.children[element] = rest;
        }
        else
        {
            result.children.Remove(element);
        }

        return result;
    }

    // A new top node over the same subsets: sets are not changed once built (only Insert builds in place, on a new
    // set), so subsets are shared between the sets that operations return rather than copied.
    private FieldSet ShallowCopy()
    {
        var copy = new FieldSet();
        copy.members.UnionWith(members);
        foreach (var (element, child) in children)
        {
            copy.children[element] = child;
        }

        return copy;
    }
}
