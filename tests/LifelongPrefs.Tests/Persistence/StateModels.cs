using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// One small, quickly fitted instance of every savable model (and of the variants whose states differ: decayed
/// popularity, the sampled losses), on a tiny deterministic log, for the state-format tests and the fixtures.
/// </summary>
internal static class StateModels
{
    internal const int Users = 9, Items = 11;

    /// <summary>The model variants by the fixture name they are saved under.</summary>
    internal static readonly string[] Names =
    [
        "popularity", "popularity-decayed", "personal-popularity", "item-knn", "bpr-mf", "propensity-mlp",
        "gru4rec", "gru4rec-sampled", "sasrec", "sasrec-sampled", "repeat-aware", "tifu-knn", "up-cf",
        "repeat-explore",
    ];

    public static TheoryData<string> All => [.. Names];

    /// <summary>Creates an unfitted instance; every random choice flows from the fixed seed 11.</summary>
    internal static ISavableRecommender Create(string name) => name switch
    {
        "popularity" => new Popularity(),
        "popularity-decayed" => new Popularity(halfLifeDays: 3),
        "personal-popularity" => new PersonalPopularity(),
        "item-knn" => new ItemKnn(),
        "bpr-mf" => new BprMf(new BprMfOptions { Dimensions = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 8, ValidationUsers = 2, Seed = 11 }),
        "propensity-mlp" => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 4, Hidden2 = 3, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 8,
            NegativesPerPositive = 2, ValidationUsers = 2, Seed = 11 }),
        "gru4rec" => new Gru4Rec(new Gru4RecOptions { Dimensions = 4, HiddenSize = 4, MaxLength = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 4,
            Patience = 1, ValidationUsers = 2, Validation = ValidationHoldout.LastBasket, Seed = 11 }),
        "gru4rec-sampled" => new Gru4Rec(new Gru4RecOptions { Dimensions = 4, HiddenSize = 4, MaxLength = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 4,
            Loss = Gru4RecLoss.SampledSoftmax, Negatives = 3, Patience = 1, ValidationUsers = 2,
            Validation = ValidationHoldout.LastBasket, Seed = 11 }),
        "sasrec" => new SasRec(new SasRecOptions { Dimensions = 4, Blocks = 1, Heads = 1, MaxLength = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 4,
            Patience = 1, ValidationUsers = 2, Seed = 11 }),
        "sasrec-sampled" => new SasRec(new SasRecOptions { Dimensions = 4, Blocks = 1, Heads = 1, MaxLength = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 4,
            Loss = SasRecLoss.SampledSoftmax, Negatives = 3, Patience = 1, ValidationUsers = 2, Seed = 11 }),
        "repeat-aware" => new RepeatAware(new RepeatAwareOptions { Hidden = 4, MaxEpochs = 2, Patience = 1, UpdateEpochs = 1, BatchSize = 8,
            ExploreCandidates = 3, RandomNegatives = 2, ValidationUsers = 2, Seed = 11 }),
        "tifu-knn" => new TifuKnn(new TifuKnnOptions { Neighbors = [2, 3], GroupCounts = [2], WithinGroupDecays = [0.9f], GroupDecays = [0.8f],
            Alphas = [0.4f], ValidationUsers = 2, Seed = 11 }),
        "up-cf" => new UpCf(new UpCfOptions { Recencies = [2, 1], Asymmetries = [0.5f], Localities = [3], ValidationUsers = 2, Seed = 11 }),
        "repeat-explore" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 4, Negatives = 3, OwnCandidates = 2, ContextItems = 2,
            CooccurrenceItems = 3, LearningRate = 0.01f, NegativeReuse = 1, Seed = 11 }), // the rate and draw the fixtures were written with (the defaults until 2026-12-03 and 2026-12-04)
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model"),
    };

    /// <summary>Creates and fits a model on <see cref="Log"/>.</summary>
    internal static ISavableRecommender Fitted(string name)
    {
        ISavableRecommender model = Create(name);
        model.Fit(Log(), Users, Items);
        return model;
    }

    /// <summary>Four weekly baskets per user: the user's staple item, a seeded random item and sometimes a return.</summary>
    internal static List<Interaction> Log()
    {
        var random = new Random(23);
        var events = new List<Interaction>();
        for (int week = 0; week < 4; week++)
        {
            for (int u = 0; u < Users; u++)
            {
                long ticks = (week * 7 + u % 3) * TimeSpan.TicksPerDay + u * TimeSpan.TicksPerMinute;
                int basket = week * 100 + u;
                events.Add(new Interaction(u, u % Items, ticks, EventKind.Purchase, 1f, 2.5f, basket));
                events.Add(new Interaction(u, random.Next(Items), ticks + 1, EventKind.Purchase, 2f, 1.25f, basket));
                if (random.Next(4) == 0)
                {
                    events.Add(new Interaction(u, random.Next(Items), ticks + 2, EventKind.Return, 1f, 1f, basket));
                }
            }
        }

        return events;
    }

    internal static byte[] Saved(ISavableRecommender model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    /// <summary>Every user's scores (plus an unseen user's with a short history), concatenated.</summary>
    internal static float[] AllScores(IRecommender model)
    {
        List<Interaction> log = Log();
        var all = new List<float>();
        var scores = new float[model.ItemCount];
        for (int u = 0; u <= Users; u++)
        {
            Interaction[] history = u < Users ? [.. log.Where(e => e.User == u)] : [.. log.Take(5)];
            model.Score(u, history, scores);
            all.AddRange(scores);
        }

        return [.. all];
    }
}

/// <summary>A read-only stream that cannot seek and hands out at most a few bytes per read (a socket or a pipe).</summary>
internal sealed class NonSeekableStream(byte[] data, int maxRead = 5) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public int Consumed => _position;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
