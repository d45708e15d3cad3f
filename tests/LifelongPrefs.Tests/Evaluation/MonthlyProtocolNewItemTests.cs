using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// The monthly protocol with the catalog's descriptions: a described item is a candidate before its first sale, the
/// model is told the texts before it learns, and the new-item share of hits matches a hand count.
/// </summary>
public class MonthlyProtocolNewItemTests
{
    private static readonly DateTime Jan = new(2011, 1, 10, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>January: u0 buys i0, u1 buys i1 and i2. February: u0 buys i1 and i3 — i3's first sale.</summary>
    private static InteractionLog Log()
    {
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u0", "i0", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u1", "i1", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u1", "i2", Jan, EventKind.Purchase));
        log.Add(new InteractionEvent("u0", "i1", Jan.AddMonths(1), EventKind.Purchase));
        log.Add(new InteractionEvent("u0", "i3", Jan.AddMonths(1), EventKind.Purchase));
        return log;
    }

    [Fact]
    public void A_described_item_first_sold_in_the_month_is_a_candidate_and_its_hit_counts_as_new()
    {
        InteractionLog log = Log();
        string[] descriptions = ["CAKE TIN", "TEA CUP", "TEA POT", "CAKE STAND"];
        var protocol = MonthlyProtocol.Create(log, Jan, Jan.AddMonths(1), cutoff: 2, itemDescriptions: descriptions);
        var model = new MonthlyProtocolTests.FixedScores();

        // Scores rise with the index; u0 bought i0: the ranking is i3, i2 | i1 → i3 is a hit (new), i1 is missed.
        MonthlyResult result = protocol.Incremental(model);
        MonthResult february = Assert.Single(result.Months);
        Assert.Equal((1, 1), (february.Hits, february.NewItemHits));
        Assert.Equal(1.0, result.NewItemHitShare);
        Assert.Equal(0.5, result.Recall, 12);
        Assert.Equal(1.0 / (1.0 + 1.0 / Math.Log2(3)), result.Ndcg, 12); // hit at rank 1 of two relevant items
        Assert.Equal(descriptions.Select((d, i) => (i, d)), model.Texts);
        Assert.True(model.TextsBeforeFit);
    }

    [Fact]
    public void Without_descriptions_an_unseen_item_is_no_candidate_and_no_hit_is_new()
    {
        var protocol = MonthlyProtocol.Create(Log(), Jan, Jan.AddMonths(1), cutoff: 2);
        var model = new MonthlyProtocolTests.FixedScores();

        // Candidates are i1 and i2 (i3 was never seen before February): ranking i2, i1 → i1 is the one hit.
        MonthlyResult result = protocol.Retrained(() => model);
        Assert.Equal((1, 0), (result.Months[0].Hits, result.Months[0].NewItemHits));
        Assert.Equal(0.0, result.NewItemHitShare);
        Assert.Empty(model.Texts);
    }

    [Fact]
    public void With_no_hit_the_share_is_not_a_number()
    {
        var result = new MonthlyResult([new MonthResult(Jan, 0, 0, 1, 0, 0)], 0, 0, 0);
        Assert.True(double.IsNaN(result.NewItemHitShare));
        Assert.True(double.IsNaN(result.Months[0].NewItemHitShare));
    }
}
