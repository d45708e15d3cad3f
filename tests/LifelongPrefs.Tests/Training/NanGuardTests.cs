using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// A step whose gradients hold NaN or infinity is reported and skipped without touching parameters, optimizer
/// state or the step count: the run continues exactly as if the bad step had never been attempted.
/// </summary>
public class NanGuardTests
{
    private const int Width = 9;

    private static (Parameter Weight, Parameter Table) NewModel() =>
        (Dense("weight", TestData.Uniform(13, 1)), Sparse("table", TestData.Uniform(4 * Width, 2), 4, Width));

    private static void GoodGradients(Parameter weight, Parameter table, int seed)
    {
        weight.ZeroGradient();
        table.ZeroGradient();
        SetGradient(weight, TestData.Uniform(13, seed));
        SetRowGradient(table, seed % 4, TestData.Uniform(Width, seed + 100));
    }

    [Theory]
    [InlineData(float.NaN, false)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(float.NegativeInfinity, true)]
    [InlineData(float.NaN, true)]
    public void Non_finite_gradient_skips_the_step_and_names_the_parameter(float bad, bool inTable)
    {
        (Parameter weight, Parameter table) = NewModel();
        var adam = new Adam([weight, table], 0.01f, lazy: true) { Schedule = new CosineSchedule(0.01f, 10) };
        GoodGradients(weight, table, 3);
        Assert.True(adam.Step().Applied);

        GoodGradients(weight, table, 4);
        if (inTable)
        {
            table.Gradient.Row(0)[5] = bad;
        }
        else
        {
            weight.Gradient.Span[7] = bad;
        }

        float[] weightBefore = weight.Value.Span.ToArray(), tableBefore = table.Value.Span.ToArray();
        float[][] stateBefore = [.. Enumerable.Range(0, 4).Select(k => adam.GetState(k / 2, k % 2).ToArray())];

        StepResult result = adam.Step();

        Assert.True(result.Skipped);
        Assert.False(result.Applied);
        Assert.Equal(inTable ? "table" : "weight", result.NonFiniteParameterName);
        Assert.Same(inTable ? table : weight, result.NonFiniteParameter);
        Assert.Equal(inTable ? 1 : 0, result.NonFiniteParameterIndex);
        Assert.Equal(1, result.StepCount);
        Assert.Equal(1, adam.StepCount);
        Assert.Contains(inTable ? "'table'" : "'weight'", result.ToString(), StringComparison.Ordinal);
        Assert.Equal(weightBefore, weight.Value.Span.ToArray());
        Assert.Equal(tableBefore, table.Value.Span.ToArray());
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(stateBefore[k], adam.GetState(k / 2, k % 2).ToArray());
        }
    }

    [Fact]
    public void Run_with_a_skipped_step_equals_run_without_it()
    {
        (Parameter w1, Parameter t1) = NewModel();
        (Parameter w2, Parameter t2) = NewModel();
        var clean = new AdamW([w1, t1], 0.01f, lazy: true) { Schedule = new WarmupSchedule(new ConstantSchedule(0.01f), 3) };
        var guarded = new AdamW([w2, t2], 0.01f, lazy: true) { Schedule = new WarmupSchedule(new ConstantSchedule(0.01f), 3) };
        for (int step = 0; step < 4; step++)
        {
            if (step == 2)
            {
                GoodGradients(w2, t2, 50);
                t2.Gradient.Row(50 % 4)[0] = float.NaN;
                Assert.True(guarded.Step().Skipped);
            }

            GoodGradients(w1, t1, step + 10);
            GoodGradients(w2, t2, step + 10);
            StepResult a = clean.Step(), b = guarded.Step();
            Assert.Equal(a, b);
        }

        Assert.Equal(w1.Value.Span.ToArray(), w2.Value.Span.ToArray());
        Assert.Equal(t1.Value.Span.ToArray(), t2.Value.Span.ToArray());
        Assert.Equal(4, guarded.StepCount);
    }

    [Fact]
    public void Applied_result_reports_rate_and_count()
    {
        (Parameter weight, Parameter table) = NewModel();
        var sgd = new Sgd([weight, table], 0.5f) { Schedule = new StepSchedule(0.5f, 1, 0.5f) };
        GoodGradients(weight, table, 1);
        StepResult first = sgd.Step();
        StepResult second = sgd.Step();
        Assert.True(first.Applied);
        Assert.Null(first.NonFiniteParameter);
        Assert.Null(first.NonFiniteParameterName);
        Assert.Equal(-1, first.NonFiniteParameterIndex);
        Assert.Equal((0.5f, 1L), (first.LearningRate, first.StepCount));
        Assert.Equal((0.25f, 2L), (second.LearningRate, second.StepCount));
    }

    [Fact]
    public void Schedule_returning_an_invalid_rate_throws_before_changing_anything()
    {
        (Parameter weight, Parameter table) = NewModel();
        var sgd = new Sgd([weight, table], 0.1f, momentum: 0.9f) { Schedule = new BadSchedule() };
        GoodGradients(weight, table, 1);
        float[] before = weight.Value.Span.ToArray();
        var error = Assert.Throws<InvalidOperationException>(() => sgd.Step());
        Assert.Contains("NaN", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, weight.Value.Span.ToArray());
        Assert.All(sgd.GetState(0, 0).ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(0, sgd.StepCount);
    }

    private sealed class BadSchedule : ILearningRateSchedule
    {
        public float GetLearningRate(long stepCount) => float.NaN;
    }
}
