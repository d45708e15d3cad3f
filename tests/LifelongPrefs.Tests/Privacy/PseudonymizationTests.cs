using System.Text;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Privacy;
using static LifelongPrefs.Tests.Privacy.PrivacyScenario;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// Pseudonymous ids: the hash is RFC 4231's HMAC-SHA256 (known answers through the library's own path), keyed (same
/// key → same pseudonym, another key → another), and a pseudonymizing tracker keeps no raw id anywhere in its state.
/// </summary>
public class PseudonymizationTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))];

    /// <summary>The first 18 bytes of an RFC 4231 HMAC-SHA256 value, in unpadded base64url (RFC 4648 §5).</summary>
    private static string Truncated(string hex) =>
        Convert.ToBase64String(Convert.FromHexString(hex)[..18]).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Theory]
    // RFC 4231 test case 1: key 0x0b × 20, data "Hi There".
    [InlineData(0x0b, 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    // RFC 4231 test case 6: key 0xaa × 131 (longer than a block, hashed first), data as below.
    [InlineData(0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")]
    public void The_pseudonym_is_the_truncated_rfc_4231_hmac(int keyByte, int keyLength, string data, string hmacHex)
    {
        var options = new PseudonymizationOptions([.. Enumerable.Repeat((byte)keyByte, keyLength)]);
        Assert.Equal(Truncated(hmacHex), options.Pseudonymize(data));
        Span<char> chars = stackalloc char[PseudonymizationOptions.PseudonymLength];
        options.Pseudonymize(data, chars); // the allocation-free path the tracker's reads use
        Assert.Equal(Truncated(hmacHex), new string(chars));
    }

    [Fact]
    public void The_same_key_gives_the_same_pseudonym_and_another_key_another()
    {
        var a = new PseudonymizationOptions(Key);
        var again = new PseudonymizationOptions((byte[])Key.Clone());
        byte[] otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;
        var b = new PseudonymizationOptions(otherKey);
        Assert.Equal(a.Pseudonymize("17850"), again.Pseudonymize("17850"));
        Assert.NotEqual(a.Pseudonymize("17850"), b.Pseudonymize("17850"));
        Assert.NotEqual(a.Pseudonymize("17850"), a.Pseudonymize("17851"));
        Assert.Equal(PseudonymizationOptions.PseudonymLength, a.Pseudonymize(new string('é', 5000)).Length); // the pooled-buffer path
    }

    [Fact]
    public void A_short_or_zero_key_is_rejected_naming_its_length()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => new PseudonymizationOptions(new byte[15]));
        Assert.Contains("15 bytes", e.Message);
        Assert.Throws<ArgumentException>(() => new PseudonymizationOptions(new byte[16]));
        Assert.Throws<ArgumentNullException>(() => new PseudonymizationOptions(null!));
    }

    [Fact]
    public async Task A_pseudonymizing_tracker_holds_no_raw_id_and_answers_under_the_pseudonym()
    {
        var pseudonyms = new PseudonymizationOptions(Key);
        await using var tracker = new PreferenceTracker(Options(pseudonyms));
        tracker.Observe(Events());
        tracker.Feedback(Customer(1), "i1", FeedbackOutcome.Dismissed);
        await tracker.FlushAsync();
        byte[] image = await tracker.CaptureStateAsync();
        for (int u = 0; u < 12; u++)
        {
            Assert.False(ContainsText(image, Customer(u)), $"raw id {Customer(u)} is in the state");
            Assert.True(ContainsText(image, pseudonyms.Pseudonymize(Customer(u))), "positive control: the pseudonym is kept");
        }

        Assert.False(tracker.Recommend(Customer(2), 5).IsColdStart); // raw ids still work at the entry points
        Assert.Equal(pseudonyms.Pseudonymize(Customer(2)), tracker.GetProfile(Customer(2)).UserId);
        Assert.Equal(pseudonyms.Pseudonymize(Customer(2)), tracker.Explain(Customer(2), "i1").UserId);
        Assert.All(tracker.FindAudience("i1", 5), m => Assert.Equal(PseudonymizationOptions.PseudonymLength, m.UserId.Length));

        // Erasure under pseudonyms removes the hashed id too.
        Assert.True(await tracker.ForgetAsync(Customer(2)));
        Assert.False(ContainsText(await tracker.CaptureStateAsync(), pseudonyms.Pseudonymize(Customer(2))));
        Assert.True(ContainsText(await tracker.CaptureStateAsync(), pseudonyms.Pseudonymize(Customer(3))));
    }

    [Fact]
    public async Task Recommend_under_pseudonyms_allocates_no_more_than_without()
    {
        await using var plain = new PreferenceTracker(Options());
        await using var hashed = new PreferenceTracker(Options(new PseudonymizationOptions(Key)));
        foreach (PreferenceTracker each in new[] { plain, hashed })
        {
            each.Observe(Events());
            await each.FlushAsync();
        }

        var buffer = new Recommendation[10];

        // 20 warm-up calls fill the scratch pool; the least of three rounds of 100 calls leaves out the runtime's one-off
        // allocations (a method's tier-up, see Allocations), which a single round charged to whichever tracker ran then.
        long Allocated(PreferenceTracker t) => Infrastructure.Allocations.Measure(() => t.RecommendInto(Customer(4), buffer), warmUps: 20, calls: 100);

        long plainBytes = Allocated(plain), hashedBytes = Allocated(hashed);
        Assert.True(hashedBytes <= plainBytes, $"pseudonymized RecommendInto allocated {hashedBytes} B per 100 calls, plain {plainBytes} B");
    }
}
