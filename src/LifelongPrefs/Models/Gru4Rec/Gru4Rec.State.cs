using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Models;

public sealed partial class Gru4Rec
{
    // Format 2 saves the history store's events; format 1 saved the derived sequences and item counts (still read).
    private protected override ModelStateHeader StateHeader =>
        new(ModelTypeId.Gru4Rec, 2, OptionsFingerprint.Canonical(_options)) { OldestStateFormat = 1 };

    /// <summary>The parameters under their dotted paths (<c>embedding.weight</c>, <c>gru.…</c>, <c>output.weight</c>, <c>output.bias</c>).</summary>
    private List<KeyValuePair<string, Parameter>> NamedParameters()
    {
        var named = new List<KeyValuePair<string, Parameter>> { new("embedding.weight", _embedding.Weight) };
        named.AddRange(_gru.NamedParameters().Select(p => KeyValuePair.Create("gru." + p.Key, p.Value)));
        if (_outputWeight is not null)
        {
            named.Add(new("output.weight", _outputWeight));
        }

        named.Add(new("output.bias", _outputBias));
        return named;
    }

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer)
    {
        List<KeyValuePair<string, Parameter>> named = NamedParameters();
        writer.AddInt("itemCount", ItemCount);
        writer.AddInt("fitted", _fitted ? 1 : 0);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        writer.AddRandom("samplerRandom", _samplerRandom);
        HistoryViews.Write(writer, "history", _histories);
        if (_options.Loss == Gru4RecLoss.SampledSoftmax)
        {
            // Always there for the sampled loss (empty before the sampler exists), so a removed section cannot pass.
            writer.AddFloats("samplerWeights", _sampler?.Weights.ToArray() ?? []);
        }
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    /// <remarks>
    /// The state must come from a model with the same options; this model's user and item counts must not exceed the
    /// saved ones (tables only grow). Adam's moments and step count and the random generators' states are restored.
    /// </remarks>
    private protected override Action ReadState(ModelStateReader reader)
    {
        int items = reader.Int("itemCount");
        bool fitted = reader.Flag("fitted");
        reader.Require(items >= 0 && (items + 1L) * Math.Max(_options.Dimensions, _options.HiddenSize) <= int.MaxValue, $"{items} items");
        UserHistories histories = reader.StateFormat == 1 ? ReadSequences(reader, items) : HistoryViews.Read(reader, "history", -1, items);
        int users = histories.UserCount;
        if (items < ItemCount || users < _histories.UserCount)
        {
            throw new ModelStateException(
                $"The saved {Name} state has {users} users and {items} items, fewer than this model's {_histories.UserCount} and {ItemCount}; load into a fresh instance.");
        }

        // Parameters and optimizer moments: lengths consistent with the saved catalog.
        List<KeyValuePair<string, Parameter>> named = NamedParameters();
        float[][] values = reader.Parameters(named, p => ExpectedLength(p, items));
        SavedOptimizer moments = reader.Optimizer(_optimizer, named, p => ExpectedLength(p, items));
        int[] randomState = reader.Random("random");
        int[] samplerRandomState = reader.Random("samplerRandom");
        PopularitySampler? sampler = null;
        float[] samplerWeights = reader.StateFormat == 1
            ? (reader.Has("samplerWeights") ? reader.Floats("samplerWeights", items) : [])
            : _options.Loss == Gru4RecLoss.SampledSoftmax ? reader.Floats("samplerWeights") : [];
        if (samplerWeights.Length > 0 || (reader.StateFormat == 1 && items == 0 && reader.Has("samplerWeights")))
        {
            reader.Require(items > 0 && samplerWeights.Length == items, "sampler weights that do not cover the catalog");
            try
            {
                sampler = new PopularitySampler(samplerWeights, _samplerRandom);
            }
            catch (ArgumentException error)
            {
                throw new ModelStateException($"The saved {Name} state has invalid sampler weights.", error);
            }
        }

        return () =>
        {
            // Everything validated: grow the tables to the saved shape (no random draws) and swap the state in.
            _embedding.Weight.GrowRows(items + 1);
            _outputWeight?.GrowRows(items);
            _outputBias.GrowRows(items);
            for (int i = 0; i < named.Count; i++)
            {
                Parameter parameter = named[i].Value;
                parameter.ZeroGradient();
                parameter.Gradient.Span.Clear();
                values[i].CopyTo(parameter.Value.Span);
            }

            moments.ApplyTo(_optimizer, named);
            _random.SetState(randomState);
            _samplerRandom.SetState(samplerRandomState);
            _histories = histories;
            _sampler = sampler;
            _fitted = fitted;
        };
    }

    /// <summary>
    /// Format 1's sections: the sequences (and the item counts, which they determine) as one basket per user, so that
    /// the sequences derived from the store are the saved ones and later events follow them.
    /// </summary>
    private static UserHistories ReadSequences(ModelStateReader reader, int items)
    {
        List<List<int>> sequences = reader.Lists("sequences", items);
        float[] itemCounts = reader.Floats("itemCounts", items);
        reader.Require(Array.TrueForAll(itemCounts, c => c >= 0f), "negative item counts");
        var histories = new UserHistories(sequences.Count);
        for (int u = 0; u < sequences.Count; u++)
        {
            HistoryViews.AppendSynthetic(histories, u, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequences[u]), 0);
        }

        return histories;
    }

    /// <summary>The saved length of <paramref name="parameter"/> for a catalog of <paramref name="items"/> items.</summary>
    private long ExpectedLength(Parameter parameter, int items) =>
        ReferenceEquals(parameter, _embedding.Weight) ? (items + 1L) * _options.Dimensions
        : ReferenceEquals(parameter, _outputWeight) ? (long)items * _options.HiddenSize
        : ReferenceEquals(parameter, _outputBias) ? items
        : parameter.Length;
}
