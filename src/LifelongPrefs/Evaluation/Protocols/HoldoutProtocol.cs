using System.Diagnostics;

namespace LifelongPrefs.Evaluation.Protocols;

/// <summary>
/// A held-out evaluation over an <see cref="InteractionLog"/>: which events a model trains on, and for each
/// evaluated user the history it may see and the items it should rank highly.
/// </summary>
/// <remarks>
/// <para>
/// <b>Next basket</b> (<see cref="NextBasket"/>, the headline protocol): users with at least three baskets (a basket
/// = the distinct items of one invoice, or of one time stamp when the log has no basket ids: the rule of
/// <see cref="Interaction.BasketKey"/>); the last basket is the test, the second-to-last the validation basket.
/// The model trains on every event except the test baskets, sees the user's earlier baskets (validation
/// included) and ranks <b>all</b> items; relevance is binary, NDCG's ideal DCG runs over min(|basket|, K).
/// The <i>explore</i> variant removes every item the user bought before from both the ranking and the relevant set
/// (users left with no new item are skipped).
/// </para>
/// <para>
/// <b>Leave last item</b> (<see cref="LeaveLastItem"/>): each user's time-ordered item sequence (baskets flattened)
/// minus its last item; HR@10, NDCG@10 and MRR over the full ranking. On Online Retail the last two items are
/// usually lines of the same invoice, so this mostly measures "finish the current basket".
/// </para>
/// <para>
/// Each evaluated user's history comes from <see cref="UserHistories"/> (baskets in time order); the training events
/// keep the log's order. Ties are broken by <see cref="Ranking"/>'s rule: higher score first, then lower item index.
/// </para>
/// </remarks>
public sealed class HoldoutProtocol
{
    private readonly InteractionLog _log;
    private readonly List<Interaction> _train;
    private readonly List<(int User, Interaction[] History, int[] Relevant)> _cases;
    private int[][]? _sampledNegatives;

    private HoldoutProtocol(string name, InteractionLog log, List<Interaction> train,
        List<(int, Interaction[], int[])> cases, int cutoff, bool explore)
    {
        Name = name;
        _log = log;
        _train = train;
        _cases = cases;
        Cutoff = cutoff;
        Explore = explore;
    }

    /// <summary>Gets the protocol's name.</summary>
    public string Name { get; }

    /// <summary>Gets K for the @K metrics.</summary>
    public int Cutoff { get; }

    /// <summary>Gets a value indicating whether previously bought items are excluded (the explore variant).</summary>
    public bool Explore { get; }

    /// <summary>Gets the events a model trains on.</summary>
    public IReadOnlyList<Interaction> TrainingEvents => _train;

    /// <summary>Gets the number of evaluated users (before explore's skipping).</summary>
    public int UserCount => _cases.Count;

    /// <summary>Gets each evaluated user's case: the history the model sees and the held-out items, by user index.</summary>
    internal IReadOnlyList<(int User, Interaction[] History, int[] Relevant)> Cases => _cases;

    /// <summary>Builds the next-basket protocol.</summary>
    /// <param name="log">The cleaned purchase log.</param>
    /// <param name="explore">Whether to run the explore variant.</param>
    /// <param name="cutoff">K (20 in the headline).</param>
    /// <param name="minBaskets">Minimum baskets for a user to be evaluated.</param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cutoff"/> is not positive, or
    /// <paramref name="minBaskets"/> is less than 2.</exception>
    public static HoldoutProtocol NextBasket(InteractionLog log, bool explore, int cutoff = 20, int minBaskets = 3)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        ArgumentOutOfRangeException.ThrowIfLessThan(minBaskets, 2);
        UserHistories purchases = UserHistories.FromLog(log, EventKind.Purchase);
        UserHistories all = UserHistories.FromLog(log);
        var held = new HashSet<(int User, long Key)>();
        var cases = new List<(int, Interaction[], int[])>();
        for (int user = 0; user < purchases.UserCount; user++)
        {
            int count = purchases.BasketCount(user);
            if (count < minBaskets)
            {
                continue;
            }

            // The test basket is the user's last purchase basket; every event in it (any kind) is held out.
            ReadOnlySpan<Interaction> test = purchases.Basket(user, count - 1);
            long key = test[0].BasketKey;
            held.Add((user, key));
            var relevant = new SortedSet<int>();
            foreach (ref readonly Interaction e in test)
            {
                relevant.Add(e.Item);
            }

            cases.Add((user, HistoryOf(all, user, e => e.BasketKey != key), [.. relevant]));
        }

