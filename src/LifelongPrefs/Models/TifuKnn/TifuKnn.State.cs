namespace LifelongPrefs.Models;

public sealed partial class TifuKnn
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.TifuKnn, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the vectors are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        TifuKnnSetting s = _version.Setting;
        NeighbourModel.WriteCounts(writer, _users, ItemCount, ValidationNdcg);
        writer.AddInts("setting.counts", [s.Neighbors, s.Groups]);
        writer.AddFloats("setting.weights", [s.WithinGroupDecay, s.GroupDecay, s.Alpha]);
        HistoryViews.Write(writer, "history", _histories, _users);
    }

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader)
    {
        (int users, int items, double ndcg) = NeighbourModel.ReadCounts(reader, _options.MaxUsers, _options.MaxItems);
        int[] counts = reader.Ints("setting.counts", 2);
        float[] weights = reader.Floats("setting.weights", 3);
        var setting = new TifuKnnSetting(counts[0], counts[1], weights[0], weights[1], weights[2]);
        reader.Require(setting.Neighbors is >= 1 and <= 100_000 && setting.Groups >= 1
            && setting.WithinGroupDecay is > 0f and <= 1f && setting.GroupDecay is > 0f and <= 1f && setting.Alpha is >= 0f and <= 1f,
            $"the saved setting {setting} is out of range");
        UserHistories histories = HistoryViews.Read(reader, "history", users, items);
        TifuKnnVectors vectors = Build(histories, users, items, setting, out int[]?[] rowItems, out float[]?[] rowValues);
        return () =>
        {
            (_histories, _users, _rowItems, _rowValues, ValidationNdcg) = (histories, users, rowItems, rowValues, ndcg);
            _version = Version(vectors, items, setting);
        };
    }
}
