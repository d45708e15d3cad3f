using LifelongPrefs.Data;

namespace LifelongPrefs.Models;

public sealed partial class Gru4Rec
{
    /// <summary>Appends the positive events to their users' sequences; records each touched user's previous length.</summary>
    private void Append(IReadOnlyList<Interaction> events, Dictionary<int, int>? oldLengths)
    {
        foreach (Interaction e in events)
        {
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            List<int> sequence = _sequences[e.User];
            if (sequence.Count > 0 && sequence[^1] == e.Item)
            {
                continue;
            }

            oldLengths?.TryAdd(e.User, sequence.Count);
            sequence.Add(e.Item);
            _itemCounts[e.Item]++;
        }
    }

    /// <summary>
    /// Cuts sequences into windows from their ends: inputs s[Start..End−1), targets s[Start+1..End). With
    /// <paramref name="oldLengths"/>, only the named users' windows whose targets include a new item.
    /// </summary>
    private List<Window> CollectWindows(Dictionary<int, int>? oldLengths)
    {
        var windows = new List<Window>();
        int t = _options.MaxLength;
        for (int u = 0; u < _sequences.Count; u++)
        {
            int oldLength = 0;
            if (oldLengths is not null && !oldLengths.TryGetValue(u, out oldLength))
            {
                continue;
            }

            // Stop once a window's targets would all be old items (End − 1 < oldLength).
            for (int end = _sequences[u].Count; end >= 2 && end > oldLength; )
            {
                int start = Math.Max(0, end - 1 - t);
                windows.Add(new Window(u, start, end));
                end = start + 1;
            }
        }

        return windows;
    }

    /// <summary>A training window of one user's sequence: inputs s[Start..End−1), targets s[Start+1..End).</summary>
    private readonly record struct Window(int User, int Start, int End);
}
