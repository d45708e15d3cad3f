namespace LifelongPrefs.Models;

/// <summary>
/// Recommends what this shopper buys most often, falling back to what everyone buys: the score is the number of
/// the user's own positive events for the item, plus global popularity scaled below 1 to order everything else.
/// </summary>
/// <remarks>
/// In retail, where people re-buy, this is the baseline to beat: "A Next Basket Recommendation Reality Check"
/// (Li et al., TOIS 2023) shows most neural next-basket models lose to it. Each history event counts once, so an
/// item on two lines of one invoice counts twice.
/// </remarks>
public sealed class PersonalPopularity : Recommender
{
    private readonly Popularity _global = new();

    /// <inheritdoc/>
    public override string Name => "PersonalPopularity";

    /// <inheritdoc/>
    public override int ItemCount => _global.ItemCount;

    /// <inheritdoc/>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _global.Fit(events, userCount, itemCount, null, cancellationToken);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
    }

    private protected override ModelStateHeader StateHeader => new(ModelTypeId.PersonalPopularity, 1, OptionsFingerprint.Canonical(new { }));

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer) => _global.WriteState(writer, "popularity.");

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader) => _global.ReadState(reader, "popularity.");

    /// <inheritdoc/>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) =>
        _global.Update(newEvents, userCount, itemCount);

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        PersonalPopularityScorer.Score(_global, user, history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer() => new PersonalPopularityScorer(_global.CreateScorer());
}
