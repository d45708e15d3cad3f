namespace LifelongPrefs.Models;

/// <summary>
/// A scorer that builds per-version tables on its first call (see <see cref="RepeatExploreScorer"/>), and can build
/// them ahead of it, so that the writer can pay that cost instead of the version's first reader.
/// </summary>
internal interface IPreparableScorer
{
    /// <summary>
    /// Builds what a catalog pass of this version reads: for the exact pass, or for the reduced-precision pass of
    /// <see cref="IQuantizedScorer"/> when <paramref name="quantized"/>. Idempotent, and safe alongside reads (a read
    /// that races it builds the same tables once more, harmlessly); changes no answer.
    /// </summary>
    /// <param name="quantized">Whether the reads will take the reduced-precision pass.</param>
    void Prepare(bool quantized);
}
