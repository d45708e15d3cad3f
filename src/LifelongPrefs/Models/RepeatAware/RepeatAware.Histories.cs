using LifelongPrefs.Data;

namespace LifelongPrefs.Models;

public sealed partial class RepeatAware
{
    /// <summary>Records positive events in the per-user histories and the popularity counts.</summary>
    private void AddEvents(IReadOnlyList<Interaction> events)
    {
        while (_histories.Count < _users)
        {
            _histories.Add([]);
        }

        foreach (Interaction e in events)
        {
            _histories[e.User].Add(e);
            if (RecommenderGuard.IsPositive(e))
            {
                _popularity[e.Item] += 1f;
                _maxPopularity = Math.Max(_maxPopularity, _popularity[e.Item]);
            }
        }
    }

    private IEnumerable<int> AllUsers()
    {
        for (int u = 0; u < _histories.Count; u++)
        {
            yield return u;
        }
    }

    /// <summary>Each given user's last positive basket (key) when they have at least two.</summary>
    private List<(int User, long Key)> LastBaskets(IEnumerable<int> users, out HashSet<(int, long)> keys)
    {
        var result = new List<(int, long)>();
        keys = [];
        foreach (int u in users)
        {
            long last = long.MinValue;
            int distinct = 0;
            foreach (Interaction e in _histories[u])
            {
                if (RecommenderGuard.IsPositive(e) && e.BasketKey != last)
                {
                    last = e.BasketKey;
                    distinct++;
                }
            }

            if (distinct >= 2)
            {
                result.Add((u, last));
                keys.Add((u, last));
            }
        }

        return result;
    }
}
