using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Training;

/// <summary>Schedule values at chosen steps, worked out by hand, and argument validation.</summary>
public class LearningRateScheduleTests
{
    [Fact]
    public void Constant_is_constant()
    {
        var schedule = new ConstantSchedule(0.3f);
        Assert.Equal(0.3f, schedule.GetLearningRate(0));
        Assert.Equal(0.3f, schedule.GetLearningRate(1_000_000));
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.05)]
    [InlineData(19, 0.05)]
    [InlineData(25, 0.025)]
    [InlineData(100, 0.1 / 1024)]
    public void Step_decays_by_gamma_every_step_size(long step, double expected)
    {
        Assert.Equal(expected, new StepSchedule(0.1f, 10, 0.5f).GetLearningRate(step), 1e-8);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(25, 0.1 + (0.9 * 0.5 * (1 + 0.70710678118654752)))] // cos(π/4)
    [InlineData(50, 0.55)]
    [InlineData(100, 0.1)]
    [InlineData(1000, 0.1)]
    public void Cosine_anneals_to_the_minimum_and_stays(long step, double expected)
    {
        Assert.Equal(expected, new CosineSchedule(1f, 100, 0.1f).GetLearningRate(step), 1e-6);
    }

    [Fact]
    public void Warmup_rises_linearly_then_runs_the_inner_schedule_from_its_start()
    {
        var schedule = new WarmupSchedule(new StepSchedule(0.8f, 2, 0.5f), 4);
        float[] expected = [0.2f, 0.4f, 0.6f, 0.8f, 0.8f, 0.8f, 0.4f, 0.4f, 0.2f];
        for (int step = 0; step < expected.Length; step++)
        {
            Assert.Equal(expected[step], schedule.GetLearningRate(step), 1e-7);
        }

        var none = new WarmupSchedule(new ConstantSchedule(0.5f), 0);
        Assert.Equal(0.5f, none.GetLearningRate(0));
    }

    [Fact]
    public void Optimizer_uses_the_schedule_rate_of_its_step_count()
    {
        var p = OptimizerTestKit.Dense("w", [0f]);
        var sgd = new Sgd([p], 123f) { Schedule = new WarmupSchedule(new ConstantSchedule(1f), 4) };
        p.Gradient.Span[0] = -1f;
        double expected = 0;
        foreach (double rate in new[] { 0.25, 0.5, 0.75, 1.0, 1.0 })
        {
            sgd.Step();
            expected += rate;
            Assert.Equal(expected, p.Value.Span[0], 1e-6);
        }
    }

    [Fact]
    public void Invalid_arguments_are_rejected_with_their_names()
    {
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 0, 0.5f)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 5, 0f)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 5, float.NaN)).ParamName);
        Assert.Equal("totalSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 0)).ParamName);
        Assert.Equal("minLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 10, 0.2f)).ParamName);
        Assert.Equal("minLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 10, -0.1f)).ParamName);
        Assert.Equal("warmupSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupSchedule(new ConstantSchedule(1f), -1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => new WarmupSchedule(null!, 3));
        Assert.Equal("stepCount", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 10).GetLearningRate(-1)).ParamName);
    }
}
