using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>What a model's own early-stopping validation holds out, on a log small enough to list by hand.</summary>
public class HoldoutValidationTests
{
    // User 0: basket 10 = {1, 2}, basket 11 = {3, 5, 4, 5 (a second line of item 5)}; user 1 has one basket (never validated).
    private static readonly Interaction[] Log =
    [
        new(0, 1, 100, EventKind.Purchase, 1f, 1f, 10),
        new(0, 2, 101, EventKind.Purchase, 1f, 1f, 10),
        new(0, 3, 200, EventKind.Purchase, 1f, 1f, 11),
        new(0, 5, 201, EventKind.Purchase, 1f, 1f, 11),
        new(0, 4, 202, EventKind.Purchase, 1f, 1f, 11),
        new(0, 5, 203, EventKind.Purchase, 1f, 1f, 11),
        new(0, 3, 204, EventKind.Return, 1f, 1f, 11),
        new(1, 2, 150, EventKind.Purchase, 1f, 1f, 12),
    ];

    [Fact]
    public void The_last_basket_holdout_removes_the_whole_last_basket()
    {
        HoldoutValidation validation = HoldoutValidation.Create(Log, 2, 10, 1, ValidationHoldout.LastBasket);
        Assert.Equal(1, validation.UserCount);
        Assert.Equal([Log[0], Log[1], Log[7]], validation.FitEvents);
    }

    [Fact]
    public void The_last_item_holdout_removes_only_every_line_of_the_baskets_last_positive_item()
    {
        // The basket's last positive event is the second line of item 5 (the return of item 3 after it is not positive),
        // so both lines of item 5 leave; items 3 and 4 and the return stay in training.
        HoldoutValidation validation = HoldoutValidation.Create(Log, 2, 10, 1, ValidationHoldout.LastItem);
        Assert.Equal(1, validation.UserCount);
        Assert.Equal([Log[0], Log[1], Log[2], Log[4], Log[6], Log[7]], validation.FitEvents);
    }

    [Fact]
    public void Gru4Rec_validates_on_the_last_item_and_the_other_models_on_the_last_basket()
    {
        Assert.Equal(ValidationHoldout.LastItem, new Gru4RecOptions().Validation);
        Assert.Equal(ValidationHoldout.LastBasket, new SasRecOptions().Validation);
        Assert.Equal(ValidationHoldout.LastBasket, new BprMfOptions().Validation);
        ArgumentOutOfRangeException error = Assert.ThrowsAny<ArgumentOutOfRangeException>(
            () => new Gru4Rec(new Gru4RecOptions { Validation = (ValidationHoldout)7 }));
        Assert.Contains("Validation", error.Message, StringComparison.Ordinal);
    }
}
