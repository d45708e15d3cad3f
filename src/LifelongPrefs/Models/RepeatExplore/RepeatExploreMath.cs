using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>What the repeat signal knows about one (user, item) pair: built from the user's past baskets.</summary>
internal struct ItemStat
{
    /// <summary>Baskets that held the item.</summary>
    internal int Count;

    /// <summary>0-based index of the user's last basket that held the item.</summary>
    internal int LastBasket;

    /// <summary>Time of the first purchase.</summary>
    internal long FirstTicks;

    /// <summary>Time of the last purchase.</summary>
    internal long LastTicks;

    /// <summary><c>Σ decay^(LastBasket − b)</c> over the baskets b that held the item (the decayed count as of its last basket).</summary>
    internal float Decayed;

    /// <summary>Adds basket <paramref name="basket"/> at <paramref name="ticks"/> (a later basket than any before, or the same one again).</summary>
    internal void Add(int basket, long ticks, float decay)
    {
        if (Count == 0)
        {
            (Count, LastBasket, FirstTicks, LastTicks, Decayed) = (1, basket, ticks, ticks, 1f);
            return;
        }

        LastTicks = Math.Max(LastTicks, ticks);
        if (basket == LastBasket)
        {
            return; // a second line of the item in one basket counts once
        }

        Decayed = Decayed * MathF.Pow(decay, basket - LastBasket) + 1f;
        LastBasket = basket;
        Count++;
    }
}

/// <summary>What the repeat features need to know about the user as a whole.</summary>
/// <param name="Baskets">Baskets in the user's history.</param>
/// <param name="Now">Time of the last history event: "now" for recency (the predicted basket's time is unknown at scoring).</param>
/// <param name="RepeatRatio">Share of later-basket items that were repeats, shrunk towards 0.4 with a pseudo-count of 5.</param>
/// <param name="First">Time of the first history event.</param>
internal readonly record struct UserSummary(int Baskets, long Now, float RepeatRatio, long First)
{
    /// <summary>The shrunk repeat ratio of a user with <paramref name="laterItems"/> items in later baskets, <paramref name="laterRepeats"/> of them repeats.</summary>
    internal static float Ratio(int laterItems, int laterRepeats) => (laterRepeats + 2f) / (laterItems + 5f);
}

/// <summary>
/// The maths of <see cref="RepeatExplore"/>, shared by the online step and the scorer so both see one definition:
/// the gate's features and logit, the sampled-softmax loss of the embedding model and the gate's loss, each with
/// its gradient.
/// </summary>
internal static class RepeatExploreMath
{
    /// <summary>Features per (user, item) candidate.</summary>
    internal const int Features = 20;

    /// <summary>Column of the explore (embedding) score.</summary>
    internal const int ExploreColumn = 8;

    /// <summary>Column of <c>log(1 + co-occurrence score)</c>.</summary>
    internal const int CooccurrenceColumn = 9;

    /// <summary>Column of the popularity feature.</summary>
    internal const int PopularityColumn = 10;

    /// <summary>The popularity feature of an item bought by <paramref name="users"/> users.</summary>
    internal static float Popularity(float users) => MathF.Log(1f + users) / 10f;

    /// <summary>The co-occurrence feature <c>log(1 + c)</c> of a normalised co-occurrence <paramref name="c"/> (≥ 0; 0 stays 0).</summary>
    internal static float LogCooccurrence(float c) => c > 0f ? MathF.Log(1f + c) : 0f;

