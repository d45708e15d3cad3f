using System.Numerics.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Online elastic weight consolidation (Kirkpatrick et al., PNAS 2017; the online form of Schwarz et al., ICML 2018)
/// as a gradient hook: adds <c>λ·F·(θ − θ*)</c> to the gradients of the rows a batch touched and returns
/// <c>(λ/2)·Σ F·(θ − θ*)²</c> over them.
/// </summary>
/// <remarks>
/// <para>
/// <b>Fisher.</b> F is the diagonal empirical Fisher: during an update, every touched row accumulates
/// <c>(n·g)²</c> (g the batch-mean gradient of the loss before this term, n the batch size: the squared gradient of the
/// batch's summed loss, which for embedding rows, rarely touched twice in one batch, sums to the per-example squared
/// gradients); at the end of the update the sum is divided by the number of passes over the data
/// and added to the earlier estimate decayed by <see cref="ContinualOptions.FisherDecay"/>:
/// <c>F_t = γ·F_{t−1} + F̂_t</c>. θ* are the parameters at the end of the previous update.
/// </para>
/// <para>
/// <b>Lazy.</b> Only rows a batch touched are read or written, at O(rows touched) per step: a row's Fisher carries the
/// update it was last brought up to date at, and the decay of the updates it missed is applied when it is next
/// touched; at the end of an update only the rows it touched fold in their new estimate and refresh θ* (untouched rows
/// did not move). Allocates nothing per step once the tables have their size. Each element's coefficient λ·F is capped
/// at <see cref="MaxCoefficient"/> and squared gradients that are not finite are not accumulated, so the term stays
/// finite for finite parameters.
/// </para>
/// </remarks>
internal sealed class OnlineEwc : IGradientHook
{
    /// <summary>The largest coefficient λ·F applied to one element.</summary>
    internal const float MaxCoefficient = 1e6f;

    private readonly IContinualModel _model;
    private readonly float _strength;
    private readonly float _decay;
    private readonly Table[] _tables = [new(), new(), new()];   // users, items, item bias
    private int _update;
    private double _examples;

    /// <summary>Creates the hook for <paramref name="model"/>'s three tables.</summary>
    /// <param name="model">The model.</param>
    /// <param name="strength">λ, finite and non-negative.</param>
    /// <param name="decay">γ in (0, 1].</param>
    internal OnlineEwc(IContinualModel model, float strength, float decay) => (_model, _strength, _decay) = (model, strength, decay);

    /// <summary>Gets or sets whether the penalty is applied (false while the first fit only gathers the Fisher).</summary>
    internal bool Penalise { get; set; }

    /// <summary>Gets the number of updates folded in so far.</summary>
    internal int Updates => _update;

    /// <summary>The current Fisher of one element (decay of missed updates included), for tests.</summary>
    internal float Fisher(Parameter table, int index) => Find(table) is { } t
        ? t.Fisher[index] * Missed(t, index / table.Value.RowLength) : 0f;

    /// <summary>θ* of one element, for tests.</summary>
    internal float Anchor(Parameter table, int index) => Find(table) is { } t ? t.Anchor[index] : 0f;

