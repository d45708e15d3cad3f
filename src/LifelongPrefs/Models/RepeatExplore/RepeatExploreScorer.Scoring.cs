using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Models;

/// <summary>The scorer's passes over the whole catalog: the fp32 one and the int8 one with an exact re-ranking.</summary>
internal sealed partial class RepeatExploreScorer : IQuantizedScorer, IPreparableScorer
{
    /// <summary>How much of the next segment a catalog pass asks for ahead (4 KB of fp32 rows), where the hardware stream cannot follow.</summary>
    private const int PrefetchFloats = 1024;

    /// <summary><see cref="ScoreCatalog"/>'s mode of <see cref="ScoreByFeatures"/>.</summary>
    private const int ByFeatures = -1;

    private ItemTerms? _terms;
    private Int8ItemTable? _int8;
    private Fp32ItemTable? _fp32;
    private float[]? _constants;

    /// <summary>Gets the version's per-item terms, built by the first call that needs them (any thread; a race builds twice, harmlessly).</summary>
    private ItemTerms Terms => Volatile.Read(ref _terms) ?? Publish(ref _terms, ItemTerms.Build(_info, _gate, _nowOverTau, _items));

    /// <summary>Gets the version's output table in segments (the fp32 pass's copy), built on first use from the previous version's where the chunks are shared.</summary>
    internal Fp32ItemTable Fp32Table => Volatile.Read(ref _fp32) ?? Publish(ref _fp32, Fp32ItemTable.Build(_outputs, _items, _d, _options));

    /// <summary>Gets the version's int8 output table, built on first use from the previous version's where the chunks are shared.</summary>
    internal Int8ItemTable Int8Table => Volatile.Read(ref _int8) ?? Publish(ref _int8, Int8ItemTable.Build(_outputs, _items, _d, _options));

    /// <summary>
    /// Gets the user-independent part of every item's approximate (int8 pass) logit, <c>(w_e·b_i + w_pop·pop_i) + w_trend·trend_i</c>,
    /// built on first use per version: the int8 pass then reads one array besides the table's scales instead of four.
    /// </summary>
    private float[] Constants => Volatile.Read(ref _constants) ?? Publish(ref _constants, BuildConstants(Int8Table, Terms));

    /// <inheritdoc/>
    /// <remarks>The exact pass reads <see cref="Terms"/> and <see cref="Fp32Table"/>; the int8 pass the int8 table, its constants and the terms.</remarks>
    public void Prepare(bool quantized)
    {
        if (_items == 0)
        {
            return;
        }

        if (quantized)
        {
            _ = Constants; // with the int8 table and the terms
        }
        else
        {
            _ = Fp32Table;
            _ = Terms;
        }
    }

    /// <summary>Gets whether the tables of the exact (or, with <paramref name="quantized"/>, the int8) pass are built (for tests).</summary>
    internal bool IsPrepared(bool quantized) =>
        Volatile.Read(ref _terms) is not null && (quantized ? Volatile.Read(ref _constants) is not null : Volatile.Read(ref _fp32) is not null);

