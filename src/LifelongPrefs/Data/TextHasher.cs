namespace LifelongPrefs.Data;

/// <summary>
/// Turns a short free text (an item's description) into a sparse, L2-normalised vector of hashed features: each
/// lower-cased word and each character 3-gram of a word (with <c>^</c>/<c>$</c> marking its ends), hashed with a seed
/// into a power-of-two number of buckets, each with a sign from the hash (the "hashing trick" of Weinberger et al.,
/// ICML 2009, whose signs make collisions cancel in expectation).
/// </summary>
/// <remarks>
/// Words are runs of letters and digits (<see cref="char.IsLetterOrDigit(char)"/>), lower-cased with the invariant
/// culture, so "WHITE HANGING HEART T-LIGHT HOLDER" and "white hanging heart t light holder" give the same vector.
/// A word weighs 1 and each of its 3-grams 1/2 before the normalisation: the 3-grams tie "HEART" to "HEARTS" and
/// "T-LIGHT" to "TLIGHT", the words keep the exact matches ahead. The hash is FNV-1a over the UTF-16 code units
/// (seeded, then finished with MurmurHash3's avalanche), so a vector depends only on the text, the seed and the
/// bucket count — the same on every machine and in every process (unlike <see cref="string.GetHashCode()"/>).
/// At most <see cref="MaxCharacters"/> characters of a text are read and at most <see cref="MaxFeatures"/> features
/// kept (the first ones), which bounds the work and the memory per text. Nothing is allocated.
/// </remarks>
internal static class TextHasher
{
    /// <summary>The most characters of a text that are read; the rest is ignored.</summary>
    internal const int MaxCharacters = 1024;

    /// <summary>The most features one text produces (a destination of this length always suffices).</summary>
    internal const int MaxFeatures = 512;

    private const int Gram = 3;
    private const float WordWeight = 1f, GramWeight = 0.5f;
    private const uint WordSalt = 0x9E3779B9u, GramSalt = 0x85EBCA6Bu;

    /// <summary>
    /// Hashes <paramref name="text"/> into (bucket, value) pairs sorted by bucket, each bucket once, with unit L2 norm
    /// (no pair at all when the text has no letter or digit, or every value cancelled).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="buckets">The number of buckets, a power of two from 2 to 2³⁰.</param>
    /// <param name="seed">The hash seed.</param>
    /// <param name="indices">Receives the buckets (at least <see cref="MaxFeatures"/> long).</param>
    /// <param name="values">Receives the values (at least <see cref="MaxFeatures"/> long).</param>
    /// <returns>The number of pairs written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="buckets"/> is not a power of two in range, or a destination is shorter than <see cref="MaxFeatures"/>.</exception>
    internal static int Hash(ReadOnlySpan<char> text, int buckets, uint seed, Span<int> indices, Span<float> values)
    {
        if (buckets < 2 || buckets > 1 << 30 || (buckets & (buckets - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(buckets), buckets, $"'{nameof(buckets)}' is {buckets}; it must be a power of two from 2 to 2^30.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(indices.Length, MaxFeatures, nameof(indices));
        ArgumentOutOfRangeException.ThrowIfLessThan(values.Length, MaxFeatures, nameof(values));
        text = text[..Math.Min(text.Length, MaxCharacters)];
        uint mask = (uint)buckets - 1;
        int n = 0;
        Span<char> word = stackalloc char[MaxCharacters + 2];
        int at = 0;
        while (at < text.Length && n < MaxFeatures)
        {
            if (!char.IsLetterOrDigit(text[at]))
            {
                at++;
                continue;
            }

            // The word, lower-cased, between the end markers: ^word$.
            int length = 0;
            word[length++] = '^';
            while (at < text.Length && char.IsLetterOrDigit(text[at]))
            {
                word[length++] = char.ToLowerInvariant(text[at++]);
            }

            word[length++] = '$';
            n = Add(Mix(word[1..(length - 1)], seed ^ WordSalt), WordWeight, mask, indices, values, n);
            for (int g = 0; g + Gram <= length && n < MaxFeatures; g++)
            {
                n = Add(Mix(word.Slice(g, Gram), seed ^ GramSalt), GramWeight, mask, indices, values, n);
            }
        }

        return Normalise(indices[..n], values[..n]);
    }

    /// <summary>The seeded 32-bit hash of one feature's characters.</summary>
    internal static uint Mix(ReadOnlySpan<char> feature, uint seed)
    {
        // FNV-1a over the code units, started from the seeded offset basis ...
        uint h = 2166136261u ^ seed;
        foreach (char c in feature)
        {
            h = (h ^ c) * 16777619u;
        }

        // ... then MurmurHash3's finaliser, so that every output bit depends on every input bit (FNV's low bits are weak).
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return h;
    }

    private static int Add(uint hash, float weight, uint mask, Span<int> indices, Span<float> values, int n)
    {
        // The top bit gives the sign; the low bits the bucket (independent bits of an avalanched hash).
        indices[n] = (int)(hash & mask);
        values[n] = (hash & 0x8000_0000u) != 0 ? -weight : weight;
        return n + 1;
    }

    /// <summary>Sorts the pairs by bucket, merges repeated buckets, drops zeros and scales to unit L2 norm; returns the count.</summary>
    private static int Normalise(Span<int> indices, Span<float> values)
    {
        indices.Sort(values);
        int n = 0;
        for (int k = 0; k < indices.Length; k++)
        {
            if (n > 0 && indices[n - 1] == indices[k])
            {
                values[n - 1] += values[k];
            }
            else
            {
                (indices[n], values[n]) = (indices[k], values[k]);
                n++;
            }
        }

        int kept = 0;
        double squares = 0;
        for (int k = 0; k < n; k++)
        {
            if (values[k] != 0f)
            {
                (indices[kept], values[kept]) = (indices[k], values[k]);
                squares += (double)values[k] * values[k];
                kept++;
            }
        }

        float inverse = kept > 0 ? (float)(1.0 / Math.Sqrt(squares)) : 0f;
        for (int k = 0; k < kept; k++)
        {
            values[k] *= inverse;
        }

        return kept;
    }
}
