using LifelongPrefs.Data;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Models;

public sealed partial class TifuKnn
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.TifuKnn, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the vectors are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        TifuKnnSetting s = _version.Setting;
        writer.AddInt("userCount", _users);
        writer.AddInt("itemCount", ItemCount);
        writer.AddInts("setting.counts", [s.Neighbors, s.Groups]);
        writer.AddFloats("setting.weights", [s.WithinGroupDecay, s.GroupDecay, s.Alpha]);
        // The state format holds finite numbers only: "no validation" is a flag, not a NaN.
        writer.AddInt("validated", double.IsNaN(ValidationNdcg) ? 0 : 1);
        writer.AddDoubles("validationNdcg", [double.IsNaN(ValidationNdcg) ? 0 : ValidationNdcg]);
        HistoryState.Write(writer, "", _histories, _users);
    }

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader)
    {
        int users = reader.Int("userCount"), items = reader.Int("itemCount");
        reader.Require(users >= 0 && users <= _options.MaxUsers && items >= 0 && items <= _options.MaxItems,
            $"{users} users and {items} items (the limits are {_options.MaxUsers} and {_options.MaxItems})");
        int[] counts = reader.Ints("setting.counts", 2);
        float[] weights = reader.Floats("setting.weights", 3);
        var setting = new TifuKnnSetting(counts[0], counts[1], weights[0], weights[1], weights[2]);
        reader.Require(setting.Neighbors is >= 1 and <= 100_000 && setting.Groups >= 1
            && setting.WithinGroupDecay is > 0f and <= 1f && setting.GroupDecay is > 0f and <= 1f && setting.Alpha is >= 0f and <= 1f,
            $"the saved setting {setting} is out of range");
        double saved = reader.Doubles("validationNdcg", 1)[0];
        double ndcg = reader.Flag("validated") ? saved : double.NaN;
        UserHistories histories = HistoryState.Read(reader, "", users, items);
        TifuKnnVectors vectors = Build(histories, users, items, setting, out int[]?[] rowItems, out float[]?[] rowValues);
        return () =>
        {
            (_histories, _users, _rowItems, _rowValues, ValidationNdcg) = (histories, users, rowItems, rowValues, ndcg);
            _version = Version(vectors, items, setting);
        };
    }
}
