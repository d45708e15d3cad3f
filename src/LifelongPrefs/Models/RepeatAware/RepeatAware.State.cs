namespace LifelongPrefs.Models;

public sealed partial class RepeatAware
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.RepeatAware, 1, OptionsFingerprint.Canonical(_options));

    private KeyValuePair<string, Parameter>[] NamedParameters() =>
    [
        .. _mlp.NamedParameters().Select(p => KeyValuePair.Create("mlp." + p.Key, p.Value)),
        .. _gate.NamedParameters().Select(p => KeyValuePair.Create("gate." + p.Key, p.Value)),
    ];

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer)
    {
        KeyValuePair<string, Parameter>[] named = NamedParameters();
        writer.AddInt("itemCount", _items);
        writer.AddInt("userCount", _users);
        writer.AddInt("fitted", _fitted ? 1 : 0);
        writer.AddFloats("popularity", _popularity);

        HistoryViews.Write(writer, "history", _histories);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        _knn.WriteState(writer, "knn.");
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    private protected override Action ReadState(ModelStateReader reader)
    {
        int items = reader.Int("itemCount"), users = reader.Int("userCount");
        bool fitted = reader.Flag("fitted");
        reader.Require(items >= 0 && users >= 0, $"{items} items and {users} users");
        float[] popularity = reader.Floats("popularity", items);
        reader.Require(Array.TrueForAll(popularity, p => p >= 0f), "negative popularity");
        float max = popularity.Length == 0 ? 0f : Math.Max(0f, popularity.Max());
        UserHistories histories = HistoryViews.Read(reader, "history", users, items);
        KeyValuePair<string, Parameter>[] named = NamedParameters();
        float[][] parameters = reader.Parameters(named);
        SavedOptimizer moments = reader.Optimizer(_optimizer, named);
        int[] randomState = reader.Random("random");
        ItemKnn knn = ItemKnn.ReadState(reader, "knn.");
        reader.Require(knn.ItemCount == items, $"the co-occurrence model covers {knn.ItemCount} items, not {items}");

        return () =>
        {
            // Everything validated: swap the state in.
            FixedShapeState.Apply(named, parameters, moments, _optimizer, _random, randomState);
            _histories = histories;
            (_items, _users, _fitted, _popularity, _maxPopularity, _knn) = (items, users, fitted, popularity, max, knn);
        };
    }
}
