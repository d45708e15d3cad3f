using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>The options' growth limits are the ones in force (no hidden, smaller cap behind them).</summary>
public class GrowthLimitTests
{
    private static readonly Interaction[] Events = [new(0, 0, 10, EventKind.Purchase, 1f, 1f, 0), new(1, 1, 20, EventKind.Purchase, 1f, 1f, 1)];

    [Fact]
    public void A_learned_model_grows_to_its_options_limit_past_the_baselines_default()
    {
        // One item past 2^22, the cap an earlier guard applied before the options' MaxItems was ever read.
        const int items = (1 << 22) + 1;
        var model = new BprMf(new BprMfOptions { Dimensions = 1, MaxEpochs = 1, ValidationUsers = 0, MaxItems = items });
        model.Fit(Events, 2, items);
        Assert.Equal(items, model.ItemCount);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Update([], 2, items + 1));
        Assert.Contains(items.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Equal(items, model.ItemCount);
    }

    [Fact]
    public void Popularity_weight_outside_the_catalog_names_the_item()
    {
        var model = new Popularity();
        model.Fit(Events, 2, 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Weight(-1));
        Assert.Equal("item", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Weight(2));
        Assert.True(model.Weight(1) > 0);
    }
}
