using LifelongPrefs.Data;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Models;

public sealed partial class UpCf
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.UpCf, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the profiles are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        UpCfSetting s = _version.Setting;
        writer.AddInt("userCount", _users);
        writer.AddInt("itemCount", ItemCount);
        writer.AddInts("setting.counts", [s.Recency, s.Locality]);
        writer.AddFloats("setting.asymmetry", [s.Asymmetry]);
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
        var setting = new UpCfSetting(counts[0], reader.Floats("setting.asymmetry", 1)[0], counts[1]);
        reader.Require(setting.Recency >= 1 && setting.Asymmetry is >= 0f and <= 1f && setting.Locality is >= 1 and <= 100,
            $"the saved setting {setting} is out of range");
        double saved = reader.Doubles("validationNdcg", 1)[0];
        double ndcg = reader.Flag("validated") ? saved : double.NaN;
        UserHistories histories = HistoryState.Read(reader, "", users, items);
        UpCfProfiles profiles = Build(histories, users, items, setting.Recency, out int[]?[] bought, out int[]?[] popularItems, out float[]?[] popularValues);
        return () =>
        {
            (_histories, _users, _bought, _popularItems, _popularValues, ValidationNdcg) = (histories, users, bought, popularItems, popularValues, ndcg);
            _version = new UpCfScorer(profiles, items, setting);
        };
    }
}
