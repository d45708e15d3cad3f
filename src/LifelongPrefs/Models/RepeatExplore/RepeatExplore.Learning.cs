using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

public sealed partial class RepeatExplore
{
    // Open baskets of the current stream (all committed before Stream returns): per user its key and the newest of
    // its pending lines, chained through the pending arrays.
    private long[] _openKey = [];
    private int[] _openHead = [];
    private int[] _pendingItem = new int[64], _pendingNext = new int[64];
    private long[] _pendingTicks = new long[64];
    private int _pendingCount;
    private readonly List<int> _openUsers = [];

    // One step's scratch, grown with the catalog and the options, reused by every step (no allocation per step).
    private int[] _slotOf = [], _slotStamp = [];

    // The gate step's index of the user's entries by item (valid where _entryStamp holds the step's stamp), so that
    // testing a candidate against the user's items costs an array read instead of a probe of the ledger's table.
    private int[] _entryOf = [], _entryStamp = [];
    private int _stamp;
    private int[] _targets = [], _slotItems = [], _targetSlots = [], _negativeSlots = [], _recent = [], _recentBasket = [];
    private bool[] _isTarget = [];
    private float[] _negativeLogWeights = [], _recentInverse = [];

    // The current draw of negatives and how many more baskets share it (0: draw before the next basket). A draw never
    // outlives the Stream that made it, so a checkpoint between calls holds all there is to resume.
    private int[] _drawnNegatives = [];
    private int _drawLeft;
    private CoocRow[] _recentRows = [];
    private float[] _h = [], _gradUser = [], _userCopy = [], _context = [], _rows = [], _dz = [], _logits = [];
    private float[] _features = [], _logWeights = [], _labels = [], _gateLogits = [], _gateGrad = new float[F];
    private int[] _candidates = [];

    private void GrowScratch()
    {
        int d = _d, s = _options.Negatives, recent = Math.Max(_options.ContextItems, _options.CooccurrenceItems);
        // Capacities double (as the tables' do): a tracker grows the catalog a few users per micro-batch, and resizing
        // to the exact count would copy these arrays on every batch.
        if (_openKey.Length < _users)
        {
            int old = _openKey.Length, capacity = Capacity(_users, old);
            Array.Resize(ref _openKey, capacity);
            Array.Resize(ref _openHead, capacity);
            _openKey.AsSpan(old).Fill(long.MinValue);
            _openHead.AsSpan(old).Fill(-1);
        }

        if (_slotOf.Length < _items)
        {
            int capacity = Capacity(_items, _slotOf.Length);
            Array.Resize(ref _slotOf, capacity);
            Array.Resize(ref _slotStamp, capacity);
            Array.Resize(ref _entryOf, capacity);
            Array.Resize(ref _entryStamp, capacity);
        }

        if (_h.Length == 0)
        {
            (_h, _gradUser, _userCopy) = (new float[d], new float[d], new float[d]);
            (_recent, _recentBasket, _context) = (new int[recent], new int[recent], new float[_options.ContextItems * d]);
            (_recentRows, _recentInverse) = (new CoocRow[recent], new float[recent]);
            (_negativeSlots, _negativeLogWeights, _drawnNegatives) = (new int[s], new float[s], new int[s]);
        }
    }

    private static int Capacity(int needed, int current) => (int)Math.Min(Math.Max(needed, 2L * current), Array.MaxLength);

