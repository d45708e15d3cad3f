using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Models;

public sealed partial class SasRec
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.SasRec, StateFormat, OptionsFingerprint.Canonical(_options)) { OldestStateFormat = 1 };

    /// <inheritdoc/>
    /// <remarks>
    /// Saves every parameter under its dotted path (the item table at its current <see cref="ItemCount"/> + 1 rows), Adam's
    /// two moment buffers per parameter, the history store's events (for <see cref="Update"/>; the sequences are derived
    /// from them), the negative sampler's weights (<see cref="SasRecLoss.SampledSoftmax"/>), the user and item
    /// counts, Adam's step count and the random generators' states.
    /// </remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        KeyValuePair<string, Parameter>[] named = [.. _network.NamedParameters()];
        writer.AddInt("itemCount", _itemCount);
        writer.AddInt("userCount", _userCount);
        writer.AddInt("fitted", _fitted ? 1 : 0);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        HistoryViews.Write(writer, "history", _histories);
        if (_options.Loss == SasRecLoss.SampledSoftmax)
        {
            // Always there for the sampled loss (empty before the sampler exists), so a removed section cannot pass.
            writer.AddFloats("samplerWeights", _sampler?.Weights.ToArray() ?? []);
        }

        if (_sampler is not null)
        {
            writer.AddRandom("samplerRandom", _samplerRandom!);
        }
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    /// <remarks>
    /// <para>
    /// The saved state must come from a model with the same options. Everything is validated and rebuilt in new objects
    /// (network, optimizer, sequences, sampler) before they are swapped in, so a failed load leaves the model unchanged.
    /// <see cref="Score"/> is bit-identical to the saved model's afterwards.
    /// </para>
    /// <para>
    /// Training after a load continues exactly as the saved model would have: Adam's moments and step count and the
    /// generators behind shuffling, dropout and negative sampling are all restored.
    /// </para>
    /// </remarks>
    private protected override Action ReadState(ModelStateReader reader)
    {
        int items = reader.Int("itemCount"), users = reader.Int("userCount");
        bool fitted = reader.Flag("fitted");
        reader.Require(items >= 0 && users >= 0 && (items + 1L) * _options.Dimensions <= int.MaxValue, $"{items} items and {users} users");

        // Shapes first, from the current network's paths (the item table scaled to the saved catalog): nothing is
        // allocated for the new network until every section has been checked.
        KeyValuePair<string, Parameter>[] current = [.. _network.NamedParameters()];
        long Length(Parameter p) => ReferenceEquals(p, _network.Items.Weight) ? (items + 1L) * _options.Dimensions : p.Length;
        float[][] values = reader.Parameters(current, Length);
        SavedOptimizer moments = reader.Optimizer(_optimizer, current, Length);
        int[] randomState = reader.Random("random");
        UserHistories histories = reader.StateFormat == 1 ? ReadSequences(reader, users, items) : HistoryViews.Read(reader, "history", users, items);
        PopularitySampler? sampler = null;
        SeededRandom? samplerRandom = null;
        float[] weights = reader.StateFormat == 1
            ? (reader.Has("samplerWeights") ? reader.Floats("samplerWeights", items) : [])
            : _options.Loss == SasRecLoss.SampledSoftmax ? reader.Floats("samplerWeights") : [];
        if (weights.Length > 0 || (reader.StateFormat == 1 && items == 0 && reader.Has("samplerWeights")))
        {
            reader.Require(_options.Loss == SasRecLoss.SampledSoftmax && items > 0 && weights.Length == items && Array.TrueForAll(weights, w => w > 0f),
                "sampler weights without a sampled loss, not covering the catalog, or not positive");
            samplerRandom = new SeededRandom(0);
            samplerRandom.SetState(reader.Random("samplerRandom"));
            sampler = new PopularitySampler(weights, samplerRandom);
        }

        return () =>
        {
            // A fresh network and optimizer, exactly as a new instance builds them; the generator that its dropout and
            // embedding growth draw from then takes the saved state.
            var random = new SeededRandom(_options.Seed);
            var network = new Network(_options, random);
            random.SetState(randomState);
            network.Items.Weight.GrowRows(items + 1);
            KeyValuePair<string, Parameter>[] named = [.. network.NamedParameters()];
            for (int i = 0; i < named.Length; i++)
            {
                values[i].CopyTo(named[i].Value.Value.Span);
            }

            var optimizer = new Adam(network.Parameters, _options.LearningRate, lazy: true);
            moments.ApplyTo(optimizer, named);

            // Everything validated: swap the state in.
            (_random, _network, _optimizer, _histories, _sampler, _samplerRandom) = (random, network, optimizer, histories, sampler, samplerRandom);
            (_itemCount, _userCount, _fitted) = (items, users, fitted);
        };
    }
}
