using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Training;

/// <summary>Restoring moments and step count from a checkpoint continues Adam exactly where it stopped.</summary>
public class RestoreStepCountTests
{
    [Fact]
    public void Restored_optimizer_takes_the_same_next_step_as_the_original()
    {
        var original = new Parameter("w", Tensor.FromArray(TestData.Uniform(10, 1), 10));
        var adam = new Adam([original], learningRate: 0.01f);
        for (int step = 0; step < 3; step++)
        {
            TestData.Uniform(10, 10 + step).CopyTo(original.Gradient.Span);
            adam.StepAndZeroGrad();
        }

        var copy = new Parameter("w", Tensor.FromArray(original.Value.Span.ToArray(), 10));
        var restored = new Adam([copy], learningRate: 0.01f);
        for (int slot = 0; slot < adam.StateCount; slot++)
        {
            adam.GetState(0, slot).CopyTo(restored.GetState(0, slot));
        }

        restored.RestoreStepCount(adam.StepCount);
        TestData.Uniform(10, 99).CopyTo(original.Gradient.Span);
        TestData.Uniform(10, 99).CopyTo(copy.Gradient.Span);
        adam.Step();
        restored.Step();

        Assert.Equal(original.Value.Span.ToArray(), copy.Value.Span.ToArray());
        Assert.Equal(4, restored.StepCount);
        Assert.Equal("stepCount", Assert.Throws<ArgumentOutOfRangeException>(() => restored.RestoreStepCount(-1)).ParamName);
    }
}
