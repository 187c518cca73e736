namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>
/// Finds stop strings in generated text as it grows. Text that could be the start of a stop string is held back until
/// the next pieces show whether it is, so that what has been sent never holds any part of one.
/// </summary>
internal sealed class StopMatcher(IReadOnlyList<string> stops)
{
    private string _pending = string.Empty;

    /// <summary>Whether a stop string was found: the generation is over and its text ends before it.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a piece of text; returns what can be sent now (up to the first stop string, once it is found).</summary>
    public string Append(string piece)
    {
        if (Stopped)
        {
            throw new InvalidOperationException("a stop string was already found");
        }

        var text = _pending + piece;
        var first = stops.Select(stop => text.IndexOf(stop, StringComparison.Ordinal)).Where(index => index >= 0).DefaultIfEmpty(-1).Min();
        if (first >= 0)
        {
            Stopped = true;
            _pending = string.Empty;
            return text[..first];
        }

        var held = HeldLength(text);
        _pending = text[(text.Length - held)..];
        return text[..(text.Length - held)];
    }

    /// <summary>The text held back, once the generation has ended without a stop string.</summary>
    public string Flush()
    {
        var rest = _pending;
        _pending = string.Empty;
        return rest;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins a stop string.</summary>
    private int HeldLength(string text)
    {
        for (var length = Math.Min(text.Length, stops.Select(s => s.Length - 1).DefaultIfEmpty(0).Max()); length > 0; length--)
        {
            var end = text[^length..];
            if (stops.Any(stop => stop.StartsWith(end, StringComparison.Ordinal)))
            {
                return length;
            }
        }

        return 0;
    }
}