    /// <summary>
    /// Writes the gate's features of one candidate. Columns 0–7, 11–16 and 18–19 are zero for an item the user never
    /// bought (<paramref name="bought"/> false), which is what lets <see cref="ExploreLogit"/> score most of the
    /// catalog with four terms and the same bits as <see cref="Logit"/>.
    /// </summary>
    /// <param name="f">Receives <see cref="Features"/> values.</param>
    /// <param name="bought">Whether the user bought the item before.</param>
    /// <param name="stat">The pair's repeat statistics (read only when bought).</param>
    /// <param name="user">The user's summary.</param>
    /// <param name="explore">The embedding score.</param>
    /// <param name="cooccurrence">The co-occurrence score (non-negative).</param>
    /// <param name="popularity">The item's <see cref="Popularity"/> feature.</param>
    /// <param name="decay">The per-basket decay.</param>
    /// <param name="itemRepeat">The item's share of repeat lines across all users (<see cref="ItemRepeat"/>).</param>
    /// <param name="trend">The item's time-decayed popularity feature (<see cref="Trend"/>).</param>
    internal static void Fill(Span<float> f, bool bought, in ItemStat stat, in UserSummary user, float explore, float cooccurrence,
        float popularity, float itemRepeat, float trend, float decay)
    {
        f[..Features].Clear();
        float logCooccurrence = LogCooccurrence(cooccurrence);
        f[ExploreColumn] = explore;
        f[CooccurrenceColumn] = logCooccurrence;
        f[PopularityColumn] = popularity;
        f[TrendColumn] = trend;
        if (!bought)
        {
            return;
        }

        int b = Math.Max(user.Baskets, 1);
        float daysSince = (float)Timestamps.Days(Math.Max(user.Now - stat.LastTicks, 0L));
        float logSince = MathF.Log(1f + daysSince);
        f[0] = 1f;
        f[1] = MathF.Log(1f + stat.Count);
        f[2] = (float)stat.Count / b;

        // TIFU-KNN's within-user decay (Hu et al., SIGIR 2020), normalised by the geometric series' limit.
        f[3] = (1f - decay) * stat.Decayed * MathF.Pow(decay, Math.Max(b - 1 - stat.LastBasket, 0));
        f[4] = logSince;
        f[5] = stat.LastBasket == b - 1 ? 1f : 0f;
        if (stat.Count >= 2)
        {
            // Inter-purchase regularity: log elapsed against log mean gap (positive = the item is due again).
            float meanGap = (float)(Timestamps.Days(stat.LastTicks - stat.FirstTicks) / (stat.Count - 1));
            f[6] = logSince - MathF.Log(1f + Math.Max(meanGap, 0f));
            f[7] = 1f;
        }

        f[11] = explore;
        f[12] = logCooccurrence;
        f[13] = user.RepeatRatio;
        f[14] = MathF.Log(1f + b) / 5f;
        f[15] = itemRepeat;
        f[16] = MathF.Log(1f + Math.Max(b - 1 - stat.LastBasket, 0));

        // Recency against the user's own rhythm (days since against the mean days between the user's baskets), and the
        // basket share scaled by how much this user re-buys.
        float userGap = b > 1 ? (float)(Timestamps.Days(user.Now - user.First) / (b - 1)) : 30f;
        f[18] = logSince - MathF.Log(1f + Math.Max(userGap, 0f));
        f[19] = f[2] * user.RepeatRatio;
    }

    /// <summary>
    /// The trend feature at time now (<paramref name="nowOverTau"/> = now / τ) of an item whose log decayed count is <paramref name="logTrend"/>
    /// (<c>log Σ_k exp(t_k / τ)</c> over its lines, τ = <see cref="TrendDays"/>): <c>log(1 + Σ_k exp(−(now − t_k)/τ))</c>.
    /// </summary>
    internal static float Trend(float logTrend, double nowOverTau)
    {
        float x = (float)(logTrend - nowOverTau);
        return x < -30f ? 0f : MathF.Log(1f + MathF.Exp(x));
    }

    /// <summary>Adds one line at <paramref name="ticks"/> to a log decayed count (<see cref="NoTrend"/> when empty).</summary>
    internal static float AddTrend(float logTrend, long ticks)
    {
        double t = ticks / TrendTicks;
        if (logTrend <= NoTrend)
        {
            return (float)t;
        }

        double max = Math.Max(logTrend, t);
        return (float)(max + Math.Log(Math.Exp(logTrend - max) + Math.Exp(t - max)));
    }

    /// <summary>The trend's time constant in days.</summary>
    internal const double TrendDays = 30;

