using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Models;

/// <summary>
/// The validation data a model carves out of its own training events for early stopping: each sampled user's
/// last basket (events sharing the user's latest basket id; for events without baskets, the latest time stamp), or
/// only the last item of that basket (<see cref="ValidationHoldout.LastItem"/>), is held out, and the model is scored
/// on it with the user's other events as history (NDCG@K, all items).
/// </summary>
/// <remarks>
/// Models call this inside <see cref="IRecommender.Fit"/>, so the evaluation protocol's own validation and test
/// data are never seen. Users are sampled with the given seed so validation stays cheap on large logs.
/// </remarks>
internal sealed class HoldoutValidation
{
    private readonly List<(int User, Interaction[] History, int[] Relevant)> _users;
    private float[] _scores = [];
    private int[] _top = [];
    private List<(int User, Interaction[] History, int[] Excluded, int[] Relevant)>? _explore;

    private HoldoutValidation(List<Interaction> fitEvents, List<(int, Interaction[], int[])> users)
    {
        FitEvents = fitEvents;
        _users = users;
    }

    /// <summary>Gets the events to train on (everything but the held-out baskets).</summary>
    internal IReadOnlyList<Interaction> FitEvents { get; }

    /// <summary>Gets the number of validation users.</summary>
    internal int UserCount => _users.Count;

    /// <summary>
    /// Holds out the last basket (or, with <see cref="ValidationHoldout.LastItem"/>, the last positive item of the last
    /// basket: every line of it in that basket) of up to <paramref name="maxUsers"/> users with at least two baskets.
    /// </summary>
    internal static HoldoutValidation Create(IReadOnlyList<Interaction> events, int userCount, int maxUsers, int seed,
        ValidationHoldout holdout = ValidationHoldout.LastBasket)
    {
        // Per user, from the one history store: their last basket's key (basket id, else time stamp), if they have two,
        // and for the last-item holdout the item of the basket's last positive event (-1: the whole basket).
        UserHistories store = UserHistories.FromEvents(events, userCount);
        var last = new long[userCount];
        var lastItem = new int[userCount];
        var candidates = new List<int>();
        for (int u = 0; u < userCount; u++)
        {
            int baskets = store.BasketCount(u);
            int item = holdout == ValidationHoldout.LastItem && baskets >= 2 ? LastPositiveItem(store.Basket(u, baskets - 1)) : -1;
            if (baskets >= 2 && (holdout == ValidationHoldout.LastBasket || item >= 0))
            {
                candidates.Add(u);
                last[u] = store.Basket(u, baskets - 1)[0].BasketKey;
                lastItem[u] = item;
            }
        }

        var random = new Random(seed);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        var chosen = new HashSet<int>(candidates.Take(maxUsers));
        var fit = new List<Interaction>(events.Count);
        var histories = new Dictionary<int, List<Interaction>>();
        var relevant = new Dictionary<int, SortedSet<int>>();
        foreach (Interaction e in events)
        {
            bool heldOut = chosen.Contains(e.User) && e.BasketKey == last[e.User] && (lastItem[e.User] < 0 || e.Item == lastItem[e.User]);
            if (heldOut)
            {
                if (RecommenderGuard.IsPositive(e))
                {
                    (relevant.TryGetValue(e.User, out var set) ? set : relevant[e.User] = []).Add(e.Item);
                }

                continue;
            }

            fit.Add(e);
            if (chosen.Contains(e.User))
            {
                (histories.TryGetValue(e.User, out var list) ? list : histories[e.User] = []).Add(e);
            }
        }

        var users = new List<(int, Interaction[], int[])>();
        foreach (int u in chosen.Order())
        {
            if (relevant.TryGetValue(u, out var items) && histories.TryGetValue(u, out var history))
            {
                users.Add((u, [.. history], [.. items]));
            }
        }

        return new HoldoutValidation(fit, users);
    }

    private static int LastPositiveItem(ReadOnlySpan<Interaction> basket)
    {
        for (int k = basket.Length - 1; k >= 0; k--)
        {
            if (RecommenderGuard.IsPositive(basket[k]))
            {
                return basket[k].Item;
            }
        }

        return -1;
    }

    /// <summary>The early-stopping metric of <paramref name="model"/> on <paramref name="validation"/>, or null when there are no validation users.</summary>
    internal static Func<double>? MetricFor(HoldoutValidation? validation, IRecommender model) =>
        validation is { UserCount: > 0 } ? () => validation.Ndcg(model) : null;

    /// <summary>Mean NDCG@<paramref name="k"/> of <paramref name="model"/> over the validation users (NaN if none).</summary>
    internal double Ndcg(IRecommender model, int k = 20)
    {
        if (_users.Count == 0)
        {
            return double.NaN;
        }

        EnsureScratch(model.ItemCount, k);

        double sum = 0;
        foreach (var (user, history, items) in _users)
        {
            model.Score(user, history, _scores);
            int found = Ranking.TopK(_scores, [], _top);
            sum += RankingMetrics.Ndcg(_top.AsSpan(0, found), items, k);
        }

        return sum / _users.Count;
    }

    /// <summary>
    /// Mean NDCG@<paramref name="k"/> of <paramref name="model"/> over the items new to each validation user: the
    /// user's history is excluded from the ranking and from the held-out basket; users left without a new item are
    /// skipped (NaN if none is left).
    /// </summary>
    internal double ExploreNdcg(IRecommender model, int k = 20)
    {
        _explore ??= ExploreCases(_users);
        if (_explore.Count == 0)
        {
            return double.NaN;
        }

        EnsureScratch(model.ItemCount, k);

        double sum = 0;
        foreach (var (user, history, excluded, relevant) in _explore)
        {
            model.Score(user, history, _scores);
            int found = Ranking.TopK(_scores, excluded, _top);
            sum += RankingMetrics.Ndcg(_top.AsSpan(0, found), relevant, k);
        }

        return sum / _explore.Count;
    }

    /// <summary>Sizes the score and top-k scratch shared by both metrics.</summary>
    private void EnsureScratch(int items, int k)
    {
        if (_scores.Length != items)
        {
            _scores = new float[items];
        }

        if (_top.Length != k)
        {
            _top = new int[k];
        }
    }

    /// <summary>Each validation user's bought items (sorted) and the basket's items outside them; users with none are left out.</summary>
    private static List<(int, Interaction[], int[], int[])> ExploreCases(List<(int User, Interaction[] History, int[] Relevant)> users)
    {
        var cases = new List<(int, Interaction[], int[], int[])>();
        foreach (var (user, history, relevant) in users)
        {
            int[] excluded = [.. history.Select(e => e.Item).Distinct().Order()];
            int[] fresh = [.. relevant.Where(i => Array.BinarySearch(excluded, i) < 0)];
            if (fresh.Length > 0)
            {
                cases.Add((user, history, excluded, fresh));
            }
        }

        return cases;
    }
}