    /// <inheritdoc/>
    /// <remarks>
    /// Approximate scores for the catalog from the int8 table (<c>w_explore·(s_i·s_h·q_i·q_h + b_i)</c> plus the same
    /// co-occurrence, popularity and trend terms as <see cref="Score"/>), then the exact fp32 score — the very bits
    /// <see cref="Score"/> writes — for the <paramref name="candidates"/> best items never bought and for every bought
    /// item. The other entries keep their approximate scores.
    /// </remarks>
    public void ScoreQuantized(int user, ReadOnlySpan<Interaction> history, Span<float> scores, int candidates)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(candidates);
        ScoreCatalog(user, history, scores, candidates);
    }

    /// <summary>
    /// The catalog pass: the fused fp32 one when <paramref name="candidates"/> is 0, int8 with that many re-ranked exactly
    /// when positive, the feature-by-feature one for <see cref="ByFeatures"/>.
    /// </summary>
    private void ScoreCatalog(int user, ReadOnlySpan<Interaction> history, Span<float> scores, int candidates)
    {
        RecommenderGuard.Scoring(history, scores, _items);
        if (_items == 0)
        {
            return;
        }

        Scratch scratch = _pool.Rent();
        try
        {
            UserSummary summary = Parse(scratch, history);
            Vector(scratch, user);
            if (candidates == ByFeatures)
            {
                FeatureByFeature(scratch, summary, scores);
                return;
            }

            Span<float> cooccurrence = scratch.Cooccurrence(_items);
            ItemTerms terms = Terms;
            SparseCooccurrence(scratch, terms, cooccurrence);
            if (candidates == 0)
            {
                ExactLogs(scratch.TouchedEntries, cooccurrence);
                ExploreLogits(scratch.H, cooccurrence, terms, Fp32Table, scores);
                Repeats(scratch, summary, scores);
                return;
            }

            ApproximateLogits(scratch, Int8Table, Constants, scores);
            AddApproximateCooccurrence(scratch, cooccurrence, scores);

            // The best never-bought items by the approximate score get their exact score.
            int bought = scratch.Bought.Count, c = Math.Min(candidates, _items);
            if (scratch.BoughtSorted.Length < bought)
            {
                scratch.BoughtSorted = new int[Math.Max(bought, 2 * scratch.BoughtSorted.Length)];
            }

            if (scratch.Candidates.Length < c)
            {
                scratch.Candidates = new int[c];
                scratch.CandidateScores = new float[c];
            }

            Span<int> sorted = scratch.BoughtSorted.AsSpan(0, bought);
            CollectionsMarshal.AsSpan(scratch.Bought).CopyTo(sorted);
            sorted.Sort();
            Span<int> top = scratch.Candidates.AsSpan(0, c);
            int n = Kernels.TopK(scores, sorted, top, scratch.CandidateScores.AsSpan(0, c));
            foreach (int i in top[..n])
            {
                // The candidates' rows are scattered over the table: ask for all of them before the first is needed, so
                // their misses overlap instead of following one another.
                Kernels.Prefetch(_outputs.Row(i));
            }

            float wExplore = _gate[RepeatExploreMath.ExploreColumn], wCooccurrence = _gate[RepeatExploreMath.CooccurrenceColumn];
            foreach (int i in top[..n])
            {
                float log = RepeatExploreMath.LogCooccurrence(cooccurrence[i]); // ExactLogs' value
                scores[i] = ((wExplore * ExactExplore(scratch.H, i)) + (wCooccurrence * log) + terms.Popularity[i]) + terms.Trend[i];
            }

            Repeats(scratch, summary, scores);
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    private static T Publish<T>(ref T? field, T built)
        where T : class => Interlocked.CompareExchange(ref field, built, null) ?? built;

    /// <summary>
    /// Fills <paramref name="cooccurrence"/> (zero on entry) with <c>c_i = inv_i · Σ_j inv_j · C[j, i]</c> for the items the
    /// recent items' rows reach, and keeps the bought items' <c>c_i</c> for their feature rows. The rows' adds list the
    /// entries they touch, so only those are visited afterwards; the normalisers come from the version's
    /// <see cref="ItemTerms"/>.
    /// </summary>
    private void SparseCooccurrence(Scratch scratch, ItemTerms terms, Span<float> cooccurrence)
    {
        int cooc = Math.Min(scratch.RecentCount, _cooccurrenceItems), n = 0;
        ReadOnlySpan<float> inverses = terms.InverseSqrtUsers;
        Span<int> touched = scratch.Touched;
        for (int j = 0; j < cooc; j++)
        {
            int other = scratch.Recent[j];
            float inverse = inverses[other];
            if (inverse > 0f)
            {
                _cooccurrence.AddRowTo(other, inverse, cooccurrence, touched, ref n);
            }
        }

        scratch.TouchedCount = n;
        foreach (int i in touched[..n])
        {
            cooccurrence[i] *= inverses[i];
        }

        if (scratch.BoughtCooccurrence.Length < scratch.Bought.Count)
        {
            scratch.BoughtCooccurrence = new float[Math.Max(scratch.Bought.Count, 2 * scratch.BoughtCooccurrence.Length)];
        }

        for (int k = 0; k < scratch.Bought.Count; k++)
        {
            scratch.BoughtCooccurrence[k] = cooccurrence[scratch.Bought[k]];
        }
    }

    /// <summary>Replaces each touched <c>c_i</c> by its feature <see cref="RepeatExploreMath.LogCooccurrence"/>, as <see cref="RepeatExploreMath.Fill"/> takes it.</summary>
    private static void ExactLogs(ReadOnlySpan<int> touched, Span<float> cooccurrence)
    {
        foreach (int i in touched)
        {
            cooccurrence[i] = RepeatExploreMath.LogCooccurrence(cooccurrence[i]);
        }
    }

    /// <summary>
    /// Adds <c>w_c · log(1 + c_i)</c> to the approximate scores of the touched items, the logs taken at once over a
    /// compact copy with <see cref="TensorPrimitives.Log(ReadOnlySpan{float}, Span{float})"/> (vectorised; an
    /// approximation may differ from <see cref="MathF.Log(float)"/> in the last bits, and the candidates re-ranked
    /// exactly take <see cref="MathF.Log(float)"/> again).
    /// </summary>
    private void AddApproximateCooccurrence(Scratch scratch, ReadOnlySpan<float> cooccurrence, Span<float> scores)
    {
        ReadOnlySpan<int> touched = scratch.TouchedEntries;
        Span<float> logs = scratch.Logs.AsSpan(0, touched.Length);
        for (int j = 0; j < touched.Length; j++)
        {
            logs[j] = cooccurrence[touched[j]];
        }

        // Touched entries are positive (positive weights times positive counts), so 1 + c ≥ 1 and the log is finite.
        TensorPrimitives.Add(logs, 1f, logs);
        TensorPrimitives.Log(logs, logs);
        float wCooccurrence = _gate[RepeatExploreMath.CooccurrenceColumn];
        for (int j = 0; j < touched.Length; j++)
        {
            scores[touched[j]] += wCooccurrence * logs[j];
        }
    }

    /// <summary>Every item's never-bought logit: one dot product per row, segment by segment, then the per-item terms.</summary>
    private void ExploreLogits(ReadOnlySpan<float> h, ReadOnlySpan<float> logCooccurrence, ItemTerms terms, Fp32ItemTable table, Span<float> scores)
    {
        int rows = _outputs.ChunkRows * ItemSegments.Chunks;
        float wExplore = _gate[RepeatExploreMath.ExploreColumn], wCooccurrence = _gate[RepeatExploreMath.CooccurrenceColumn];
        for (int s = 0, at = 0; at < _items; s++, at += rows)
        {
            int m = Math.Min(rows, _items - at);
            Span<float> part = scores.Slice(at, m);
            if (s + 1 < table.Weights.Length)
            {
                Kernels.Prefetch(table.Weights[s + 1].AsSpan(0, Math.Min(table.Weights[s + 1].Length, PrefetchFloats))); // the next segment is another array
            }

            Kernels.RowDots(table.Weights[s].AsSpan(0, m * _d), _d, m, _d, h, part);
            Combine(part, table.Biases[s].AsSpan(0, m), logCooccurrence.Slice(at, m), terms.Popularity.AsSpan(at, m), terms.Trend.AsSpan(at, m), wExplore, wCooccurrence);
        }
    }

    /// <summary>
    /// <c>s = ((w_e·(s + b) + w_c·l) + p) + t</c> element-wise: separate multiplies and adds (never fused), so each lane
    /// rounds exactly as the scalar <c>o·h + b</c> and <see cref="RepeatExploreMath.ExploreLogit"/>'s sums do.
    /// </summary>
    private static void Combine(Span<float> s, ReadOnlySpan<float> b, ReadOnlySpan<float> l, ReadOnlySpan<float> p, ReadOnlySpan<float> t,
        float wExplore, float wCooccurrence)
    {
        int i = 0;
        if (Simd.Current != SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            ref float sr = ref MemoryMarshal.GetReference(s);
            ref float br = ref MemoryMarshal.GetReference(b);
            ref float lr = ref MemoryMarshal.GetReference(l);
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float tr = ref MemoryMarshal.GetReference(t);
            Vector256<float> we = Vector256.Create(wExplore), wc = Vector256.Create(wCooccurrence);
            for (; i + Vector256<float>.Count <= s.Length; i += Vector256<float>.Count)
            {
                Vector256<float> x = Vector256.Multiply(we, Vector256.Add(Vector256.LoadUnsafe(ref sr, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i)));
                x = Vector256.Add(x, Vector256.Multiply(wc, Vector256.LoadUnsafe(ref lr, (nuint)i)));
                x = Vector256.Add(x, Vector256.LoadUnsafe(ref pr, (nuint)i));
                Vector256.Add(x, Vector256.LoadUnsafe(ref tr, (nuint)i)).StoreUnsafe(ref sr, (nuint)i);
            }
        }

        for (; i < s.Length; i++)
        {
            s[i] = ((wExplore * (s[i] + b[i])) + (wCooccurrence * l[i]) + p[i]) + t[i];
        }
    }

    /// <summary>The bought items' logits through the full feature row (the explore score recomputed per item).</summary>
    private void Repeats(Scratch scratch, in UserSummary summary, Span<float> scores)
    {
        Span<float> f = stackalloc float[F];
        for (int k = 0; k < scratch.Bought.Count; k++)
        {
            int item = scratch.Bought[k];
            RepeatExploreMath.Fill(f, true, scratch.Stats[item], summary, Explore(scratch, item), scratch.BoughtCooccurrence[k], Popularity(item),
                RepeatShare(item), Trend(item), _decay);
            scores[item] = RepeatExploreMath.Logit(_gate, f);
        }
    }

    /// <summary>
    /// Item <paramref name="item"/>'s <c>o·h + b</c> with the bits of <see cref="ExploreLogits"/>: Gemv's kernel takes rows
    /// four at a time (a vector accumulator per row) and the rest one by one, so a row inside a group of four takes that
    /// kernel's per-row chain (<see cref="Kernels.GroupedRowDot"/>, which reads the row alone) and a row of the tail the
    /// one-row path.
    /// </summary>
    private float ExactExplore(ReadOnlySpan<float> h, int item)
    {
        int w = _d + 1, rows = _outputs.ChunkRows, c = item / rows, r = item % rows, m = Math.Min(rows, _items - (c * rows));
        ReadOnlySpan<float> row = _outputs.Chunk(c).Slice(r * w, w);
        if (Simd.Current != SimdWidth.Scalar && _d >= Vector256<float>.Count && r < m - (m % 4))
        {
            return Kernels.GroupedRowDot(row[.._d], h) + row[_d];
        }

        Span<float> dot = stackalloc float[1];
        Kernels.RowDots(row[.._d], w, 1, _d, h, dot);
        return dot[0] + row[_d];
    }

    /// <summary>Builds <see cref="Constants"/> from the int8 table's fp32 biases and the version's terms.</summary>
    private float[] BuildConstants(Int8ItemTable table, ItemTerms terms)
    {
        var constants = new float[_items];
        float wExplore = _gate[RepeatExploreMath.ExploreColumn];
        int rows = _outputs.ChunkRows * ItemSegments.Chunks;
        for (int s = 0, at = 0; at < _items; s++, at += rows)
        {
            ReadOnlySpan<float> biases = table.Segments[s].Biases;
            for (int r = 0, m = Math.Min(rows, _items - at); r < m; r++)
            {
                constants[at + r] = ((wExplore * biases[r]) + terms.Popularity[at + r]) + terms.Trend[at + r];
            }
        }

        return constants;
    }

    /// <summary>
    /// Every item's approximate never-bought logit from the int8 table, without the co-occurrence term (the caller adds it
    /// where it is not zero): the user vector is quantized with one scale (<c>q_h = round(h / s_h)</c>), each row's integer
    /// dot product comes from <see cref="Kernels.Int8BlockDots"/>, and <c>Σ (q_i + 128)·q_h − 128·Σ q_h</c> undoes the
    /// unsigned offset.
    /// </summary>
    private void ApproximateLogits(Scratch scratch, Int8ItemTable table, float[] constants, Span<float> scores)
    {
        ReadOnlySpan<float> h = scratch.H;
        float max = 0f;
        foreach (float v in h)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        Span<sbyte> levels = scratch.Levels;
        levels.Clear();
        int sum = 0;
        float hScale = max > 0f && float.IsFinite(max) ? max / 127f : 0f, inverse = hScale > 0f ? 127f / max : 0f;
        for (int j = 0; j < _d; j++)
        {
            levels[j] = (sbyte)Math.Clamp((int)MathF.Round(h[j] * inverse), -127, 127);
            sum += levels[j];
        }

        int rows = _outputs.ChunkRows * ItemSegments.Chunks, groups = QuantizedSegment.Groups(_d);
        if (scratch.Sums.Length < rows)
        {
            scratch.Sums = new int[rows];
        }

        float product = _gate[RepeatExploreMath.ExploreColumn] * hScale;
        int offset = QuantizedSegment.Offset * sum;
        QuantizedSegment[] segments = table.Segments;
        for (int s = 0, at = 0; at < _items; s++, at += rows)
        {
            QuantizedSegment segment = segments[s];
            if (s + 1 < segments.Length)
            {
                Kernels.Prefetch<byte>(segments[s + 1].Packed.AsSpan(0, Math.Min(segments[s + 1].Packed.Length, 4 * PrefetchFloats)));
            }

            Span<int> sums = scratch.Sums.AsSpan(0, segment.Rows);
            Kernels.Int8BlockDots(segment.Packed, levels, groups, sums);
            int m = Math.Min(rows, _items - at);
            Approximate(scores.Slice(at, m), sums, offset, product, segment.Scales, constants.AsSpan(at, m));
        }
    }

    /// <summary><c>s_r = k_r + (w_e·s_h·s_r)·(Σ_r − offset)</c> for one segment's rows (<c>k</c>: <see cref="Constants"/>).</summary>
    private static void Approximate(Span<float> s, ReadOnlySpan<int> sums, int offset, float product, ReadOnlySpan<float> scales,
        ReadOnlySpan<float> constants)
    {
        int r = 0;
        if (Simd.Current != SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            // The sums and scales are at least s long (the segment's rows are padded), constants exactly as long.
            ref float sr = ref MemoryMarshal.GetReference(s);
            ref int dr = ref MemoryMarshal.GetReference(sums);
            ref float cr = ref MemoryMarshal.GetReference(scales);
            ref float kr = ref MemoryMarshal.GetReference(constants);
            Vector256<float> scale = Vector256.Create(product);
            Vector256<int> shift = Vector256.Create(offset);
            for (; r + Vector256<float>.Count <= s.Length; r += Vector256<float>.Count)
            {
                nuint at = (nuint)r;
                Vector256<float> dot = Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref dr, at) - shift);
                (Vector256.LoadUnsafe(ref kr, at) + (scale * Vector256.LoadUnsafe(ref cr, at) * dot)).StoreUnsafe(ref sr, at);
            }
        }

        for (; r < s.Length; r++)
        {
            s[r] = constants[r] + (product * scales[r] * (sums[r] - offset));
        }
    }
}