    /// <summary>τ in ticks.</summary>
    internal const double TrendTicks = TrendDays * TimeSpan.TicksPerDay;

    /// <summary>The log decayed count of an item without lines (finite, so states stay finite).</summary>
    internal const float NoTrend = -1e30f;

    /// <summary>Column of the trend feature.</summary>
    internal const int TrendColumn = 17;

    /// <summary>
    /// The item's repeat share: of the baskets that held it, how many held it for a user who had bought it before,
    /// shrunk towards 0.3 with a pseudo-count of 4 (consumables are re-bought, gifts are not).
    /// </summary>
    internal static float ItemRepeat(float repeats, float lines) => (repeats + 1.2f) / (lines + 4f);

    /// <summary>The gate's logit <c>w·f</c>, summed in column order.</summary>
    internal static float Logit(ReadOnlySpan<float> w, ReadOnlySpan<float> f)
    {
        float s = 0f;
        for (int k = 0; k < Features; k++)
        {
            s += w[k] * f[k];
        }

        return s;
    }

    /// <summary>
    /// <see cref="Logit"/> of a never-bought item: the same sums in the same order without the zero columns (adding
    /// <c>w·0</c> to a float leaves it unchanged), so the two agree bit for bit.
    /// </summary>
    internal static float ExploreLogit(ReadOnlySpan<float> w, float explore, float logCooccurrence, float popularity, float trend)
    {
        float s = w[ExploreColumn] * explore;
        s += w[CooccurrenceColumn] * logCooccurrence;
        s += w[PopularityColumn] * popularity;
        s += w[TrendColumn] * trend;
        return s;
    }

    /// <summary>
    /// The embedding model's sampled-softmax loss of one basket and its gradient. The user vector is
    /// <c>h = u + mean_j c_j</c>; row r of <paramref name="rows"/> is an item's output vector with its bias last
    /// (<c>z_r = o_r·h + b_r</c>). For each target t: <c>loss_t = log Σ exp(z) − z_t</c> over t and the negatives
    /// (a negative that is itself a target is left out; each negative's term is weighted by how many catalog items its
    /// draw stands for, so the sum estimates the full softmax's partition function). Returns the mean over targets.
    /// </summary>
    /// <remarks>
    /// Every gradient is written out here: row r's is <c>dz_r·[h; 1]</c> and the user's <c>Σ_r dz_r·o_r</c>. The online
    /// step applies the same gradients without storing the rows' (<see cref="LogitGradients"/>, <see cref="UserGradient"/>,
    /// then <see cref="OptimizerMath.AdamLogitRow"/>); this form is what the finite-difference test checks.
    /// </remarks>
    /// <param name="gradUser">du (d), overwritten.</param>
    /// <param name="gradRows">d rows (R, d+1), overwritten.</param>
    /// <param name="h">Scratch (d): receives h.</param>
    /// <param name="logits">Scratch (R).</param>
    /// <param name="userRow">u (d).</param>
    /// <param name="context">The context items' input rows (n, d), n ≥ 0; each gets <c>du / n</c> (the caller applies it).</param>
    /// <param name="contextCount">n.</param>
    /// <param name="rows">(R, d+1) output rows with biases.</param>
    /// <param name="targets">Slots (into rows) of the targets.</param>
    /// <param name="negatives">Slots of the negatives, one per draw (may repeat).</param>
    /// <param name="negativeLogWeights">Per draw: the log of how many catalog items it stands for (<c>−log(S·q)</c>).</param>
    /// <param name="isTarget">Per slot: whether it is a target (such negatives are skipped).</param>
    /// <param name="d">The embedding width.</param>
    internal static float ExploreLoss(Span<float> gradUser, Span<float> gradRows, Span<float> h, Span<float> logits,
        ReadOnlySpan<float> userRow, ReadOnlySpan<float> context, int contextCount, ReadOnlySpan<float> rows,
        ReadOnlySpan<int> targets, ReadOnlySpan<int> negatives, ReadOnlySpan<float> negativeLogWeights, ReadOnlySpan<bool> isTarget, int d)
    {
        UserVector(h, userRow, context, contextCount, d);
        ExploreLogits(logits, rows, h, d);
        int w = d + 1, slots = rows.Length / w;
        var dz = new float[slots];
        float loss = LogitGradients(dz, logits[..slots], targets, negatives, negativeLogWeights, isTarget);
        UserGradient(gradUser, dz, rows, d);
        for (int r = 0; r < slots; r++)
        {
            TensorPrimitives.Multiply(h[..d], dz[r], gradRows.Slice(r * w, d));
            gradRows[(r * w) + d] = dz[r];
        }

        return loss;
    }

