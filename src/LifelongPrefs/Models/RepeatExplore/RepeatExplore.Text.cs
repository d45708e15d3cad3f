namespace LifelongPrefs.Models;

/// <summary>
/// Text embeddings for items nobody has bought yet: descriptions arrive through <see cref="IItemTextLearner"/>, a
/// projection of their hashed words and 3-grams learns to predict the rows of items with buyers
/// (<see cref="ItemTextProjection"/>), and a described item without a buyer takes its rows from its text, so the
/// scorer ranks it like any other item before its first sale.
/// </summary>
public sealed partial class RepeatExplore : IItemTextLearner
{
    /// <summary>Items bought by at least this many users are the projection's regression targets (their rows have been learned).</summary>
    private const int TextTargetUsers = 3;

    /// <summary>Learning steps the projection takes before it writes any row (an untrained projection predicts zeros).</summary>
    private const long TextWarmSteps = 256;

    /// <summary>
    /// The logit a described item without a buyer is lifted by in the published versions (<see cref="Shift"/>). The
    /// projection predicts the embedding score of an item like those its words share, but such an item lacks what every
    /// bought item has on top — co-occurrence, popularity, trend — so unlifted it never reaches a top 20. On Online Retail's
    /// monthly protocol (2011-06 … 2011-12) a lift of 2 gave new items 0.6% of the hits at an unchanged NDCG@20; 2.5
    /// gave 2.5% of the hits and cost 0.0012 NDCG@20 (new items displacing better bought ones).
    /// </summary>
    private const float TextLogitLift = 2f;

    private ItemTextProjection? _text;
    private float[] _textRow = [];

    /// <summary>
    /// Records item <paramref name="item"/>'s description (its first <see cref="Data.TextHasher.MaxCharacters"/> characters).
    /// Descriptions are catalog knowledge: they survive <see cref="Fit"/>, which relearns the projection from zero.
    /// An item without a buyer takes its rows from its text at the end of the next <see cref="Update"/> or
    /// <see cref="Fit"/> once the projection has learned from enough items with buyers.
    /// </summary>
    /// <param name="item">The item index (non-negative, below <see cref="ModelOptions.MaxItems"/>).</param>
    /// <param name="text">The description.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is negative or not below <see cref="ModelOptions.MaxItems"/>.</exception>
    void IItemTextLearner.AddItemText(int item, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(item);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(item, _options.MaxItems);
        _text ??= new ItemTextProjection(2 * _d + 1, _options.Seed);
        _text.Set(item, text);
    }

    /// <summary>
    /// After a stream of <paramref name="events"/> events: half as many projection steps (at most eight per described item;
    /// round robin over the described items with enough buyers), then rows from the projection for the freshly described items without a buyer and
    /// for as many others in turn.
    /// </summary>
    private void LearnTexts(int events)
    {
        if (_text is not { Described.Count: > 0 } text)
        {
            return;
        }

        int d = _d, w = d + 1, described = text.Described.Count;
        if (_textRow.Length < text.Width)
        {
            _textRow = new float[text.Width];
        }

        // Learning: targets are the rows as they are now (output row and bias, then input row); a whole round without an
        // item with enough buyers ends it early.
        int budget = Math.Min(events / 2, 8 * described), cursor = text.TrainCursor;
        for (int sinceStep = 0; budget > 0 && sinceStep < described;)
        {
            int item = text.Described[cursor];
            cursor = cursor + 1 == described ? 0 : cursor + 1;
            if (item < _items && text.Has(item) && _itemInfo.Read(item)[ItemInfo.Users] >= TextTargetUsers)
            {
                _outputRows.Read(item).CopyTo(_textRow);
                _inputRows.Read(item).CopyTo(_textRow.AsSpan(w, d));
                text.Step(item, _textRow);
                (budget, sinceStep) = (budget - 1, 0);
            }
            else
            {
                sinceStep++;
            }
        }

        text.TrainCursor = cursor;
        if (text.Steps < TextWarmSteps)
        {
            return;
        }

        // Rows: the fresh descriptions first, then a window of the others in turn.
        foreach (int item in text.Fresh)
        {
            FromText(text, item);
        }

        text.ClearFresh();
        int window = Math.Max(64, events / 2);
        cursor = text.RefreshCursor;
        for (int visits = 0; visits < Math.Min(window, described); visits++)
        {
            FromText(text, text.Described[cursor]);
            cursor = cursor + 1 == described ? 0 : cursor + 1;
        }

        text.RefreshCursor = cursor;
        Shift(text);
    }

