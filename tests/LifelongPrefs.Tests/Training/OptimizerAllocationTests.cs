using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// After a warm-up step, optimizer steps (dense and lazy, with a schedule), clipping and the L2 penalty
/// allocate nothing: the bytes allocated by this thread across further calls must be exactly zero.
/// </summary>
public class OptimizerAllocationTests
{
    private const int Rows = 500, Width = 64;

    private static (Parameter Table, Parameter Weight, Parameter[] All) Model()
    {
        Parameter table = Sparse("table", TestData.Uniform(Rows * Width, 1), Rows, Width);
        Parameter weight = Dense("weight", TestData.Uniform(64 * 33, 2), 64, 33);
        for (int r = 0; r < Rows; r += 3)
        {
            SetRowGradient(table, r, TestData.Uniform(Width, r));
        }

        SetGradient(weight, TestData.Uniform(64 * 33, 3));
        return (table, weight, [table, weight]);
    }

    public static TheoryData<string, bool> Cases => new()
    {
        { "sgd", false }, { "sgd", true }, { "adam", false }, { "adam", true },
        { "adamw", false }, { "adamw", true }, { "adagrad", false }, { "adagrad", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_allocates_nothing_after_warm_up(string kind, bool lazy)
    {
        (_, _, Parameter[] all) = Model();
        Optimizer optimizer = kind switch
        {
            "sgd" => new Sgd(all, 1e-3f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f, lazy: lazy),
            "adam" => new Adam(all, lazy: lazy),
            "adamw" => new AdamW(all, lazy: lazy),
            _ => new Adagrad(all, lazy: lazy),
        };
        optimizer.Schedule = new WarmupSchedule(new CosineSchedule(1e-3f, 100), 5);
        Allocations.AssertNone($"{kind} (lazy: {lazy})", () => Assert.True(optimizer.Step().Applied));
    }

    [Fact]
    public void Skipped_step_clipping_regularisation_and_zero_grad_allocate_nothing()
    {
        (Parameter table, _, Parameter[] all) = Model();
        var adam = new Adam(all, lazy: true);
        IReadOnlyList<Parameter> list = all;
        GradientClipping.ClipByGlobalNorm(list, 1f);
        Regularization.AddL2(list, 1e-4f);
        adam.Step();

        int skips = 0, calls = 0;
        Allocations.AssertNone("clip + L2 + skipped step + zero-grad", () =>
        {
            GradientClipping.ClipByGlobalNorm(list, 1f);
            Regularization.AddL2(list, 1e-4f);
            table.Gradient.Span[0] = float.NaN;
            table.MarkRowTouched(0);
            skips += adam.Step().Skipped ? 1 : 0;
            adam.ZeroGrad();
            calls++;
        });

        Assert.Equal(calls, skips);
    }
}
