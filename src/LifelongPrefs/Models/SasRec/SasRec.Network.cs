namespace LifelongPrefs.Models;

public sealed partial class SasRec
{
    /// <summary>The SASRec network: its children give the stable parameter names.</summary>
    private sealed class Network : Module
    {
        internal Network(SasRecOptions options, Random random)
        {
            int d = options.Dimensions;
            Items = AddModule("items", new Embedding(1, d, random, paddingIndex: 0));
            Positions = AddModule("positions", new PositionalEmbedding(options.MaxLength, d, random));
            EmbeddingDropout = AddModule("embeddingDropout", new Dropout(options.Dropout, random));
            Blocks = AddModule("blocks", new BlockStack(options, random)).Blocks;

            Norm = AddModule("norm", new LayerNorm(d));
        }

        internal Embedding Items { get; }

        internal PositionalEmbedding Positions { get; }

        internal Dropout EmbeddingDropout { get; }

        internal TransformerBlock[] Blocks { get; }

        internal LayerNorm Norm { get; }
    }

    /// <summary>The stacked blocks, registered as <c>blocks.0</c>, <c>blocks.1</c>, ….</summary>
    private sealed class BlockStack : Module
    {
        internal BlockStack(SasRecOptions options, Random random)
        {
            Blocks = new TransformerBlock[options.Blocks];
            for (int b = 0; b < Blocks.Length; b++)
            {
                // The paper's feed-forward width equals d.
                Blocks[b] = AddModule(b.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    new TransformerBlock(options.Dimensions, options.Heads, options.Dimensions, random, options.Dropout));
            }
        }

        internal TransformerBlock[] Blocks { get; }
    }
}