    /// <summary>
    /// The sampled-softmax loss of one basket over the slots' logits (see <see cref="ExploreLoss"/>)
    /// and its gradient with respect to each slot's logit.
    /// </summary>
    /// <param name="dz">∂loss/∂z per slot (R), overwritten.</param>
    /// <param name="logits">z per slot (R).</param>
    /// <param name="targets">Slots of the targets.</param>
    /// <param name="negatives">Slots of the negatives, one per draw (may repeat).</param>
    /// <param name="negativeLogWeights">Per draw: the log of how many catalog items it stands for (<c>−log(S·q)</c>).</param>
    /// <param name="isTarget">Per slot: whether it is a target (such negatives are skipped).</param>
    /// <returns>The mean loss over targets.</returns>
    internal static float LogitGradients(Span<float> dz, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, ReadOnlySpan<int> negatives,
        ReadOnlySpan<float> negativeLogWeights, ReadOnlySpan<bool> isTarget)
    {
        dz[..logits.Length].Clear();
        float loss = 0f, share = 1f / targets.Length;
        foreach (int t in targets)
        {
            // Stable log-sum-exp over the target and its valid, importance-weighted negatives: subtract the largest first.
            float max = logits[t];
            for (int k = 0; k < negatives.Length; k++)
            {
                if (!isTarget[negatives[k]])
                {
                    max = Math.Max(max, logits[negatives[k]] + negativeLogWeights[k]);
                }
            }

            float sum = MathF.Exp(logits[t] - max);
            for (int k = 0; k < negatives.Length; k++)
            {
                if (!isTarget[negatives[k]])
                {
                    sum += MathF.Exp(logits[negatives[k]] + negativeLogWeights[k] - max);
                }
            }

            float logSum = max + MathF.Log(sum);
            loss += (logSum - logits[t]) * share;

            // dz_t = (p_t − 1)/|T|; dz_k = p_k/|T| per draw (a negative drawn twice counts twice, as in the sum).
            dz[t] += (MathF.Exp(logits[t] - logSum) - 1f) * share;
            for (int k = 0; k < negatives.Length; k++)
            {
                if (!isTarget[negatives[k]])
                {
                    dz[negatives[k]] += MathF.Exp(logits[negatives[k]] + negativeLogWeights[k] - logSum) * share;
                }
            }
        }

        return loss;
    }

    /// <summary>The user vector's gradient <c>dh = Σ_r dz_r·o_r</c> over the slots' rows, in slot order.</summary>
    /// <param name="gradUser">dh (d), overwritten.</param>
    /// <param name="dz">∂loss/∂z per slot (R).</param>
    /// <param name="rows">(R, d+1) output rows with biases, as they were when the logits were computed.</param>
    /// <param name="d">The embedding width.</param>
    internal static void UserGradient(Span<float> gradUser, ReadOnlySpan<float> dz, ReadOnlySpan<float> rows, int d)
    {
        int w = d + 1, slots = rows.Length / w;
        gradUser[..d].Clear();
        for (int r = 0; r < slots; r++)
        {
            if (dz[r] != 0f)
            {
                TensorPrimitives.MultiplyAdd(rows.Slice(r * w, d), dz[r], gradUser[..d], gradUser[..d]);
            }
        }
    }

