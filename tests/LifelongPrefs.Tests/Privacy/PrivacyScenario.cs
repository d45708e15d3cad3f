using System.Text;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>The shop of the erasure tests: long, distinctive user ids (a two-letter id could turn up in float bytes by chance).</summary>
internal static class PrivacyScenario
{
    internal static string Customer(int u) => $"customer-{u:D4}-privacy@example.org";

    /// <summary>The tracker scenario's purchases under <see cref="Customer"/> ids, with a basket id per user and day.</summary>
    internal static List<InteractionEvent> Events(int users = 12, int days = 16, int seed = 5) =>
        [.. Tests.Lifelong.TrackerScenario.Events(users, 40, 4, days, seed).Select(e => e with
        {
            UserId = Customer(int.Parse(e.UserId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)),
            BasketId = $"b{e.Timestamp.UtcTicks / TimeSpan.TicksPerDay}",
        })];

    /// <summary>Deterministic options for the default learner (RepeatExplore), small and fast.</summary>
    internal static TrackerOptions Options(global::LifelongPrefs.Privacy.PseudonymizationOptions? pseudonyms = null) => new()
    {
        MicroBatchSize = 16,
        FlushInterval = Timeout.InfiniteTimeSpan,
        Dimensions = 8,
        Pseudonymization = pseudonyms,
    };

    internal static bool Contains(byte[] image, ReadOnlySpan<byte> needle) => needle.Length > 0 && image.AsSpan().IndexOf(needle) >= 0;

    internal static bool ContainsText(byte[] image, string text) =>
        Contains(image, Encoding.UTF8.GetBytes(text)) || Contains(image, Encoding.Unicode.GetBytes(text));

    internal static byte[] Bytes(float[] row) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()).ToArray();
}