        List<Interaction> train = TrainOn(log, e => !held.Contains((e.User, e.BasketKey)));
        return new HoldoutProtocol(explore ? "next-basket-explore" : "next-basket", log, train, cases, cutoff, explore);
    }

    /// <summary>Builds the leave-last-item protocol (full ranking).</summary>
    /// <param name="log">The cleaned purchase log.</param>
    /// <param name="cutoff">K (10 in the literature).</param>
    /// <param name="minItems">Minimum sequence length for a user to be evaluated.</param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cutoff"/> is not positive, or
    /// <paramref name="minItems"/> is less than 2.</exception>
    public static HoldoutProtocol LeaveLastItem(InteractionLog log, int cutoff = 10, int minItems = 3)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        ItemSplit split = Splits.LeaveLastItemOut(log, minItems);
        UserHistories purchases = UserHistories.FromLog(log, EventKind.Purchase);
        UserHistories all = UserHistories.FromLog(log);
        var held = new HashSet<(int User, long Key, int Item)>();
        var cases = new List<(int, Interaction[], int[])>();
        foreach (UserItemSplit user in split.Users)
        {
            // The held-out item is the last item of the user's last basket (the flattened sequence's end); its lines
            // in that basket, and only those, are held out.
            long key = purchases.Basket(user.User, purchases.BasketCount(user.User) - 1)[0].BasketKey;
            held.Add((user.User, key, user.Test));
            cases.Add((user.User, HistoryOf(all, user.User, e => !(e.BasketKey == key && e.Item == user.Test)), [user.Test]));
        }

        List<Interaction> train = TrainOn(log, e => !held.Contains((e.User, e.BasketKey, e.Item)));
        return new HoldoutProtocol("leave-last-item", log, train, cases, cutoff, explore: false);
    }

    /// <summary>
    /// Builds leave-last-item with the SASRec paper's sampled evaluation: the held-out item is ranked among
    /// <paramref name="negatives"/> items the user never interacted with, drawn uniformly with
    /// <paramref name="seed"/> (the same negatives for every model). Reported as <c>leave-last-item-sampled</c>.
    /// </summary>
    /// <param name="log">The cleaned purchase log.</param>
    /// <param name="negatives">Negatives per user (100 in the paper).</param>
    /// <param name="seed">Seed of the negative draw.</param>
    /// <param name="cutoff">K for HR@K and NDCG@K.</param>
    /// <returns>The protocol.</returns>
    public static HoldoutProtocol LeaveLastItemSampled(InteractionLog log, int negatives = 100, int seed = 42, int cutoff = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(negatives);
        HoldoutProtocol full = LeaveLastItem(log, cutoff);
        var random = new Random(seed);
        var sampled = new int[full._cases.Count][];
        int items = log.Items.Count;
        for (int c = 0; c < sampled.Length; c++)
        {
            var (user, history, relevant) = full._cases[c];
            var seen = new HashSet<int>(history.Select(e => e.Item)) { relevant[0] };
            if (items - seen.Count < negatives)
            {
                throw new ArgumentException($"Only {items - seen.Count} items are left to sample for user {user}; {negatives} negatives were asked for.", nameof(negatives));
            }

            var draw = new int[negatives];
            for (int k = 0; k < negatives; k++)
            {
                int item;
                do
                {
                    item = random.Next(items);
                }
                while (!seen.Add(item));
                draw[k] = item;
            }

            sampled[c] = draw;
        }

        return new HoldoutProtocol("leave-last-item-sampled", log, full._train, full._cases, cutoff, explore: false)
        {
            _sampledNegatives = sampled,
        };
    }

    /// <summary>Fits <paramref name="model"/> on the training events and evaluates it.</summary>
    /// <param name="model">A fresh model.</param>
    /// <param name="progress">Optional training progress.</param>
    /// <param name="cancellationToken">Stops training.</param>
    /// <returns>The metrics, training seconds and evaluated users.</returns>
    public ProtocolResult FitAndEvaluate(IRecommender model, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var clock = Stopwatch.StartNew();
        model.Fit(_train, _log.Users.Count, _log.Items.Count, progress, cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        return Evaluate(model, seconds);
    }

    /// <summary>Evaluates an already-trained model.</summary>
    /// <param name="model">A model trained on <see cref="TrainingEvents"/>.</param>
    /// <param name="trainSeconds">Training time to report.</param>
    /// <returns>The metrics.</returns>
    public ProtocolResult Evaluate(IRecommender model, double trainSeconds = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        int items = model.ItemCount;
        var accumulator = new RankingMetricsAccumulator(items, Cutoff);
        var scores = new float[items];
        var top = new int[Cutoff];
        var candidates = new List<int>();
        for (int c = 0; c < _cases.Count; c++)
        {
            var (user, history, relevantAll) = _cases[c];
            model.Score(user, history, scores);
            if (_sampledNegatives is not null)
            {
                // Rank the target among its sampled negatives only (the same tie rule as the full ranking).
                int target = relevantAll[0];
                int[] negatives = _sampledNegatives[c];
                float[] negativeScores = [.. negatives.Select(i => scores[i])];
                int rank = Ranking.SampledRank(target, scores[target], negatives, negativeScores);
                candidates.Clear();
                candidates.Add(target);
                candidates.AddRange(negatives);
                int[] ordered = [.. candidates.OrderBy(i => i, Comparer<int>.Create((a, b) => Ranking.RanksAbove(scores[a], a, scores[b], b) ? -1 : Ranking.RanksAbove(scores[b], b, scores[a], a) ? 1 : 0)).Take(Cutoff)];
                accumulator.Add(ordered, relevantAll, rank);
                continue;
            }

            int[] excluded = Explore ? [.. history.Select(e => e.Item).Distinct().Order()] : [];
            int[] relevant = Explore ? [.. relevantAll.Where(i => Array.BinarySearch(excluded, i) < 0)] : relevantAll;
            int found = Ranking.TopK(scores, excluded, top);
            if (relevant.Length == 0)
            {
                accumulator.Add(top.AsSpan(0, found), relevant);
                continue;
            }

            int firstRank = Ranking.FirstRelevantRank(scores, relevant, excluded);
            accumulator.Add(top.AsSpan(0, found), relevant, firstRank);
        }

        return new ProtocolResult(Name, model.Name, accumulator.Results(), trainSeconds, accumulator.UsersEvaluated);
    }

    /// <summary>The training events in log order (the order models have always been fitted in).</summary>
    private static List<Interaction> TrainOn(InteractionLog log, Func<Interaction, bool> keep)
    {
        var train = new List<Interaction>(log.Count);
        foreach (Interaction e in log.Events)
        {
            if (keep(e))
            {
                train.Add(e);
            }
        }

        return train;
    }

    /// <summary>One user's history from the store (baskets in time order) without the held-out events.</summary>
    private static Interaction[] HistoryOf(UserHistories histories, int user, Func<Interaction, bool> keep)
    {
        var events = new List<Interaction>();
        foreach (ref readonly Interaction e in histories.EventsOf(user))
        {
            if (keep(e))
            {
                events.Add(e);
            }
        }

        return [.. events];
    }
}