    /// <inheritdoc/>
    public float Apply(IReadOnlyList<Parameter> parameters)
    {
        Bind();
        int n = Math.Max(_model.LastBatchSize, 1);
        _examples += n;
        double penalty = 0;
        foreach (Table t in _tables)
        {
            Parameter p = t.Parameter!;
            int width = p.Value.RowLength;
            ReadOnlySpan<float> value = p.Value.Span;
            Span<float> gradient = p.Gradient.Span;
            ReadOnlySpan<int> rows = p.TouchedRows;
            bool penalise = Penalise && _strength > 0f;
            for (int k = 0; k < rows.Length; k++)
            {
                if (k + PrefetchDistance < rows.Length && width > 1)
                {
                    // The hook's own tables are cold (backward has just warmed the value and gradient rows): request a
                    // row a few ahead so the memory round trips overlap instead of stalling each row in turn.
                    int ahead = rows[k + PrefetchDistance] * width;
                    Prefetch(t.Accumulated, ahead, width);
                    if (penalise)
                    {
                        Prefetch(t.Anchor, ahead, width);
                        Prefetch(t.Fisher, ahead, width);
                    }
                }

                int row = rows[k], start = row * width;
                if (!t.InUpdate[row])
                {
                    // First touch in this update: bring the row's Fisher up to the end of the previous update.
                    t.InUpdate[row] = true;
                    t.Rows[t.RowCount++] = row;
                    float missed = Missed(t, row);
                    if (missed != 1f)
                    {
                        TensorPrimitives.Multiply(t.Fisher.AsSpan(start, width), missed, t.Fisher.AsSpan(start, width));
                    }

                    t.Stamp[row] = _update - 1;
                }

                // (n·g)² into this update's sum, unless the gradient is not finite (the optimizer skips that step);
                // then g += c·(θ − θ*), c = min(λ·F, cap), and the penalty adds c·(θ − θ*)².
                penalty += EwcRowKernel.Apply(gradient.Slice(start, width), value.Slice(start, width), t.Anchor.AsSpan(start, width),
                    t.Fisher.AsSpan(start, width), t.Accumulated.AsSpan(start, width), n, _strength, MaxCoefficient, penalise,
                    t.Scratch, t.Coefficient);
            }
        }

        return (float)Math.Min(0.5 * penalty, float.MaxValue);
    }

    /// <summary>Ends an update (or the first fit): folds the new Fisher into the rows it touched and moves θ* there.</summary>
    /// <param name="examplesPerPass">How many examples one pass over the update's data holds (the passes divide the sum).</param>
    internal void EndUpdate(long examplesPerPass)
    {
        double passes = examplesPerPass > 0 ? Math.Max(1.0, _examples / examplesPerPass) : 1.0;
        float scale = (float)(1.0 / passes);
        foreach (Table t in _tables)
        {
            if (t.Parameter is null)
            {
                continue;
            }

            int width = t.Parameter.Value.RowLength;
            ReadOnlySpan<float> value = t.Parameter.Value.Span;
            for (int k = 0; k < t.RowCount; k++)
            {
                int row = t.Rows[k], start = row * width;
                for (int c = start; c < start + width; c++)
                {
                    t.Fisher[c] = Math.Min((_decay * t.Fisher[c]) + (t.Accumulated[c] * scale), float.MaxValue);
                    t.Accumulated[c] = 0f;
                    t.Anchor[c] = value[c];
                }

                t.InUpdate[row] = false;
                t.Stamp[row] = _update;
            }

            t.RowCount = 0;
        }

        _update++;
        _examples = 0;
    }

    /// <summary>
    /// Erases one user's row of the user table (right to erasure): its Fisher information, this update's sum and its
    /// anchor θ* — a copy of the user's embedding — become a never-touched row's.
    /// </summary>
    internal void ForgetUser(int user)
    {
        Table t = _tables[0];
        if (t.Parameter is null || user >= t.Stamp.Length)
        {
            return;
        }

        int width = t.Parameter.Value.RowLength, start = user * width;
        t.Fisher.AsSpan(start, width).Clear();
        t.Accumulated.AsSpan(start, width).Clear();
        t.Anchor.AsSpan(start, width).Clear();
        t.Stamp[user] = int.MinValue / 2;
    }

    /// <summary>Gets the user table's Fisher and anchor arrays (for the tracker's state image).</summary>
    internal (float[] Fisher, float[] Anchor) UserTable => (_tables[0].Fisher, _tables[0].Anchor);

