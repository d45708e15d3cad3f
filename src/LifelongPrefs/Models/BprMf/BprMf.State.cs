namespace LifelongPrefs.Models;

public sealed partial class BprMf
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.BprMf, 1, OptionsFingerprint.Canonical(_options));

    private static KeyValuePair<string, Parameter>[] Named(params Parameter[] tables) => [.. tables.Select(p => KeyValuePair.Create(p.Name, p))];

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer)
    {
        KeyValuePair<string, Parameter>[] named = Named(_users, _items, _itemBias);
        writer.AddInt("userCount", _users.Rows);
        writer.AddInt("itemCount", _items.Rows);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        _seen.Write(writer, "seen");
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    private protected override Action ReadState(ModelStateReader reader) => ReadTables(reader).Apply;

    /// <inheritdoc/>
    Action IContinualModel.PrepareLoad(Stream stream, out int userCount, out int itemCount)
    {
        ModelStateReader reader = ModelStateReader.Read(stream, StateHeader, Name);
        (Action apply, userCount, itemCount) = ReadTables(reader);
        reader.EnsureAllConsumed();
        return apply;
    }

    /// <inheritdoc/>
    async Task<(Action Apply, int Users, int Items)> IContinualModel.PrepareLoadAsync(Stream stream, CancellationToken cancellationToken)
    {
        ModelStateReader reader = await ModelStateReader.ReadAsync(stream, StateHeader, Name, cancellationToken).ConfigureAwait(false);
        (Action Apply, int Users, int Items) prepared = ReadTables(reader);
        reader.EnsureAllConsumed();
        return prepared;
    }

    /// <summary>The validated state's apply action and the table sizes it holds.</summary>
    private (Action Apply, int Users, int Items) ReadTables(ModelStateReader reader)
    {
        int users = reader.Int("userCount"), items = reader.Int("itemCount"), d = _options.Dimensions;
        reader.Require(users >= 0 && items >= 0 && (long)Math.Max(users, items) * d <= int.MaxValue, $"{users} users and {items} items");
        KeyValuePair<string, Parameter>[] current = Named(_users, _items, _itemBias);
        long Length(Parameter p) => (long)(ReferenceEquals(p, _users) ? users : items) * p.Value.RowLength;
        float[][] values = reader.Parameters(current, Length);
        SavedOptimizer moments = reader.Optimizer(_optimizer, current, Length);
        int[] randomState = reader.Random("random");
        UserItemSets seen = UserItemSets.Read(reader, "seen", items);
        long pairs = Enumerable.Range(0, seen.UserCount).Sum(u => (long)seen.Of(u).Count);

        // Every applied step trained at least one new pair, and a pair is trained in at most max(epochs) steps.
        reader.Require(seen.UserCount == users && moments.Steps <= (long)Math.Max(_options.MaxEpochs, _options.UpdateEpochs) * pairs,
            "seen items, users and step count disagree");

        return (() =>
        {
            // Everything validated: build the new tables and optimizer, then swap them in.
            var userTable = new Parameter("users", Tensor.FromArray(values[0], users, d), sparseRows: true);
            var itemTable = new Parameter("items", Tensor.FromArray(values[1], items, d), sparseRows: true);
            var biasTable = new Parameter("itemBias", Tensor.FromArray(values[2], items, 1), sparseRows: true);
            var optimizer = new Adam([userTable, itemTable, biasTable], _options.LearningRate, lazy: true);
            moments.ApplyTo(optimizer, Named(userTable, itemTable, biasTable));
            (_users, _items, _itemBias, _optimizer, _seen) = (userTable, itemTable, biasTable, optimizer, seen);
            _regularised = [_users, _items];
            _random.SetState(randomState);
        }, users, items);
    }
}
