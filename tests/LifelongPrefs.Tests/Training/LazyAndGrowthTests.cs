using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// Lazy (sparse-row) updates leave untouched embedding rows and their state bit-identical, while the dense
/// variants move them (through momentum or decay); optimizer state follows <see cref="Parameter.GrowRows"/>.
/// </summary>
public class LazyAndGrowthTests
{
    private const int Rows = 6, Width = 11;

    public static TheoryData<string> Optimizers => new() { "sgd-momentum", "sgd-decay", "adam", "adamw", "adagrad-decay" };

    private static Optimizer Create(string kind, Parameter[] parameters, bool lazy) => kind switch
    {
        "sgd-momentum" => new Sgd(parameters, 0.1f, momentum: 0.9f, lazy: lazy),
        "sgd-decay" => new Sgd(parameters, 0.1f, weightDecay: 0.1f, lazy: lazy),
        "adam" => new Adam(parameters, 0.01f, lazy: lazy),
        "adamw" => new AdamW(parameters, 0.01f, weightDecay: 0.1f, lazy: lazy),
        "adagrad-decay" => new Adagrad(parameters, 0.1f, weightDecay: 0.1f, lazy: lazy),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Step 1 touches rows 0 and 2, step 2 touches only row 0 (after ZeroGrad). Returns the table after each step.
    /// </summary>
    private static (float[] AfterFirst, float[] AfterSecond, Parameter Table, Optimizer Optimizer) Run(string kind, bool lazy)
    {
        Parameter table = Sparse("table", TestData.Uniform(Rows * Width, 5), Rows, Width);
        Parameter bias = Dense("bias", TestData.Uniform(3, 6));
        Optimizer optimizer = Create(kind, [table, bias], lazy);
        SetRowGradient(table, 0, TestData.Uniform(Width, 7));
        SetRowGradient(table, 2, TestData.Uniform(Width, 8));
        SetGradient(bias, TestData.Uniform(3, 9));
        Assert.True(optimizer.Step().Applied);
        float[] afterFirst = table.Value.Span.ToArray();
        optimizer.ZeroGrad();
        SetRowGradient(table, 0, TestData.Uniform(Width, 10));
        SetGradient(bias, TestData.Uniform(3, 11));
        Assert.True(optimizer.Step().Applied);
        return (afterFirst, table.Value.Span.ToArray(), table, optimizer);
    }

    private static float[] RowOf(float[] table, int row) => table.AsSpan(row * Width, Width).ToArray();

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Lazy_step_leaves_untouched_rows_and_their_state_bit_identical(string kind)
    {
        float[] initial = TestData.Uniform(Rows * Width, 5);
        (float[] first, float[] second, _, Optimizer optimizer) = Run(kind, lazy: true);

        // Row 2 was touched only in step 1: unchanged by step 2. Rows 1, 3, 4, 5 were never touched.
        Assert.Equal(RowOf(first, 2), RowOf(second, 2));
        foreach (int row in new[] { 1, 3, 4, 5 })
        {
            Assert.Equal(RowOf(initial, row), RowOf(second, row));
            for (int slot = 0; slot < optimizer.StateCount; slot++)
            {
                float[] state = optimizer.GetState(0, slot).ToArray();
                float start = optimizer is Adagrad a ? a.InitialAccumulator : 0f;
                Assert.All(RowOf(state, row), x => Assert.Equal(start, x));
            }
        }

        // The touched rows did move.
        Assert.NotEqual(RowOf(first, 0), RowOf(second, 0));
        Assert.NotEqual(RowOf(initial, 2), RowOf(first, 2));
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Dense_step_moves_rows_whose_gradient_is_zero(string kind)
    {
        (float[] first, float[] second, _, _) = Run(kind, lazy: false);

        // Momentum / Adam's moments keep row 2 moving after its gradient went to zero; decay moves every row.
        Assert.NotEqual(RowOf(first, 2), RowOf(second, 2));
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Lazy_and_dense_agree_bit_for_bit_on_touched_rows_and_dense_parameters(string kind)
    {
        // Step 1 touches rows 0 and 2 in both runs, so after step 1 the touched rows must agree exactly:
        // the per-row update performs the same float operations as the whole-table update.
        (float[] lazyFirst, _, _, Optimizer lazy) = Run(kind, lazy: true);
        (float[] denseFirst, _, _, Optimizer dense) = Run(kind, lazy: false);
        Assert.Equal(RowOf(denseFirst, 0), RowOf(lazyFirst, 0));
        Assert.Equal(RowOf(denseFirst, 2), RowOf(lazyFirst, 2));

        // The dense bias is updated in full in both modes, identically.
        Assert.Equal(dense.Parameters[1].Value.Span.ToArray(), lazy.Parameters[1].Value.Span.ToArray());
    }

    [Fact]
    public void Lazy_Adam_uses_the_global_step_for_bias_correction()
    {
        // A row first touched on step 3 gets m = 0.1·g, v = 0.001·g², corrected with t = 3 (not 1).
        Parameter table = Sparse("table", new float[2 * Width], 2, Width);
        var adam = new Adam([table], 0.1f, lazy: true);
        float[] g = TestData.Uniform(Width, 21);
        for (int step = 0; step < 2; step++)
        {
            adam.ZeroGrad();
            SetRowGradient(table, 0, g);
            adam.Step();
        }

        adam.ZeroGrad();
        SetRowGradient(table, 1, g);
        adam.Step();
        double[] w = new double[Width], m = new double[Width], v = new double[Width];
        AdamReference(w, ToDouble(g), m, v, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0);
        AssertClose(w, table.Value.Row(1), "row first touched at t = 3");
    }

    [Theory]
    [InlineData("sgd-momentum", true)]
    [InlineData("adam", true)]
    [InlineData("adam", false)]
    [InlineData("adamw", false)]
    [InlineData("adagrad-decay", true)]
    public void State_grows_with_the_parameter_and_old_rows_are_unaffected(string kind, bool sparse)
    {
        const int OldRows = 3, NewRows = 5;
        float[] w0 = TestData.Uniform(OldRows * Width, 31);
        float[] g1 = TestData.Uniform(OldRows * Width, 32), g2 = TestData.Uniform(OldRows * Width, 33);
        float[] newRowsGradient = TestData.Uniform((NewRows - OldRows) * Width, 34);

        // Reference: two steps without growth.
        Parameter reference = sparse ? Sparse("table", w0, OldRows, Width) : Dense("table", w0, OldRows, Width);
        Optimizer referenceOptimizer = Create(kind, [reference], lazy: true);

        // Grown: the same, but rows are appended between the steps and get gradients of their own.
        Parameter grown = sparse ? Sparse("table", w0, OldRows, Width) : Dense("table", w0, OldRows, Width);
        Optimizer grownOptimizer = Create(kind, [grown], lazy: true);

        SetAllRows(reference, g1, OldRows);
        SetAllRows(grown, g1, OldRows);
        referenceOptimizer.Step();
        grownOptimizer.Step();

        grown.GrowRows(NewRows, rows => rows.Fill(0.25f));
        float initialState = grownOptimizer is Adagrad a ? a.InitialAccumulator : 0f;
        for (int slot = 0; slot < grownOptimizer.StateCount; slot++)
        {
            Span<float> state = grownOptimizer.GetState(0, slot);
            Assert.Equal(NewRows * Width, state.Length);
            Assert.Equal(referenceOptimizer.GetState(0, slot).ToArray(), state[..(OldRows * Width)].ToArray());
            Assert.All(state[(OldRows * Width)..].ToArray(), x => Assert.Equal(initialState, x));
        }

        referenceOptimizer.ZeroGrad();
        grownOptimizer.ZeroGrad();
        SetAllRows(reference, g2, OldRows);
        SetAllRows(grown, g2, OldRows);
        for (int r = OldRows; r < NewRows; r++)
        {
            ReadOnlySpan<float> g = newRowsGradient.AsSpan((r - OldRows) * Width, Width);
            if (sparse)
            {
                SetRowGradient(grown, r, g);
            }
            else
            {
                g.CopyTo(grown.Gradient.Row(r));
            }
        }

        Assert.True(referenceOptimizer.Step().Applied);
        Assert.True(grownOptimizer.Step().Applied);
        Assert.Equal(reference.Value.Span.ToArray(), grown.Value.Span[..(OldRows * Width)].ToArray());

        // The new rows took a first step from zero state: with momentum/Adam/Adagrad they moved away from 0.25.
        Assert.All(grown.Value.Span[(OldRows * Width)..].ToArray(), x => Assert.NotEqual(0.25f, x));
    }

    private static void SetAllRows(Parameter parameter, float[] gradient, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> g = gradient.AsSpan(r * Width, Width);
            if (parameter.HasSparseRows)
            {
                SetRowGradient(parameter, r, g);
            }
            else
            {
                g.CopyTo(parameter.Gradient.Row(r));
            }
        }
    }
}
