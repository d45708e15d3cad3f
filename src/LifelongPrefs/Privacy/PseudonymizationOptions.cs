using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace LifelongPrefs.Privacy;

/// <summary>
/// Keeps users only under a keyed hash: with these options set (<c>TrackerOptions.Pseudonymization</c>) the tracker
/// replaces every user id at its entry points by <see cref="Pseudonymize(string)"/>'s value, so the shop's raw customer ids never
/// enter its maps, histories, state or outputs.
/// </summary>
/// <remarks>
/// <para>
/// The pseudonym is HMAC-SHA256(key, UTF-8 bytes of the id) (RFC 2104 / RFC 4231), truncated to its first
/// <see cref="PseudonymBytes"/> bytes (144 bits: a collision among a billion users has probability about 10⁻²⁵) and
/// written in unpadded base64url (RFC 4648 §5), <see cref="PseudonymLength"/> characters. Without the key the mapping
/// cannot be inverted or recomputed from a guessed id; with it, the host can compute any customer's pseudonym (to erase
/// them, or to read an audience list). Keep the key out of the tracker's storage: whoever holds both can link pseudonyms
/// back to ids by trying candidates.
/// </para>
/// <para>Immutable and thread-safe: <see cref="Pseudonymize(string)"/> may run on any number of threads at once.</para>
/// </remarks>
public sealed class PseudonymizationOptions
{
    /// <summary>The fewest key bytes accepted (128 bits).</summary>
    public const int MinKeyBytes = 16;

    /// <summary>The bytes of the HMAC kept in a pseudonym.</summary>
    public const int PseudonymBytes = 18;

    /// <summary>The characters of a pseudonym (base64url of <see cref="PseudonymBytes"/> bytes, no padding).</summary>
    public const int PseudonymLength = 24;

    /// <summary>Ids up to this many UTF-8 bytes are hashed from a stack buffer; longer ones from a pooled array.</summary>
    private const int StackBytes = 512;

    private readonly byte[] _key;

    /// <summary>Creates the options with a host-supplied secret key (copied; later changes to the array do not matter).</summary>
    /// <param name="key">The HMAC key: at least <see cref="MinKeyBytes"/> bytes, not all zero (e.g. from
    /// <see cref="RandomNumberGenerator"/>, kept in the host's secret store).</param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is shorter than <see cref="MinKeyBytes"/> bytes or all zero.</exception>
    public PseudonymizationOptions(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException(
                $"The pseudonymization key is {key.Length} bytes long; it must have at least {MinKeyBytes} (128 bits).", nameof(key));
        }

        if (!key.AsSpan().ContainsAnyExcept((byte)0))
        {
            throw new ArgumentException($"The pseudonymization key is {key.Length} zero bytes; use a random secret.", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>Gets the pseudonym the tracker keeps for a user id.</summary>
    /// <param name="userId">The shop's user id (any non-null string; the tracker checks its length first).</param>
    /// <returns>The <see cref="PseudonymLength"/>-character pseudonym.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    public string Pseudonymize(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return string.Create(PseudonymLength, (this, userId), static (chars, state) => state.Item1.Pseudonymize(state.userId, chars));
    }

    /// <summary>Writes the pseudonym of <paramref name="userId"/> into <paramref name="destination"/> without allocating.</summary>
    /// <param name="userId">The id.</param>
    /// <param name="destination">At least <see cref="PseudonymLength"/> characters; exactly that many are written.</param>
    internal void Pseudonymize(ReadOnlySpan<char> userId, Span<char> destination)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        int length = Encoding.UTF8.GetMaxByteCount(userId.Length);
        byte[]? rented = length > StackBytes ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[StackBytes];
        try
        {
            int n = Encoding.UTF8.GetBytes(userId, utf8);
            HMACSHA256.HashData(_key, utf8[..n], mac);
        }
        finally
        {
            if (rented is not null)
            {
                // The id is personal data: do not leave it in a pooled array another caller will read.
                rented.AsSpan(0, length).Clear();
                ArrayPool<byte>.Shared.Return(rented);
            }
            else
            {
                utf8.Clear();
            }
        }

        Base64Url.EncodeToChars(mac[..PseudonymBytes], destination, out _, out int written);
        System.Diagnostics.Debug.Assert(written == PseudonymLength, "18 bytes are 24 base64url characters");
    }
}
