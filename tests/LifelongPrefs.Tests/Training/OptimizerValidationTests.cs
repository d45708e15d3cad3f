using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>Bad hyper-parameters are rejected with exceptions that name the argument and carry the value.</summary>
public class OptimizerValidationTests
{
    private static readonly Parameter[] s_parameters = [Dense("w", [1f, 2f])];

    public static TheoryData<float> BadRates => new() { -1e-3f, float.NaN, float.PositiveInfinity, float.NegativeInfinity };

    public static TheoryData<float> BadBetas => new() { -0.1f, 1f, 1.5f, float.NaN };

    private static void AssertRejects(string name, Action create)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(name, error.ParamName);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadRates))]
    public void Bad_learning_rate_is_rejected_everywhere(float rate)
    {
        AssertRejects("learningRate", () => _ = new Sgd(s_parameters, rate));
        AssertRejects("learningRate", () => _ = new Adam(s_parameters, rate));
        AssertRejects("learningRate", () => _ = new AdamW(s_parameters, rate));
        AssertRejects("learningRate", () => _ = new Adagrad(s_parameters, rate));
        AssertRejects("learningRate", () => _ = new ConstantSchedule(rate));
        AssertRejects("learningRate", () => _ = new StepSchedule(rate, 10, 0.5f));
        AssertRejects("learningRate", () => _ = new CosineSchedule(rate, 10));
    }

    [Theory]
    [MemberData(nameof(BadRates))]
    public void Bad_learning_rate_setter_is_rejected_and_keeps_the_old_rate(float rate)
    {
        var adam = new Adam(s_parameters, 0.01f);
        AssertRejects("LearningRate", () => adam.LearningRate = rate);
        Assert.Equal(0.01f, adam.LearningRate);
        adam.LearningRate = 0f;
        Assert.Equal(0f, adam.LearningRate);
    }

    [Theory]
    [MemberData(nameof(BadBetas))]
    public void Betas_outside_unit_interval_are_rejected(float beta)
    {
        AssertRejects("beta1", () => _ = new Adam(s_parameters, beta1: beta));
        AssertRejects("beta2", () => _ = new Adam(s_parameters, beta2: beta));
        AssertRejects("beta1", () => _ = new AdamW(s_parameters, beta1: beta));
        AssertRejects("beta2", () => _ = new AdamW(s_parameters, beta2: beta));
        AssertRejects("momentum", () => _ = new Sgd(s_parameters, 0.1f, momentum: beta));
    }

    [Theory]
    [InlineData(-1e-8f)]
    [InlineData(0f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Epsilon_must_be_positive_and_finite(float epsilon)
    {
        AssertRejects("epsilon", () => _ = new Adam(s_parameters, epsilon: epsilon));
        AssertRejects("epsilon", () => _ = new AdamW(s_parameters, epsilon: epsilon));
        AssertRejects("epsilon", () => _ = new Adagrad(s_parameters, epsilon: epsilon));
    }

    [Theory]
    [InlineData(-0.01f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Negative_or_non_finite_decay_and_accumulator_are_rejected(float value)
    {
        AssertRejects("weightDecay", () => _ = new Sgd(s_parameters, 0.1f, weightDecay: value));
        AssertRejects("weightDecay", () => _ = new Adam(s_parameters, weightDecay: value));
        AssertRejects("weightDecay", () => _ = new AdamW(s_parameters, weightDecay: value));
        AssertRejects("weightDecay", () => _ = new Adagrad(s_parameters, weightDecay: value));
        AssertRejects("initialAccumulator", () => _ = new Adagrad(s_parameters, initialAccumulator: value));
    }

    [Fact]
    public void Nesterov_without_momentum_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Sgd(s_parameters, 0.1f, nesterov: true));
        Assert.Equal("nesterov", error.ParamName);
    }

    [Fact]
    public void Parameter_list_must_be_non_null_without_nulls_or_duplicates()
    {
        Assert.Throws<ArgumentNullException>(() => new Adam(null!));
        var nullEntry = Assert.Throws<ArgumentException>(() => new Adam([s_parameters[0], null!]));
        Assert.Equal("parameters", nullEntry.ParamName);
        var duplicate = Assert.Throws<ArgumentException>(() => new Sgd([s_parameters[0], s_parameters[0]], 0.1f));
        Assert.Equal("parameters", duplicate.ParamName);
        Assert.Contains("'w'", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetState_rejects_out_of_range_indices()
    {
        var adam = new Adam(s_parameters);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.GetState(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.GetState(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(s_parameters, 0.1f).GetState(0, 0));
    }

    [Fact]
    public void Defaults_match_the_documented_values()
    {
        var adam = new Adam(s_parameters);
        Assert.Equal((1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay, adam.Lazy));
        var adamW = new AdamW(s_parameters);
        Assert.Equal((1e-3f, 0.01f), (adamW.LearningRate, adamW.WeightDecay));
        var adagrad = new Adagrad(s_parameters);
        Assert.Equal((1e-2f, 1e-10f, 0f), (adagrad.LearningRate, adagrad.Epsilon, adagrad.InitialAccumulator));
        Assert.Equal(0, new Sgd(s_parameters, 0.1f).StateCount);
        Assert.Equal(1, new Sgd(s_parameters, 0.1f, momentum: 0.5f).StateCount);
    }
}
