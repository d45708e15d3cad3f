using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// The monthly protocol against hand-computed metrics on a four-event log, and the tracker behind
/// <see cref="TrackerRecommender"/> against the model it wraps fitted in one go.
/// </summary>
public class MonthlyProtocolTests
{
    private static readonly DateTime Jan = new(2011, 1, 10, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_fixed_ranking_gets_the_hand_computed_ndcg_and_recall()
    {
        // Items 0..3 are bought in January; in February user 0 buys item 2 (new to them) and item 0 (a re-buy).
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u0", "i0", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u1", "i1", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u1", "i2", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u1", "i3", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u0", "i2", Jan.AddMonths(1), EventKind.Purchase));
        log.Add(new InteractionEvent("u0", "i0", Jan.AddMonths(1), EventKind.Purchase));
        var protocol = MonthlyProtocol.Create(log, Jan, Jan.AddMonths(1), cutoff: 2);
        Assert.Equal([new DateTime(2011, 2, 1, 0, 0, 0, DateTimeKind.Utc)], protocol.Months); // January has no earlier data

        // Scores 3 > 2 > 1 > 0 by item index; item 0 is excluded (bought before): ranking 3, 2 → target 2 at rank 2.
        MonthlyResult result = protocol.Retrained(() => new FixedScores());
        double expectedNdcg = 1 / Math.Log2(3); // one relevant item at position 2; ideal DCG is 1
        Assert.Equal(expectedNdcg, result.Ndcg, 12);
        Assert.Equal(1.0, result.Recall, 12);
        Assert.Equal(1, result.Months[0].Users);
    }

    [Fact]
    public void The_tracker_with_an_itemknn_learner_scores_like_itemknn_fitted_on_the_same_events()
    {
        var log = new InteractionLog();
        var rng = new Random(7);
        DateTimeOffset t = new(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int d = 0; d < 60; d++)
        {
            for (int u = 0; u < 12; u++)
            {
                string basket = $"b{d}-{u}";
                for (int j = 0; j < 3; j++)
                {
                    log.Add(new InteractionEvent($"u{u}", $"i{(u % 3) * 5 + rng.Next(8)}", t.AddDays(d).AddMinutes(u), EventKind.Purchase, BasketId: basket));
                }
            }
        }

        var reference = new ItemKnn();
        reference.Fit(log.Events, log.Users.Count, log.Items.Count);
        using var tracker = new TrackerRecommender(() => new PreferenceTracker(
            new TrackerOptions { MicroBatchSize = 50, FlushInterval = Timeout.InfiniteTimeSpan }, new ItemKnn(), null));
        tracker.Fit(log.Events, log.Users.Count, log.Items.Count);

        Assert.Equal(reference.ItemCount, tracker.ItemCount);
        var expected = new float[reference.ItemCount];
        var actual = new float[tracker.ItemCount];
        for (int u = 0; u < log.Users.Count; u++)
        {
            Interaction[] history = [.. log.Events.Where(e => e.User == u)];
            reference.Score(u, history, expected);
            tracker.Score(u, history, actual);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], actual[i], 5);
            }
        }
    }

    /// <summary>Scores item i with i: an oracle whose rankings are known by hand. Records the descriptions it is given.</summary>
    internal sealed class FixedScores : IRecommender, IItemTextLearner
    {
        public List<(int, string)> Texts { get; } = [];

        public bool TextsBeforeFit { get; private set; }

        public string Name => "fixed";

        public void AddItemText(int item, string text) => Texts.Add((item, text));

        public int ItemCount { get; private set; }

        public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<LifelongPrefs.Training.TrainingProgress>? progress = null,
            CancellationToken cancellationToken = default) => (ItemCount, TextsBeforeFit) = (itemCount, Texts.Count > 0);

        public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) => ItemCount = itemCount;

        public IScorer CreateScorer() => this;

        public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
        {
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = i;
            }
        }

        public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
            throw new NotSupportedException();
    }
}
