using System.Globalization;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using Spectre.Console;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// One model's progress bar across every fit the holdout protocols make of it: the bar is split into equal
/// stages (one per fit, each followed by its evaluations), a fit's epochs fill its stage, and a stage is complete
/// when its work returns — also when a trainer stops early before its planned epochs. The bar stops (and its
/// elapsed time with it) when the model is finished.
/// </summary>
/// <remarks>Reports are applied on the caller's thread as they arrive (not posted like <see cref="Progress{T}"/>), so
/// no late report can move a finished bar.</remarks>
internal sealed class ModelProgress
{
    // Of each stage, the share its fit's epochs fill; the rest is its evaluation.
    private const double FitShare = 0.9;

    // "leave last item: epoch 100/100 · loss 0.1234 · val 0.1234" fits.
    private const int StatusWidth = 58;

    private readonly ProgressTask _task;
    private readonly string _name;
    private readonly int _stages;
    private int _stage = -1;
    private string _stageName = string.Empty;

    /// <summary>Creates the bar of one model, not yet started.</summary>
    /// <param name="task">The Spectre task (max value 100, added with autoStart false).</param>
    /// <param name="name">The model's display name.</param>
    /// <param name="stages">How many fits the model goes through.</param>
    internal ModelProgress(ProgressTask task, string name, int stages)
    {
        _task = task;
        _name = name;
        _stages = stages;
        _task.Description = Describe("waiting");
    }

    /// <summary>Starts the next fit: the returned reporter fills its stage epoch by epoch.</summary>
    /// <param name="stageName">What the fit is for (e.g. <c>next basket</c>).</param>
    /// <returns>A synchronous progress reporter for <see cref="IRecommender.Fit"/>.</returns>
    internal IProgress<TrainingProgress> BeginFit(string stageName)
    {
        if (_stage < 0)
        {
            _task.StartTask();
        }

        _stage++;
        _stageName = stageName;
        _task.Value = StageStart;
        _task.Description = Describe($"{stageName}: fitting");
        return new Reporter(this);
    }

    /// <summary>The fit (and its first evaluation) returned: fill its share of the stage and show that the other evaluation runs.</summary>
    internal void BeginEvaluation()
    {
        _task.Value = StageStart + (StageWidth * FitShare);
        _task.Description = Describe($"{_stageName}: evaluating");
    }

    /// <summary>Completes the bar and stops its clock.</summary>
    /// <param name="trainSeconds">The model's total training seconds over every fit.</param>
    internal void Finish(double trainSeconds)
    {
        _task.Value = _task.MaxValue;
        _task.Description = Describe(string.Create(CultureInfo.InvariantCulture, $"done ({_stages} fits, {trainSeconds:F1} s training)"));
        _task.StopTask();
    }

    private double StageWidth => _task.MaxValue / _stages;

    private double StageStart => StageWidth * _stage;

    private void Report(TrainingProgress progress)
    {
        double fraction = progress.TotalEpochs > 0 ? Math.Clamp((double)progress.Epoch / progress.TotalEpochs, 0, 1) : 0;

        // Never move back within a stage: a model may report a second, shorter phase of the same fit.
        _task.Value = Math.Max(_task.Value, StageStart + (StageWidth * FitShare * fraction));
        _task.Description = Describe(FormatEpoch(_stageName, progress));
    }

    /// <summary>The status text of one epoch report: epoch, then loss and validation metric when the model has them.</summary>
    internal static string FormatEpoch(string stageName, TrainingProgress progress)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{stageName}: epoch {progress.Epoch}/{progress.TotalEpochs}");
        if (double.IsFinite(progress.Loss))
        {
            text.Append(CultureInfo.InvariantCulture, $" · loss {progress.Loss:F4}");
        }

        if (double.IsFinite(progress.ValidationMetric))
        {
            text.Append(CultureInfo.InvariantCulture, $" · val {progress.ValidationMetric:F4}");
        }

        return text.ToString();
    }

    // A fixed width, so the bar does not shift as the status text changes length.
    private string Describe(string status) => Markup.Escape($"{_name,-18} {status,-StatusWidth}");

    private sealed class Reporter(ModelProgress owner) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => owner.Report(value);
    }
}
