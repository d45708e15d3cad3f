using System.Text;

namespace LifelongPrefs.Data;

/// <summary>
/// One-hot encoding over a growable vocabulary: each category gets a stable slot (in order of first sight, through an
/// <see cref="IdMap"/>). Unknown categories encode to all zeros.
/// </summary>
internal sealed class OneHotEncoder
{
    /// <summary>Gets the categories; a category's index is its slot.</summary>
    public IdMap Categories { get; } = new();

    /// <summary>Gets the width of an encoding (the number of categories).</summary>
    public int Width => Categories.Count;

    /// <summary>Adds categories (known ones keep their slot).</summary>
    /// <param name="categories">The categories; none null or empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="categories"/> is null.</exception>
    /// <exception cref="ArgumentException">A category is null or empty.</exception>
    public void Fit(IEnumerable<string> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        foreach (string category in categories)
        {
            Categories.GetOrAdd(category);
        }
    }

    /// <summary>Returns the slot of a category, or -1 if it is unknown.</summary>
    /// <param name="category">The category.</param>
    /// <returns>The slot or -1.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="category"/> is null.</exception>
    public int IndexOf(string category) => Categories.TryGetIndex(category, out int index) ? index : -1;

    /// <summary>Writes the one-hot vector of a category: 1 in its slot, 0 elsewhere (all 0 if unknown).</summary>
    /// <param name="category">The category.</param>
    /// <param name="destination">At least <see cref="Width"/> floats; the first <see cref="Width"/> are written.</param>
    /// <exception cref="ArgumentNullException"><paramref name="category"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Width"/>.</exception>
    public void Encode(string category, Span<float> destination)
    {
        if (destination.Length < Width)
        {
            throw new ArgumentException($"'{nameof(destination)}' length {destination.Length} is less than {nameof(Width)} = {Width}.", nameof(destination));
        }

        int index = IndexOf(category);
        destination[..Width].Clear();
        if (index >= 0)
        {
            destination[index] = 1f;
        }
    }
}

/// <summary>
/// Feature hashing for categoricals with unbounded vocabularies: a category goes to bucket
/// <c>FNV-1a-32(UTF-8 bytes of the string) mod Buckets</c>. The hash is specified (offset basis 2166136261, prime
/// 16777619), so buckets are identical across processes, machines and .NET versions — unlike
/// <see cref="string.GetHashCode()"/>, which is randomised per process.
/// </summary>
internal sealed class HashedEncoder
{
    /// <summary>Creates an encoder.</summary>
    /// <param name="buckets">The number of buckets, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="buckets"/> is less than 1.</exception>
    public HashedEncoder(int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        Buckets = buckets;
    }

    /// <summary>Gets the number of buckets (the encoding width).</summary>
    public int Buckets { get; }

    /// <summary>Computes the 32-bit FNV-1a hash of the UTF-8 bytes of a string.</summary>
    /// <param name="value">The string.</param>
    /// <returns>The hash.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public static uint Fnv1a32(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        const uint offsetBasis = 2166136261, prime = 16777619;
        uint hash = offsetBasis;
        Span<byte> scratch = stackalloc byte[4];
        foreach (Rune rune in value.EnumerateRunes())
        {
            // Encode rune by rune so no byte array is allocated; an unpaired surrogate encodes as U+FFFD, as in Encoding.UTF8.
            int n = rune.EncodeToUtf8(scratch);
            for (int i = 0; i < n; i++)
            {
                hash = (hash ^ scratch[i]) * prime;
            }
        }

        return hash;
    }

    /// <summary>Returns the bucket of a category.</summary>
    /// <param name="category">The category.</param>
    /// <returns>A bucket in [0, <see cref="Buckets"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="category"/> is null.</exception>
    public int Bucket(string category) => (int)(Fnv1a32(category) % (uint)Buckets);

    /// <summary>Adds 1 to the bucket of each category (a bag of hashed categories; collisions add up).</summary>
    /// <param name="categories">The categories of one row.</param>
    /// <param name="destination">At least <see cref="Buckets"/> floats; the first <see cref="Buckets"/> are cleared and written.</param>
    /// <exception cref="ArgumentNullException"><paramref name="categories"/> or a category is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Buckets"/>.</exception>
    public void Encode(ReadOnlySpan<string> categories, Span<float> destination)
    {
        if (destination.Length < Buckets)
        {
            throw new ArgumentException($"'{nameof(destination)}' length {destination.Length} is less than {nameof(Buckets)} = {Buckets}.", nameof(destination));
        }

        foreach (string category in categories)
        {
            ArgumentNullException.ThrowIfNull(category, nameof(categories));
        }

        destination[..Buckets].Clear();
        foreach (string category in categories)
        {
            destination[Bucket(category)] += 1f;
        }
    }
}