    /// <summary>
    /// Adds the hook's state as sections (between updates): the update count, the examples seen in the current one and
    /// whether it penalises, then per table (<c>ewc.users</c>, <c>ewc.items</c>, <c>ewc.itemBias</c>) whether it is
    /// bound to the model, its Fisher, this update's sum, θ*, the per-row stamps and the rows touched in this update.
    /// The arrays are written at their capacity, so a restored hook grows exactly as the saved one would have.
    /// </summary>
    internal void WriteState(Persistence.ModelStateWriter writer)
    {
        writer.AddLongs("ewc.counters", [_update, Penalise ? 1 : 0]);
        writer.AddDoubles("ewc.examples", [_examples]);
        foreach ((string name, Table t) in Names())
        {
            writer.AddInt(name + ".bound", t.Parameter is null ? 0 : 1);
            writer.AddFloats(name + ".fisher", t.Fisher);
            writer.AddFloats(name + ".accumulated", t.Accumulated);
            writer.AddFloats(name + ".anchor", t.Anchor);
            writer.AddInts(name + ".stamp", t.Stamp);
            writer.AddInts(name + ".touched", t.Rows.AsSpan(0, t.RowCount).ToArray());
        }
    }

    /// <summary>
    /// Takes and checks the sections <see cref="WriteState"/> wrote, for a model that will hold <paramref name="users"/>
    /// users and <paramref name="items"/> items of width <paramref name="dimensions"/>; the returned action applies them
    /// after the model's own state is in place (it binds the tables to the model's new parameters).
    /// </summary>
    /// <exception cref="Persistence.ModelStateException">A section is missing or malformed, or the shapes disagree.</exception>
    internal Action ReadState(Persistence.ModelStateReader reader, int users, int items, int dimensions)
    {
        long[] counters = reader.Longs("ewc.counters", 2);
        reader.Require(counters[0] >= 0 && counters[0] <= int.MaxValue && (ulong)counters[1] <= 1, "the EWC counters are out of range");
        double examples = reader.Doubles("ewc.examples", 1)[0];
        reader.Require(examples >= 0, "the EWC example count is negative");
        int update = (int)counters[0];
        var loaded = new List<Action<Table, Parameter>>();
        foreach ((string name, Table _) in Names())
        {
            int rows = name == "ewc.users" ? users : items, width = name == "ewc.itemBias" ? 1 : dimensions;
            bool bound = reader.Int(name + ".bound") == 1;
            float[] fisher = reader.Floats(name + ".fisher"), accumulated = reader.Floats(name + ".accumulated"), anchor = reader.Floats(name + ".anchor");
            int[] stamp = reader.Ints(name + ".stamp");
            long capacity = stamp.Length;
            reader.Require(bound || capacity == 0, $"{name} holds rows but is not bound to the model");
            // The hook grows when a batch touches the grown model, so it may hold fewer rows than the model, never twice as many.
            reader.Require(capacity <= 2L * rows && fisher.Length == capacity * width
                && accumulated.Length == fisher.Length && anchor.Length == fisher.Length, $"{name}'s arrays ({capacity} rows) do not fit {rows} rows of width {width}");
            reader.Require(Array.TrueForAll(fisher, v => v >= 0) && Array.TrueForAll(accumulated, v => v >= 0), $"{name}'s Fisher information is negative");
            reader.Require(Array.TrueForAll(stamp, v => v >= int.MinValue / 2 && v <= update), $"{name}'s row stamps lie outside the updates");
            int[] touched = reader.Ints(name + ".touched");
            reader.Require(touched.Length <= capacity && Array.TrueForAll(touched, r => (uint)r < (uint)capacity) && touched.Distinct().Count() == touched.Length,
                $"{name}'s touched rows are out of range or repeat");
            loaded.Add((t, p) =>
            {
                if (!bound)
                {
                    (t.Parameter, t.Fisher, t.Accumulated, t.Anchor, t.Stamp, t.InUpdate, t.Rows, t.RowCount) = (null, [], [], [], [], [], [], 0);
                    return;
                }

                (t.Parameter, t.Fisher, t.Accumulated, t.Anchor, t.Stamp) = (p, fisher, accumulated, anchor, stamp);
                (t.InUpdate, t.Rows, t.RowCount) = (new bool[capacity], new int[capacity], touched.Length);
                touched.CopyTo(t.Rows, 0);
                foreach (int row in touched)
                {
                    t.InUpdate[row] = true;
                }

                (t.Scratch, t.Coefficient) = (new float[width], new float[width]);
            });
        }

        bool penalise = counters[1] == 1;
        return () =>
        {
            Parameter[] parameters = [_model.UserFactors, _model.ItemFactors, _model.ItemBias];
            for (int k = 0; k < _tables.Length; k++)
            {
                loaded[k](_tables[k], parameters[k]);
            }

            (_update, _examples, Penalise) = (update, examples, penalise);
        };
    }

