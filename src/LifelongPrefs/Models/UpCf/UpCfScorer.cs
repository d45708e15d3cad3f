namespace LifelongPrefs.Models;

/// <summary>One UP-CF@r setting: the recency window r, the asymmetry α and the locality q.</summary>
internal readonly record struct UpCfSetting(int Recency, float Asymmetry, int Locality);

/// <summary>
/// The stored users of one <see cref="UpCf"/> version, immutable: each user's recency-aware popularity row, the
/// item → users index of everything each user ever bought, and how many distinct items that is.
/// </summary>
internal sealed class UpCfProfiles(SparseRows popularity, SparseRows boughtByItem, int[] distinctItems)
{
    /// <summary>Gets each user's popularity over their last r baskets (<c>π_v(i)</c>).</summary>
    internal SparseRows Popularity { get; } = popularity;

    /// <summary>Gets, per item, the users who ever bought it.</summary>
    internal SparseRows BoughtByItem { get; } = boughtByItem;

    /// <summary>Gets each user's number of distinct items, <c>|N(v)|</c>.</summary>
    internal int[] DistinctItems { get; } = distinctItems;
}

/// <summary>
/// The scoring of <see cref="UpCf"/> over one immutable version (profiles and setting) with its own scratch pool: the
/// model scores through it and <see cref="UpCf.CreateScorer"/> hands it out as the snapshot.
/// </summary>
internal sealed class UpCfScorer : NeighbourScorer<UpCfSetting>
{
    private readonly ScratchPool<Scratch> _pool;

    // |N(v)|^(1−α) per stored user, so a score raises no power per neighbour for the denominator.
    private readonly float[] _neighbourNorm;

    internal UpCfScorer(UpCfProfiles profiles, int items, UpCfSetting setting)
        : base(items, setting)
    {
        Profiles = profiles;
        _neighbourNorm = [.. profiles.DistinctItems.Select(n => (float)Math.Pow(n, 1.0 - setting.Asymmetry))];
        _pool = new ScratchPool<Scratch>(() => new Scratch(items, profiles.DistinctItems.Length));
    }

    /// <summary>Gets the stored users' profiles.</summary>
    internal UpCfProfiles Profiles { get; }

    /// <summary>
    /// Writes a history's profile into <paramref name="into"/> (Faggioli et al. 2020): every distinct item it ever
    /// bought is touched (that is <c>N(u)</c>), and an item's value is the share of the last min(r, baskets) baskets
    /// that hold it (the recency-aware user popularity <c>π_u(i)</c>; zero for an item bought only earlier).
    /// </summary>
    internal static void Profile(ReadOnlySpan<Interaction> history, int recency, SparseVector into)
    {
        int n = BasketWalk.Count(history), window = Math.Min(recency, n), first = n - window;
        var walk = new BasketItems(history, into);
        while (walk.Next(out int basket, out int item))
        {
            into.Add(item, basket >= first ? 1f / window : 0f);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <c>score(i) = Σ_v w_uv^q · π_v(i)</c> over the stored users v sharing an item with the history (the others
    /// have w = 0), with <c>w_uv = |N(u) ∩ N(v)| / (|N(u)|^α·|N(v)|^(1−α))</c>, plus the history's own
    /// <c>π_u</c> at <c>w_uu = 1</c>; the stored row of <paramref name="user"/> is not counted twice. The overlaps come
    /// from the item → users index: O(postings of the history's items + the neighbours' popularity rows).
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.Scoring(history, scores, ItemCount);
        Scratch scratch = _pool.Rent();
        try
        {
            SparseVector own = scratch.Own, overlap = scratch.Overlap;
            Profile(history, Setting.Recency, own);
            SparseRows byItem = Profiles.BoughtByItem;
            foreach (int i in own.Touched)
            {
                foreach (int v in byItem.Columns(i))
                {
                    if (v != user)
                    {
                        overlap.Add(v, 1f);
                    }
                }
            }

            scores.Clear();
            double ownNorm = Math.Pow(own.Count, Setting.Asymmetry);
            foreach (int v in overlap.Touched)
            {
                double w = overlap.Values[v] / (ownNorm * _neighbourNorm[v]);
                float weight = (float)Math.Pow(w, Setting.Locality);
                ReadOnlySpan<int> items = Profiles.Popularity.Columns(v);
                ReadOnlySpan<float> values = Profiles.Popularity.Values(v);
                for (int j = 0; j < items.Length; j++)
                {
                    scores[items[j]] += weight * values[j];
                }
            }

            foreach (int i in own.Touched)
            {
                scores[i] += own.Values[i];
            }
        }
        finally
        {
            scratch.Own.Clear();
            scratch.Overlap.Clear();
            _pool.Return(scratch);
        }
    }

    /// <summary>One call's buffers: the history's profile and the overlap count per stored user.</summary>
    private sealed class Scratch(int items, int users)
    {
        internal SparseVector Own { get; } = new(items);

        internal SparseVector Overlap { get; } = new(users);
    }
}
