using LifelongPrefs.Data;
using LifelongPrefs.Nn;
using LifelongPrefs.Persistence;
using LifelongPrefs.Training;

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

        // Histories as CSR over users (the item is the column), with one aligned section per other Interaction field.
        List<Interaction> all = [.. _histories.SelectMany(h => h)];
        writer.AddLists("history", [.. _histories.Select(h => h.ConvertAll(e => e.Item))]);
        writer.AddLongs("history.ticks", [.. all.Select(e => e.Ticks)]);
        writer.AddInts("history.kind", [.. all.Select(e => (int)e.Kind)]);
        writer.AddFloats("history.quantity", [.. all.Select(e => e.Quantity)]);
        writer.AddFloats("history.value", [.. all.Select(e => e.Value)]);
        writer.AddInts("history.basket", [.. all.Select(e => e.Basket)]);
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
        List<List<int>> historyItems = reader.Lists("history", items);
        int n = historyItems.Sum(h => h.Count);
        long[] ticks = reader.Longs("history.ticks", n);
        int[] kind = reader.Ints("history.kind", n);
        float[] quantity = reader.Floats("history.quantity", n);
        float[] value = reader.Floats("history.value", n);
        int[] basket = reader.Ints("history.basket", n);
        reader.Require(historyItems.Count == users && Array.TrueForAll(kind, k => Enum.IsDefined((EventKind)k)) && Array.TrueForAll(basket, b => b >= -1),
            "the histories disagree with the user count or hold invalid events");
        KeyValuePair<string, Parameter>[] named = NamedParameters();
        float[][] parameters = reader.Parameters(named);
        SavedOptimizer moments = reader.Optimizer(_optimizer, named);
        int[] randomState = reader.Random("random");
        ItemKnn knn = ItemKnn.ReadState(reader, "knn.");
        reader.Require(knn.ItemCount == items, $"the co-occurrence model covers {knn.ItemCount} items, not {items}");

        return () =>
        {
            var histories = new List<List<Interaction>>(users);
            int at = 0;
            for (int u = 0; u < users; u++)
            {
                var history = new List<Interaction>(historyItems[u].Count);
                foreach (int item in historyItems[u])
                {
                    history.Add(new Interaction(u, item, ticks[at], (EventKind)kind[at], quantity[at], value[at], basket[at]));
                    at++;
                }

                histories.Add(history);
            }

            // Everything validated: swap the state in.
            for (int p = 0; p < named.Length; p++)
            {
                parameters[p].CopyTo(named[p].Value.Value.Span);
                named[p].Value.ZeroGradient();
            }

            moments.ApplyTo(_optimizer, named);
            _random.SetState(randomState);
            _histories.Clear();
            _histories.AddRange(histories);
            (_items, _users, _fitted, _popularity, _maxPopularity, _knn) = (items, users, fitted, popularity, max, knn);
        };
    }
}
