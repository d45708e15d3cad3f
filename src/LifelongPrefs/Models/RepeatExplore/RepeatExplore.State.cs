namespace LifelongPrefs.Models;

public sealed partial class RepeatExplore
{
    // The window and sample sizes (ToleratedOnLoad) may differ from the saved ones: the tables mean the same under any.
    private static readonly string[] ToleratedOptions = OptionsFingerprint.Tolerated<RepeatExploreOptions>();

    private protected override ModelStateHeader StateHeader =>
        new(ModelTypeId.RepeatExplore, 1, OptionsFingerprint.Canonical(_options)) { ToleratedOptions = ToleratedOptions };

    /// <inheritdoc/>
    /// <remarks>
    /// Sections: the counts and step number; the tables (<c>users</c>, <c>items.input</c>, <c>items.output</c> with the
    /// bias last in each row, <c>items.users</c>) and <c>gate</c>; Adam's moments of each under <c>adam.m.</c>/<c>adam.v.</c>;
    /// the generator; the co-occurrence counts (CSR); the per-pair repeat statistics (<c>pairs.*</c>) and per-user
    /// summaries (<c>user.*</c>); the queued negatives. Open baskets never outlive an update, so none are saved.
    /// </remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        writer.AddInt("userCount", _users);
        writer.AddInt("itemCount", _items);
        writer.AddLong("adam.steps", _steps);
        writer.AddLong("latestTicks", _latest);
        writer.AddFloats("users", _userRows.ToArray());
        writer.AddFloats("items.input", _inputRows.ToArray());
        writer.AddFloats("items.output", _outputRows.ToArray());
        float[] info = _itemInfo.ToArray();
        writer.AddFloats("items.users", Column(info, ItemInfo.Users));
        writer.AddFloats("items.repeats", Column(info, ItemInfo.Repeats));
        writer.AddFloats("items.lines", Column(info, ItemInfo.Lines));
        writer.AddFloats("items.logTrend", Column(info, ItemInfo.LogTrend));
        (int[] ring, int next) = _sampler.Export();
        writer.AddInts("sampler.ring", ring);
        writer.AddInt("sampler.next", next);
        writer.AddFloats("gate", _gate);
        writer.AddFloats("adam.m.gate", _gateM);
        writer.AddFloats("adam.v.gate", _gateV);
        writer.AddFloats("adam.m.users", _userM[..(_users * _d)]);
        writer.AddFloats("adam.v.users", _userV[..(_users * _d)]);
        writer.AddFloats("adam.m.items.input", _inputM[..(_items * _d)]);
        writer.AddFloats("adam.v.items.input", _inputV[..(_items * _d)]);
        writer.AddFloats("adam.m.items.output", _outputM[..(_items * (_d + 1))]);
        writer.AddFloats("adam.v.items.output", _outputV[..(_items * (_d + 1))]);
        writer.AddRandom("random", _random);
        _cooccurrence.ToCsr(out int[] offsets, out int[] columns, out float[] counts);
        writer.AddCsr("cooccurrence", offsets, columns, counts);

