using System.Text;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// The children one reconcile created or updated, told as one Event per verb rather than one per child: a new model
/// has some twenty children (a DeepSeek-V3 model over a hundred), and an Event each would bury the model's other Events
/// in <c>kubectl describe</c> and cost the API server a write each. Each child is still logged as it is written.
/// </summary>
internal sealed class ChildWrites
{
    /// <summary>How many names of one kind an Event lists before it counts the rest.</summary>
    internal const int NamesPerKind = 5;

    private readonly List<(string Kind, List<string> Names)> created = [];
    private readonly List<(string Kind, List<string> Names)> updated = [];

    /// <summary>Notes a created child.</summary>
    public void Created(string kind, string name) => Add(created, kind, name);

    /// <summary>Notes an updated child.</summary>
    public void Updated(string kind, string name) => Add(updated, kind, name);

    /// <summary>The <c>Created</c> Event's message, or null when nothing was created.</summary>
    public string? CreatedMessage() => Message("Created", created);

    /// <summary>The <c>Updated</c> Event's message, or null when nothing was updated.</summary>
    public string? UpdatedMessage() => Message("Updated", updated);

    private static void Add(List<(string Kind, List<string> Names)> writes, string kind, string name)
    {
        foreach (var (written, names) in writes)
        {
            if (written == kind)
            {
                names.Add(name);
                return;
            }
        }

        writes.Add((kind, [name]));
    }

    // "Created Deployment tiny-router, tiny-shard-0; Service tiny": kinds in the order they were written, at most
    // NamesPerKind names each, then how many more.
    private static string? Message(string verb, List<(string Kind, List<string> Names)> writes)
    {
        if (writes.Count == 0)
        {
            return null;
        }

        var message = new StringBuilder(verb);
        for (var i = 0; i < writes.Count; i++)
        {
            var (kind, names) = writes[i];
            message.Append(i == 0 ? " " : "; ").Append(kind).Append(' ').AppendJoin(", ", names.Take(NamesPerKind));
            if (names.Count > NamesPerKind)
            {
                message.Append(" and ").Append(names.Count - NamesPerKind).Append(" more");
            }
        }

        return message.ToString();
    }
}
