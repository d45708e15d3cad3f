namespace LifelongPrefs.Models;

public sealed partial class RepeatAware
{
    /// <summary>Records the events in the history store and the positive ones in the popularity counts.</summary>
    private void AddEvents(IReadOnlyList<Interaction> events)
    {
        _histories.EnsureUsers(_users);
        _histories.Append(events);
        foreach (Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e))
            {
                _popularity[e.Item] += 1f;
                _maxPopularity = Math.Max(_maxPopularity, _popularity[e.Item]);
            }
        }
    }

    private IEnumerable<int> AllUsers() => Enumerable.Range(0, _histories.UserCount);

    /// <summary>Each given user's last positive basket (key) when they have at least two.</summary>
    private List<(int User, long Key)> LastBaskets(IEnumerable<int> users, out HashSet<(int, long)> keys)
    {
        var result = new List<(int, long)>();
        keys = [];
        foreach (int u in users)
        {
            if (HistoryViews.PositiveBaskets(_histories.EventsOf(u), out long last) >= 2)
            {
                result.Add((u, last));
                keys.Add((u, last));
            }
        }

        return result;
    }
}
