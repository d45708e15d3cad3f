namespace LifelongPrefs.Models;

/// <summary>Erasing one user (right to erasure): <see cref="IForgettingModel"/>.</summary>
public sealed partial class RepeatExplore
{
    /// <inheritdoc/>
    /// <remarks>
    /// Resets the user's row and its Adam moments to zero (a new user's), drops the user's pairs from the basket ledger
    /// and their summary, takes one from the co-occurrence of every two distinct items they bought (each such pair was
    /// counted once for them), and takes their buyers, repeat and line counts out of the items' statistics, so these
    /// equal the counts of a stream without the user. Not undone: what the item rows, biases and the gate learned from
    /// the user's baskets, the items' time-decayed line trend (a log-sum that cannot be split by user; reset only where
    /// nobody else bought the item), and the recent-lines ring of the negative sampler (item indices only, aged out
    /// after a million lines). Pending negatives of the user are dropped.
    /// </remarks>
    void IForgettingModel.ForgetUser(int user)
    {
        if ((uint)user >= (uint)_users)
        {
            return;
        }

        _live = null;
        _userRows.Row(user).Clear();
        _userM.AsSpan(user * _d, _d).Clear();
        _userV.AsSpan(user * _d, _d).Clear();
        _negatives.RemoveAll(n => n.User == user);

        var items = new List<(int Item, int Baskets)>();
        for (int e = _baskets.UserAt(user).Head; e >= 0; e = _baskets.Next(e))
        {
            items.Add((_baskets.Item(e), _baskets.Stat(e).Count));
        }

        for (int a = 0; a < items.Count; a++)
        {
            for (int b = a + 1; b < items.Count; b++)
            {
                _cooccurrence.Decrement(items[a].Item, items[b].Item);
            }

            Uncount(items[a].Item, items[a].Baskets);
        }

        DropFromLedger(user);
    }

    /// <inheritdoc/>
    float[] IForgettingModel.UserRow(int user) => (uint)user < (uint)_users ? _userRows.Read(user).ToArray() : [];

    /// <summary>Gets the co-occurrence count of two items as the writer has it (for erasure tests). Writer only.</summary>
    internal float CooccurrenceOf(int a, int b) => _cooccurrence.Get(a, b);

    /// <summary>Gets the number of stored ordered co-occurrence pairs (for erasure tests). Writer only.</summary>
    internal long CooccurrencePairs => _cooccurrence.PairCount;

    /// <summary>Gets an item's buyers, repeat baskets and lines (for erasure tests). Writer only.</summary>
    internal (float Users, float Repeats, float Lines) ItemCountsOf(int item)
    {
        ReadOnlySpan<float> info = _itemInfo.Read(item);
        return (info[ItemInfo.Users], info[ItemInfo.Repeats], info[ItemInfo.Lines]);
    }

    /// <summary>Gets whether every parameter (embedding tables, gate) and every Adam moment is finite (for the fuzz tests). Writer only.</summary>
    internal bool AllParametersFinite() =>
        AllFinite(_userRows.ToArray()) && AllFinite(_inputRows.ToArray()) && AllFinite(_outputRows.ToArray()) && AllFinite(_gate)
        && AllFinite(_userM) && AllFinite(_userV) && AllFinite(_inputM) && AllFinite(_inputV) && AllFinite(_outputM) && AllFinite(_outputV);

    private static bool AllFinite(ReadOnlySpan<float> values) => !values.ContainsAnyExceptInRange(float.MinValue, float.MaxValue);

    /// <summary>Takes one buyer with <paramref name="baskets"/> baskets of the item out of the item's statistics row.</summary>
    private void Uncount(int item, int baskets)
    {
        Span<float> info = _itemInfo.Row(item);
        info[ItemInfo.Users]--;
        info[ItemInfo.Repeats] -= baskets - 1; // every basket after the user's first with the item was a repeat
        info[ItemInfo.Lines] -= baskets;       // one line per basket that held it
        bool bought = info[ItemInfo.Users] > 0f;

        // An item nobody else bought goes back to a never-bought item's row (all zero, no trend), not to f(0).
        info[ItemInfo.Popularity] = bought ? RepeatExploreMath.Popularity(info[ItemInfo.Users]) : 0f;
        info[ItemInfo.InverseSqrtUsers] = bought ? 1f / MathF.Sqrt(info[ItemInfo.Users]) : 0f;
        info[ItemInfo.RepeatShare] = info[ItemInfo.Lines] > 0f ? RepeatExploreMath.ItemRepeat(info[ItemInfo.Repeats], info[ItemInfo.Lines]) : 0f;
        if (!bought)
        {
            info[ItemInfo.LogTrend] = RepeatExploreMath.NoTrend;
        }
    }

    /// <summary>Rebuilds the ledger without the user's pairs (its chains are rebuilt in entry order, as a load does).</summary>
    private void DropFromLedger(int user)
    {
        _baskets.Export(out int[] users, out int[] items, out ItemStat[] stats, out BasketLedger.User[] summary);
        int kept = 0;
        for (int p = 0; p < users.Length; p++)
        {
            if (users[p] != user)
            {
                (users[kept], items[kept], stats[kept]) = (users[p], items[p], stats[p]);
                kept++;
            }
        }

        summary[user] = new BasketLedger.User { Head = -1, LastKey = long.MinValue };
        _baskets.Restore(users.AsSpan(0, kept), items.AsSpan(0, kept), stats.AsSpan(0, kept), summary);
    }
}