        _baskets.Export(out int[] pairUsers, out int[] pairItems, out ItemStat[] stats, out BasketLedger.User[] summary);
        writer.AddInts("pairs.user", pairUsers);
        writer.AddInts("pairs.item", pairItems);
        writer.AddInts("pairs.count", [.. stats.Select(s => s.Count)]);
        writer.AddInts("pairs.lastBasket", [.. stats.Select(s => s.LastBasket)]);
        writer.AddLongs("pairs.firstTicks", [.. stats.Select(s => s.FirstTicks)]);
        writer.AddLongs("pairs.lastTicks", [.. stats.Select(s => s.LastTicks)]);
        writer.AddFloats("pairs.decayed", [.. stats.Select(s => s.Decayed)]);
        writer.AddInts("user.baskets", [.. summary.Select(s => s.Baskets)]);
        writer.AddLongs("user.lastKey", [.. summary.Select(s => s.LastKey)]);
        writer.AddLongs("user.now", [.. summary.Select(s => s.Now)]);
        writer.AddLongs("user.first", [.. summary.Select(s => s.First)]);
        writer.AddInts("user.laterItems", [.. summary.Select(s => s.LaterItems)]);
        writer.AddInts("user.laterRepeats", [.. summary.Select(s => s.LaterRepeats)]);
        writer.AddInts("negatives.user", [.. _negatives.Select(n => n.User)]);
        writer.AddInts("negatives.item", [.. _negatives.Select(n => n.Item)]);
        WriteTextState(writer);
    }

    private static bool Whole(float n) => n >= 0f && n == MathF.Round(n);

    private float[] Column(float[] info, int column) => [.. Enumerable.Range(0, _items).Select(i => info[i * ItemInfo.Width + column])];

    /// <summary>Validates every section and returns the action that swaps them in (the model is not touched before).</summary>
    private protected override Action ReadState(ModelStateReader reader)
    {
        int users = reader.Int("userCount"), items = reader.Int("itemCount");
        reader.Require(users >= 0 && items >= 0 && users <= _options.MaxUsers && items <= _options.MaxItems,
            $"{users} users and {items} items (limits {_options.MaxUsers} and {_options.MaxItems})");
        long steps = reader.Long("adam.steps");
        long latest = reader.Long("latestTicks");
        reader.Require(steps >= 0 && latest >= 0, $"a negative step count {steps} or time {latest}");
        int d = _d, w = d + 1;
        float[] userRows = reader.Floats("users", (long)users * d);
        float[] inputRows = reader.Floats("items.input", (long)items * d);
        float[] outputRows = reader.Floats("items.output", (long)items * w);
        float[] itemUsers = reader.Floats("items.users", items);
        float[] itemRepeats = reader.Floats("items.repeats", items), itemLines = reader.Floats("items.lines", items);
        float[] itemTrend = reader.Floats("items.logTrend", items);
        reader.Require(Enumerable.Range(0, items).All(i => Whole(itemUsers[i]) && Whole(itemRepeats[i]) && Whole(itemLines[i]) && itemRepeats[i] <= itemLines[i]),
            "an item's user, repeat or line count is not a whole non-negative number");
        int[] ring = reader.Ints("sampler.ring");
        int next = reader.Int("sampler.next");
        reader.Require(ring.Length <= SamplerCapacity && (uint)next < SamplerCapacity && Array.TrueForAll(ring, i => (uint)i < (uint)items)
            && (ring.Length == SamplerCapacity || next == ring.Length % SamplerCapacity), "the negative sampler's ring is out of range");
        float[] gate = reader.Floats("gate", F), gateM = reader.Floats("adam.m.gate", F), gateV = reader.Floats("adam.v.gate", F);
        float[] userM = reader.Floats("adam.m.users", (long)users * d), userV = reader.Floats("adam.v.users", (long)users * d);
        float[] inputM = reader.Floats("adam.m.items.input", (long)items * d), inputV = reader.Floats("adam.v.items.input", (long)items * d);
        float[] outputM = reader.Floats("adam.m.items.output", (long)items * w), outputV = reader.Floats("adam.v.items.output", (long)items * w);
        reader.Require(Array.TrueForAll(gateV, v => v >= 0f) && Array.TrueForAll(userV, v => v >= 0f)
            && Array.TrueForAll(inputV, v => v >= 0f) && Array.TrueForAll(outputV, v => v >= 0f), "a negative second moment");
        int[] randomState = reader.Random("random");
        var (offsets, columns, counts) = reader.CsrValues("cooccurrence", items, items);
        CowCooccurrence? cooccurrence = CowCooccurrence.FromCsr(items, ChunkRows, offsets, columns, counts);
        reader.Require(cooccurrence is not null, "the co-occurrence counts are not a symmetric off-diagonal matrix of whole positive counts");

        int[] pairUsers = reader.Ints("pairs.user"), pairItems = reader.Ints("pairs.item", pairUsers.Length);
        int pairs = pairUsers.Length;
        int[] count = reader.Ints("pairs.count", pairs), lastBasket = reader.Ints("pairs.lastBasket", pairs);
        long[] firstTicks = reader.Longs("pairs.firstTicks", pairs), lastTicks = reader.Longs("pairs.lastTicks", pairs);
        float[] decayed = reader.Floats("pairs.decayed", pairs);
        int[] baskets = reader.Ints("user.baskets", users), laterItems = reader.Ints("user.laterItems", users), laterRepeats = reader.Ints("user.laterRepeats", users);
        long[] lastKey = reader.Longs("user.lastKey", users), now = reader.Longs("user.now", users), first = reader.Longs("user.first", users);
        int[] negativeUsers = reader.Ints("negatives.user"), negativeItems = reader.Ints("negatives.item", negativeUsers.Length);
        var distinct = new HashSet<(int, int)>();
        bool pairsValid = true;
        for (int p = 0; p < pairs && pairsValid; p++)
        {
            pairsValid = (uint)pairUsers[p] < (uint)users && (uint)pairItems[p] < (uint)items && distinct.Add((pairUsers[p], pairItems[p]))
                && count[p] >= 1 && (uint)lastBasket[p] < (uint)baskets[pairUsers[p]] && firstTicks[p] <= lastTicks[p] && decayed[p] >= 1f;
        }

        reader.Require(pairsValid, "a (user, item) statistic is out of range or repeated");
        reader.Require(Array.TrueForAll(baskets, b => b >= 0) && Enumerable.Range(0, users).All(u => laterRepeats[u] >= 0 && laterItems[u] >= laterRepeats[u]),
            "a user's basket or repeat counts are out of range");
        reader.Require(Array.TrueForAll(negativeUsers, u => u >= 0) && Array.TrueForAll(negativeItems, i => i >= 0), "a negative index in the queued negatives");
        Action restoreText = ReadTextState(reader, items);

        return () =>
        {
            // Everything validated: swap the state in.
            Reset();
            _userRows.Assign(userRows, users);
            _inputRows.Assign(inputRows, items);
            _outputRows.Assign(outputRows, items);
            var info = new float[items * ItemInfo.Width];
            for (int i = 0; i < items; i++)
            {
                float n = itemUsers[i];
                info[i * ItemInfo.Width + ItemInfo.Users] = n;
                info[i * ItemInfo.Width + ItemInfo.Popularity] = RepeatExploreMath.Popularity(n);
                info[i * ItemInfo.Width + ItemInfo.InverseSqrtUsers] = n > 0f ? 1f / MathF.Sqrt(n) : 0f;
                info[i * ItemInfo.Width + ItemInfo.Repeats] = itemRepeats[i];
                info[i * ItemInfo.Width + ItemInfo.Lines] = itemLines[i];
                info[i * ItemInfo.Width + ItemInfo.RepeatShare] = RepeatExploreMath.ItemRepeat(itemRepeats[i], itemLines[i]);
                info[i * ItemInfo.Width + ItemInfo.LogTrend] = itemTrend[i];
            }

            _itemInfo.Assign(info, items);
            _cooccurrence = cooccurrence!;
            gate.CopyTo(_gate);
            gateM.CopyTo(_gateM);
            gateV.CopyTo(_gateV);
            (_userM, _userV, _inputM, _inputV, _outputM, _outputV) = (userM, userV, inputM, inputV, outputM, outputV);
            _random.SetState(randomState);
            _sampler.Grow(items);
            var stats = new ItemStat[pairs];
            for (int p = 0; p < pairs; p++)
            {
                stats[p] = new ItemStat { Count = count[p], LastBasket = lastBasket[p], FirstTicks = firstTicks[p], LastTicks = lastTicks[p], Decayed = decayed[p] };
            }

            var summary = new BasketLedger.User[users];
            for (int u = 0; u < users; u++)
            {
                summary[u] = new BasketLedger.User
                {
                    Baskets = baskets[u], LastKey = lastKey[u], Now = now[u], First = first[u], LaterItems = laterItems[u], LaterRepeats = laterRepeats[u],
                };
            }

            _baskets.Restore(pairUsers, pairItems, stats, summary);
            for (int k = 0; k < negativeUsers.Length; k++)
            {
                _negatives.Add((negativeUsers[k], negativeItems[k]));
            }

            _sampler.Grow(items);
            _sampler.Restore(ring, next, items);
            (_steps, _users, _items, _latest) = (steps, users, items, latest);
            GrowScratch();
            restoreText();
        };
    }
}