    /// <summary>
    /// The exploration logit <c>z_r = o_r·h + b_r</c> of every row of <paramref name="rows"/> ((R, d+1), bias last): the
    /// step's explore feature and the embedding loss's logits. <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// never aligns float inputs (that would change how the partial sums compound), so a row gives these bits wherever
    /// it is stored.
    /// </summary>
    internal static void ExploreLogits(Span<float> logits, ReadOnlySpan<float> rows, ReadOnlySpan<float> h, int d)
    {
        int w = d + 1, slots = rows.Length / w;
        for (int r = 0; r < slots; r++)
        {
            logits[r] = TensorPrimitives.Dot(rows.Slice(r * w, d), h[..d]) + rows[r * w + d];
        }
    }

    /// <summary>
    /// <c>destination[k] = (x[k]·s) + destination[k]</c>: <see cref="TensorPrimitives.MultiplyAdd(ReadOnlySpan{float}, float, ReadOnlySpan{float}, Span{float})"/>'s
    /// element-wise arithmetic (a multiply, then an add: neither fuses them), as a plain loop for the gate's 20-value rows,
    /// where that call's overlap checks and vector set-up cost more than the arithmetic.
    /// </summary>
    internal static void AddScaled(Span<float> destination, ReadOnlySpan<float> x, float s)
    {
        for (int k = 0; k < x.Length; k++)
        {
            destination[k] = (x[k] * s) + destination[k];
        }
    }

    /// <summary><c>h = u + mean of the context rows</c> (just u for an empty context).</summary>
    internal static void UserVector(Span<float> h, ReadOnlySpan<float> userRow, ReadOnlySpan<float> context, int contextCount, int d)
    {
        userRow[..d].CopyTo(h);
        if (contextCount == 0)
        {
            return;
        }

        float inverse = 1f / contextCount;
        for (int j = 0; j < contextCount; j++)
        {
            TensorPrimitives.MultiplyAdd(context.Slice(j * d, d), inverse, h[..d], h[..d]);
        }
    }

    /// <summary>
    /// The gate's loss of one basket: a softmax over the candidates' logits <c>w·f_j + log c_j</c>, where the weight
    /// <c>c_j</c> is how many catalog items candidate j stands for (1 for targets and own items taken whole, more for
    /// sampled ones), against the targets' uniform distribution. Accumulates nothing: <paramref name="gradWeights"/> is
    /// overwritten with dL/dw.
    /// </summary>
    /// <param name="gradWeights">dw (<see cref="Features"/>), overwritten.</param>
    /// <param name="logits">Scratch (C).</param>
    /// <param name="features">(C, <see cref="Features"/>) candidate features.</param>
    /// <param name="logWeights">log c_j (C).</param>
    /// <param name="labels">Target share of each candidate (1/|T| for targets, else 0; sums to 1).</param>
    /// <param name="weights">w.</param>
    /// <returns>The cross-entropy.</returns>
    internal static float GateLoss(Span<float> gradWeights, Span<float> logits, ReadOnlySpan<float> features,
        ReadOnlySpan<float> logWeights, ReadOnlySpan<float> labels, ReadOnlySpan<float> weights)
    {
        int c = labels.Length;
        float max = float.NegativeInfinity;
        for (int j = 0; j < c; j++)
        {
            logits[j] = Logit(weights, features.Slice(j * Features, Features)) + logWeights[j];
            max = Math.Max(max, logits[j]);
        }

        float sum = 0f;
        for (int j = 0; j < c; j++)
        {
            sum += MathF.Exp(logits[j] - max);
        }

        float logSum = max + MathF.Log(sum), loss = 0f;
        gradWeights[..Features].Clear();
        for (int j = 0; j < c; j++)
        {
            if (labels[j] > 0f)
            {
                loss += labels[j] * (logSum - logits[j]);
            }

            // dz_j = p_j − y_j; dw += dz_j·f_j.
            float dz = MathF.Exp(logits[j] - logSum) - labels[j];
            AddScaled(gradWeights[..Features], features.Slice(j * Features, Features), dz);
        }

        return loss;
    }
}