    private IEnumerable<(string Name, Table Table)> Names() =>
        [("ewc.users", _tables[0]), ("ewc.items", _tables[1]), ("ewc.itemBias", _tables[2])];

    /// <summary>How many touched rows ahead <see cref="Apply"/> requests the hook's rows.</summary>
    private const int PrefetchDistance = 8;

    /// <summary>Hints the CPU to fetch <c>buffer[start .. start + width)</c> (a no-op without SSE); a hint never changes a value.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(float[] buffer, int start, int width)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || (uint)(start + width) > (uint)buffer.Length)
        {
            return;
        }

        // A prefetch never faults; if the GC moved the array in between, the hint would merely be wasted.
        byte* row = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffer[start]);
        for (int offset = 0; offset < width * sizeof(float); offset += 64)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + offset);
        }
    }

    /// <summary>The decay factor of the updates a row missed since its Fisher was last brought up to date.</summary>
    private float Missed(Table t, int row)
    {
        int gap = _update - 1 - t.Stamp[row];
        return gap <= 0 ? 1f : MathF.Pow(_decay, gap);
    }

    private Table? Find(Parameter table) => Array.Find(_tables, t => ReferenceEquals(t.Parameter, table));

    /// <summary>Follows the model's tables: a new table (a refit) starts afresh, a grown one grows the state (amortised doubling).</summary>
    private void Bind()
    {
        Bind(_tables[0], _model.UserFactors);
        Bind(_tables[1], _model.ItemFactors);
        Bind(_tables[2], _model.ItemBias);
    }

    private static void Bind(Table t, Parameter p)
    {
        if (!ReferenceEquals(t.Parameter, p))
        {
            (t.Parameter, t.Fisher, t.Accumulated, t.Anchor, t.Stamp, t.InUpdate, t.Rows, t.RowCount) =
                (p, [], [], [], [], [], [], 0);
            (t.Scratch, t.Coefficient) = (new float[p.Value.RowLength], new float[p.Value.RowLength]);
        }

        int rows = p.Rows;
        if (rows > t.Stamp.Length)
        {
            int capacity = Math.Max(rows, t.Stamp.Length * 2), width = p.Value.RowLength;
            int oldRows = t.Stamp.Length;
            Array.Resize(ref t.Fisher, capacity * width);
            Array.Resize(ref t.Accumulated, capacity * width);
            Array.Resize(ref t.Anchor, capacity * width);
            Array.Resize(ref t.Stamp, capacity);
            Array.Resize(ref t.InUpdate, capacity);
            Array.Resize(ref t.Rows, capacity);
            t.Stamp.AsSpan(oldRows).Fill(int.MinValue / 2);
        }
    }

    /// <summary>The state of one table: Fisher, this update's squared-gradient sum, θ*, per-row stamps and the rows touched in this update.</summary>
    private sealed class Table
    {
        internal Parameter? Parameter;
        internal float[] Fisher = [];
        internal float[] Accumulated = [];
        internal float[] Anchor = [];
        internal int[] Stamp = [];
        internal bool[] InUpdate = [];
        internal int[] Rows = [];
        internal int RowCount;
        internal float[] Scratch = [];
        internal float[] Coefficient = [];
    }
}
