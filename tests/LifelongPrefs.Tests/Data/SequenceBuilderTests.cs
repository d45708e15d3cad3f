using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>Left padding, masks and target alignment of the sequence builder.</summary>
public class SequenceBuilderTests
{
    private const int Pad = 99;

    [Fact]
    public void Next_item_rows_are_left_padded_and_shifted()
    {
        int[][] sequences = [[1, 2, 3], [7], [4, 5, 6, 7, 8, 9]];
        SequenceBatch batch = SequenceBuilder.NextItem(sequences, maxLength: 4, paddingId: Pad);
        Assert.Equal(2, batch.Rows);
        Assert.Equal(4, batch.Length);
        Assert.Equal([0, 2], batch.Sources); // [7] has no transition

        Assert.Equal([Pad, Pad, 1, 2, /* row 2: the last 4 transitions */ 5, 6, 7, 8], batch.Ids);
        Assert.Equal([0f, 0f, 1f, 1f, 1f, 1f, 1f, 1f], batch.Mask);
        Assert.Equal([-1, -1, 2, 3, 6, 7, 8, 9], batch.Targets);
    }

    [Fact]
    public void Last_position_rows_for_evaluation()
    {
        int[][] histories = [[1, 2], [], [3, 4, 5, 6]];
        SequenceBatch batch = SequenceBuilder.LastPosition(histories, [8, 9, 10], maxLength: 3, paddingId: 0);
        Assert.Equal([0, 1, 2, 0, 0, 0, 4, 5, 6], batch.Ids);
        Assert.Equal([0f, 1f, 1f, 0f, 0f, 0f, 1f, 1f, 1f], batch.Mask);
        Assert.Equal([8, 9, 10], batch.Targets);
        Assert.Equal([-1, -1, -1], SequenceBuilder.LastPosition(histories, null, 3, 0).Targets);
    }

    [Fact]
    public void Validation_names_the_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => SequenceBuilder.NextItem([[1, Pad]], 4, Pad));
        Assert.Contains("padding id 99", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SequenceBuilder.NextItem([[1, -2]], 4, Pad));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceBuilder.NextItem([[1, 2]], 0, Pad));
        Assert.Throws<ArgumentException>(() => SequenceBuilder.LastPosition([[1]], [1, 2], 4, Pad));
    }

    [Fact]
    public void User_sequences_flatten_baskets_in_time_order()
    {
        var day = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u", "a", day, EventKind.Purchase, BasketId: "1"));
        log.Add(new InteractionEvent("u", "b", day, EventKind.Purchase, BasketId: "1"));
        log.Add(new InteractionEvent("u", "a", day, EventKind.Purchase, BasketId: "1"));
        log.Add(new InteractionEvent("u", "a", day.AddDays(1), EventKind.Purchase, BasketId: "2"));
        log.Add(new InteractionEvent("v", "c", day.AddDays(1), EventKind.View));
        int[][] sequences = SequenceBuilder.UserSequences(log);
        Assert.Equal([0, 1, 0], sequences[0]);
        Assert.Empty(sequences[1]);
    }
}