    /// <summary>Streams the events: a line whose basket key differs from its user's open basket commits that basket first.</summary>
    private void Stream(IReadOnlyList<Interaction> events, CancellationToken cancellationToken)
    {
        _live = null;
        _drawLeft = 0;
        for (int k = 0; k < events.Count; k++)
        {
            if ((k & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            Interaction e = events[k];
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            int u = e.User;
            long key = e.BasketKey;
            if (_openHead[u] >= 0 && _openKey[u] != key)
            {
                Commit(u);
            }

            if (_openHead[u] < 0)
            {
                _openUsers.Add(u);
                _openKey[u] = key;
            }

            if (_pendingCount == _pendingItem.Length)
            {
                Array.Resize(ref _pendingItem, 2 * _pendingCount);
                Array.Resize(ref _pendingNext, 2 * _pendingCount);
                Array.Resize(ref _pendingTicks, 2 * _pendingCount);
            }

            (_pendingItem[_pendingCount], _pendingNext[_pendingCount], _pendingTicks[_pendingCount]) = (e.Item, _openHead[u], e.Ticks);
            _openHead[u] = _pendingCount++;
        }

        foreach (int u in _openUsers)
        {
            if (_openHead[u] >= 0)
            {
                Commit(u);
            }
        }

        _openUsers.Clear();
        _pendingCount = 0;
    }

    /// <summary>Learns user <paramref name="u"/>'s open basket once, then adds it to the user's statistics and the counts.</summary>
    private void Commit(int u)
    {
        // The pending chain is newest first: collect the distinct items oldest first.
        int n = 0;
        long ticks = long.MinValue;
        for (int p = _openHead[u]; p >= 0; p = _pendingNext[p])
        {
            n++;
            ticks = Math.Max(ticks, _pendingTicks[p]);
        }

        if (_targets.Length < n)
        {
            _targets = new int[Math.Max(n, 2 * _targets.Length)];
        }

        int at = n;
        for (int p = _openHead[u]; p >= 0; p = _pendingNext[p])
        {
            _targets[--at] = _pendingItem[p];
        }

        int distinct = 0;
        NextStamp();
        for (int j = 0; j < n; j++)
        {
            int item = _targets[j];
            if (_slotStamp[item] != _stamp)
            {
                _slotStamp[item] = _stamp;
                _targets[distinct++] = item;
            }
        }

        long key = _openKey[u];
        (_openHead[u], _openKey[u]) = (-1, long.MinValue);
        Learn(u, _targets.AsSpan(0, distinct));
        Record(u, _targets.AsSpan(0, distinct), ticks, key);
    }

    private void NextStamp()
    {
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_slotStamp);
            Array.Clear(_entryStamp);
            _stamp = 1;
        }
    }

    /// <summary>Adds a learned basket to the user's statistics, the co-occurrence counts and the popularity.</summary>
    private void Record(int u, ReadOnlySpan<int> items, long ticks, long key)
    {
        ref BasketLedger.User user = ref _baskets.UserAt(u);
        if (key != user.LastKey)
        {
            user.Baskets++;
        }

        int b = user.Baskets - 1;
        foreach (int item in items)
        {
            int e = _baskets.Find(u, item);
            if (e < 0)
            {
                e = _baskets.Add(u, item);
                if (b > 0)
                {
                    user.LaterItems++;
                }

                // A new (user, item) pair co-occurs once more with each of the user's other items (ItemKNN's counts).
                for (int other = _baskets.Next(e); other >= 0; other = _baskets.Next(other))
                {
                    _cooccurrence.Increment(item, _baskets.Item(other));
                }

                Span<float> info = _itemInfo.Row(item);
                info[ItemInfo.Users]++;
                info[ItemInfo.Popularity] = RepeatExploreMath.Popularity(info[ItemInfo.Users]);
                info[ItemInfo.InverseSqrtUsers] = 1f / MathF.Sqrt(info[ItemInfo.Users]);
            }
            else if (_baskets.Stat(e).LastBasket != b)
            {
                user.LaterItems++;
                user.LaterRepeats++;
                _itemInfo.Row(item)[ItemInfo.Repeats]++;
            }

            if (_baskets.Stat(e).LastBasket != b || _baskets.Stat(e).Count == 0)
            {
                Span<float> row = _itemInfo.Row(item);
                row[ItemInfo.Lines]++;
                row[ItemInfo.LogTrend] = RepeatExploreMath.AddTrend(row[ItemInfo.LogTrend], ticks);
                row[ItemInfo.RepeatShare] = RepeatExploreMath.ItemRepeat(row[ItemInfo.Repeats], row[ItemInfo.Lines]);
            }

            _baskets.Stat(e).Add(b, ticks, _options.Decay);
            _sampler.Add(item);
        }

        user.First = user.Baskets == 1 && key != user.LastKey ? ticks : user.First;
        user.LastKey = key;
        user.Now = Math.Max(user.Now, ticks);
        _latest = Math.Max(_latest, ticks);
    }

    /// <summary>
    /// Selects the user's most recent distinct items (latest basket first, ties by the higher item index) into
    /// <c>_recent</c>; returns how many (at most its length).
    /// </summary>
    private int SelectRecent(int u)
    {
        int n = 0, cap = _recent.Length;
        for (int e = _baskets.UserAt(u).Head; e >= 0; e = _baskets.Next(e))
        {
            int item = _baskets.Item(e), basket = _baskets.Stat(e).LastBasket;
            n = RecentItems.Insert(_recent, _recentBasket, n, cap, item, basket);
        }

        return n;
    }
}
