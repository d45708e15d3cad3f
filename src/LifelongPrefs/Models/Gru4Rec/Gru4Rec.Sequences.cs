namespace LifelongPrefs.Models;

public sealed partial class Gru4Rec
{
    /// <summary>
    /// Appends the events to the history store; returns each user with a positive new event and the length of their
    /// sequence before (the windows an update trains are those whose targets include a new item).
    /// </summary>
    private Dictionary<int, int> Append(IReadOnlyList<Interaction> events)
    {
        var oldLengths = new Dictionary<int, int>();
        foreach (Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e) && !oldLengths.ContainsKey(e.User))
            {
                oldLengths[e.User] = SequenceOf(e.User).Count;
            }
        }

        _histories.Append(events);
        return oldLengths;
    }

    /// <summary>A user's sequence as it stands in the store (<see cref="HistoryViews.ItemSequence"/>).</summary>
    private List<int> SequenceOf(int user)
    {
        var sequence = new List<int>();
        HistoryViews.ItemSequence(_histories.EventsOf(user), sequence);
        return sequence;
    }

    /// <summary>
    /// Cuts sequences into windows from their ends: inputs s[Start..End−1), targets s[Start+1..End), and keeps the
    /// sequences they read for the run. With <paramref name="oldLengths"/>, only the named users' windows whose targets
    /// include a new item.
    /// </summary>
    private List<Window> CollectWindows(Dictionary<int, int>? oldLengths)
    {
        var windows = new List<Window>();
        _runSequences.Clear();
        int t = _options.MaxLength;
        for (int u = 0; u < _histories.UserCount; u++)
        {
            int oldLength = 0;
            if (oldLengths is not null && !oldLengths.TryGetValue(u, out oldLength))
            {
                continue;
            }

            // Stop once a window's targets would all be old items (End − 1 < oldLength).
            List<int> sequence = SequenceOf(u);
            for (int end = sequence.Count; end >= 2 && end > oldLength; )
            {
                int start = Math.Max(0, end - 1 - t);
                windows.Add(new Window(_runSequences.Count, start, end));
                end = start + 1;
            }

            _runSequences.Add(sequence);
        }

        return windows;
    }

    /// <summary>The item counts of every user's sequence, which the sampled loss's popularity sampler starts from.</summary>
    private float[] SequenceItemCounts(int itemCount)
    {
        var counts = new float[itemCount];
        for (int u = 0; u < _histories.UserCount; u++)
        {
            foreach (int item in SequenceOf(u))
            {
                counts[item]++;
            }
        }

        return counts;
    }

    /// <summary>A training window of one sequence of the run: inputs s[Start..End−1), targets s[Start+1..End).</summary>
    private readonly record struct Window(int Sequence, int Start, int End);
}