    /// <summary>
    /// Lifts the bias of every described item without a buyer so that its logit rises by <see cref="TextLogitLift"/>
    /// (the bias is scaled by the gate's explore weight in the logit). Only the published version sees the lift: the
    /// next update takes it off first (<see cref="UnshiftTexts"/>), so learning — where these items are sampled negatives
    /// — never does, and a lifted item's first sale starts from its unlifted text rows.
    /// </summary>
    private void Shift(ItemTextProjection text)
    {
        float explore = _gate[RepeatExploreMath.ExploreColumn];
        float lift = TextLogitLift / explore;
        if (!(explore > 0.05f) || !float.IsFinite(lift))
        {
            return; // a gate that barely reads the explore score cannot be lifted through it
        }

        foreach (int item in text.Described)
        {
            if (item < _items && text.Has(item) && _itemInfo.Read(item)[ItemInfo.Users] == 0f)
            {
                _outputRows.Row(item)[_d] += lift;
                text.Lifted(item, lift);
            }
        }
    }

    /// <summary>Takes the published lift off again before the next update learns (see <see cref="Shift"/>).</summary>
    private void UnshiftTexts()
    {
        if (_text is not { } text)
        {
            return;
        }

        foreach ((int item, float lift) in text.Lifts)
        {
            _outputRows.Row(item)[_d] -= lift;
        }

        text.ClearLifts();
    }

    /// <summary>Sets a described item's output row, bias and input row from its text, if the model has it and nobody bought it.</summary>
    private void FromText(ItemTextProjection text, int item)
    {
        if (item >= _items || !text.Has(item) || _itemInfo.Read(item)[ItemInfo.Users] != 0f)
        {
            return;
        }

        int d = _d, w = d + 1;
        text.Predict(item, _textRow);
        _textRow.AsSpan(0, w).CopyTo(_outputRows.Row(item));
        _textRow.AsSpan(w, d).CopyTo(_inputRows.Row(item));
    }

    /// <summary>Adds the text sections (only when there are descriptions, so a model without any saves exactly as before).</summary>
    private void WriteTextState(ModelStateWriter writer)
    {
        if (_text is not { Described.Count: > 0 } text)
        {
            return;
        }

        (int[] items, int[] offsets, int[] columns, float[] values, float[] weights, long steps, int train, int refresh) = text.Export();
        writer.AddInts("text.items", items);
        writer.AddCsr("text.features", offsets, columns, values);
        writer.AddFloats("text.projection", weights);
        writer.AddLong("text.steps", steps);
        writer.AddInts("text.cursors", [train, refresh]);
        writer.AddInts("text.lifts.item", [.. text.Lifts.Select(l => l.Item)]);
        writer.AddFloats("text.lifts.value", [.. text.Lifts.Select(l => l.Lift)]);
    }

    /// <summary>Validates the text sections, if any, and returns the action that swaps them in (run after the rest).</summary>
    private Action ReadTextState(ModelStateReader reader, int itemCount)
    {
        if (!reader.Has("text.items"))
        {
            return () => _text?.Clear();
        }

        int[] items = reader.Ints("text.items");
        reader.Require(items.Length > 0 && Array.TrueForAll(items, i => (uint)i < (uint)_options.MaxItems) && items.Distinct().Count() == items.Length,
            "a described item is out of range or repeated");
        var (offsets, columns, values) = reader.CsrValues("text.features", items.Length, ItemTextProjection.Buckets);
        float[] weights = reader.Floats("text.projection", (long)ItemTextProjection.Buckets * (2 * _d + 1));
        reader.Require(Array.TrueForAll(weights, float.IsFinite), "a text projection weight is not finite");
        long steps = reader.Long("text.steps");
        int[] cursors = reader.Ints("text.cursors", 2);
        reader.Require(steps >= 0 && (uint)cursors[0] < (uint)items.Length && (uint)cursors[1] < (uint)items.Length, "the text projection's counters are out of range");
        int[] liftItems = reader.Ints("text.lifts.item");
        float[] lifts = reader.Floats("text.lifts.value", liftItems.Length);
        reader.Require(Array.TrueForAll(liftItems, i => (uint)i < (uint)itemCount) && Array.TrueForAll(lifts, float.IsFinite), "a published bias lift is out of range");
        return () =>
        {
            _text ??= new ItemTextProjection(2 * _d + 1, _options.Seed);
            _text.Import(items, offsets, columns, values, weights, steps, cursors[0], cursors[1]);
            for (int k = 0; k < liftItems.Length; k++)
            {
                _text.Lifted(liftItems[k], lifts[k]);
            }
        };
    }
}
