using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The sequence models against popularity on a fixed small subset of the real Online Retail data (the first
/// 600 customers in time order), under leave-last-item with full ranking. Deterministic under the seeds.
/// </summary>
public class RealDataSubsetTests(ITestOutputHelper output)
{
    private static readonly Lazy<InteractionLog> Subset = new(() =>
    {
        string path = Path.Combine(RepositoryRoot(), OnlineRetail.SamplePath);
        Assert.True(File.Exists(path), $"Bundled data missing at {path}: the test needs samples/data (see its README).");
        InteractionLog full = OnlineRetail.Load(path).Log;
        var subset = new InteractionLog();
        foreach (Interaction e in full.Events)
        {
            if (e.User < 600)
            {
                subset.Add(new InteractionEvent(full.Users.GetId(e.User), full.Items.GetId(e.Item),
                    new DateTimeOffset(e.Ticks, TimeSpan.Zero), e.Kind, e.Quantity, e.Value, full.Baskets.GetId(e.Basket)));
            }
        }

        return subset;
    });

    [Fact]
    public void Gru4Rec_and_SasRec_beat_popularity_on_a_real_data_subset()
    {
        HoldoutProtocol protocol = HoldoutProtocol.LeaveLastItem(Subset.Value);
        double popularity = protocol.FitAndEvaluate(new Popularity()).Metrics["NDCG@10"];
        double gru = protocol.FitAndEvaluate(new Gru4Rec(new Gru4RecOptions { MaxEpochs = 3, ValidationUsers = 100, Seed = 1 })).Metrics["NDCG@10"];
        double sasrec = protocol.FitAndEvaluate(new SasRec(new SasRecOptions { MaxEpochs = 8, BatchSize = 32, ValidationUsers = 100, Seed = 1 })).Metrics["NDCG@10"];
        output.WriteLine($"{protocol.UserCount} users; NDCG@10 popularity {popularity:F4}, GRU4Rec {gru:F4}, SASRec {sasrec:F4}");

        Assert.True(gru > 1.5 * popularity, $"GRU4Rec {gru:F4} vs popularity {popularity:F4}");
        Assert.True(sasrec > 1.5 * popularity, $"SASRec {sasrec:F4} vs popularity {popularity:F4}");
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LifelongPrefs.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (LifelongPrefs.sln) above the test binaries.");
    }
}
