using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The copy-on-write table against a plain oracle: a seeded random mix of growth, row writes and snapshots over
/// enough rows for several blocks of the two-level directory, where every snapshot must keep showing exactly the
/// oracle's rows from the moment it was taken, through <c>Row</c> and <c>Chunk</c> alike, and the writer's rows must
/// equal the oracle's now.
/// </summary>
public class CowTableProperties
{
    private const int Width = 3, ChunkRows = 2;

    [Property(MaxTest = 60)]
    public Property A_snapshot_equals_the_oracle_at_its_moment_whatever_is_written_later() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var table = new CowTable<float>(Width, ChunkRows);
            var oracle = new List<float[]>();
            var snapshots = new List<(CowView<float> View, float[][] Rows)>();
            int next = 1;
            for (int step = 0; step < 1500; step++)
            {
                int op = random.Next(100);
                if (op < 4 || oracle.Count == 0)
                {
                    // Growth past block boundaries (64 chunks of 2 rows = 128 rows per block).
                    int rows = oracle.Count + 1 + random.Next(200);
                    table.Grow(rows);
                    while (oracle.Count < rows)
                    {
                        oracle.Add(new float[Width]);
                    }
                }
                else if (op < 12)
                {
                    snapshots.Add((table.Snapshot(), [.. oracle.Select(r => (float[])r.Clone())]));
                }
                else if (op < 16 && snapshots.Count > 0)
                {
                    AssertEqual(snapshots[random.Next(snapshots.Count)]);
                }
                else
                {
                    // Writes cluster on a few rows now and then, so chunks and blocks are written again within one version.
                    int row = random.Next(4) == 0 ? random.Next(Math.Min(oracle.Count, 5)) : random.Next(oracle.Count);
                    int column = random.Next(Width);
                    table.Row(row)[column] = next;
                    oracle[row][column] = next++;
                }
            }

            foreach (var snapshot in snapshots)
            {
                AssertEqual(snapshot);
            }

            Assert.Equal(oracle.Count, table.Rows);
            for (int r = 0; r < oracle.Count; r++)
            {
                Assert.Equal(oracle[r], table.Read(r).ToArray());
            }
        });

    [Fact]
    public void Rows_per_chunk_must_be_a_power_of_two()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CowTable<float>(Width, 3));
        Assert.Equal("chunkRows", error.ParamName);
        Assert.Equal(4, new CowTable<float>(Width, 4).ChunkRows);
    }

    private static void AssertEqual((CowView<float> View, float[][] Rows) snapshot)
    {
        (CowView<float> view, float[][] rows) = snapshot;
        Assert.Equal(rows.Length, view.Rows);
        Assert.Equal((rows.Length + ChunkRows - 1) / ChunkRows, view.Chunks);
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.Equal(rows[r], view.Row(r).ToArray());
            Assert.Equal(rows[r], view.Chunk(r / ChunkRows).Slice(r % ChunkRows * Width, Width).ToArray());
        }
    }
}
