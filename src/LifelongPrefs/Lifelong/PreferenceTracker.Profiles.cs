namespace LifelongPrefs.Lifelong;

/// <summary>Interest profiles and forecasts: categories, decayed interests, trajectories (maths in <c>Profiles/</c>).</summary>
public sealed partial class PreferenceTracker
{
    private const int TopProfileItems = 10;
    private static readonly long RebuildStreamTicks = TimeSpan.FromDays(1).Ticks;
    private readonly object _profileGate = new();
    private ProfileContext? _profiles;
    private int _catalogChanges;

    /// <summary>
    /// Gets an interpretable profile of a user's interests: weights over item categories, long-term and recent (each
    /// time-decayed with its own half-life), how far the recent interest has drifted from the long-term one, the user's
    /// top items and the user's vector in the learner's space. Categories come from the shop's catalog when it has
    /// registered any (<see cref="RegisterItem"/>, or an event's attributes); otherwise from seeded k-means clusters of
    /// the learner's item vectors, each named by its items' most telling description words.
    /// </summary>
    /// <param name="userId">The shop's user id; an unknown user gets the global interest mix and no items.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <remarks>
    /// The categories and the global mix are rebuilt from the newest version when it is a day of stream time newer,
    /// has 10% more items, or the catalog changed; the call that finds them stale rebuilds them (k-means over the item
    /// vectors: about a second per 10,000 items), while other readers keep using the previous ones.
    /// </remarks>
    public InterestProfile GetProfile(string userId)
    {
        CheckId(userId, nameof(userId));
        ProfileContext context = Profiles();
        (int user, UserLog? log) = Find(userId);
        ReadOnlySpan<Interaction> history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        long asOf = ProfileTime();
        int c = context.Categories.Count;
        var longTerm = new float[c];
        var recent = new float[c];
        ProfileMass mass = InterestProfiles.Compute(history, context.Categories, asOf, context.Options, longTerm, recent, context.Prior);
        var topItems = new int[TopProfileItems];
        int found = InterestProfiles.TopItems(history, asOf, context.Options, topItems, new float[TopProfileItems]);
        float[] embedding = [];
        if (context.Version.Scorer is IEmbeddingScorer vectors && user >= 0)
        {
            embedding = new float[vectors.Dimensions];
            Scratch scratch = _scratch.Rent();
            try
            {
                vectors.UserVector(user, scratch.Known(history, context.Version.ModelItems), embedding);
            }
            finally
            {
                _scratch.Return(scratch);
            }
        }

        return new InterestProfile(UserKey(userId), new DateTimeOffset(asOf, TimeSpan.Zero), Weights(context, longTerm), Weights(context, recent),
            InterestProfiles.Drift(recent, longTerm), [.. topItems.Take(found).Select(_items.GetId)], embedding, mass.Events,
            context.Version.Number);
    }

    /// <summary>
    /// Forecasts where a user's interests are heading: the expected distribution of the user's engagement over
    /// categories in the next <paramref name="horizon"/> (a blend of the long-term and recent profiles, the trend of the
    /// monthly trajectory and the global mix, with weights fitted on the past months of all users), the items the user
    /// is most likely to engage with next, and the trajectory itself (one profile per calendar month).
    /// </summary>
    /// <param name="userId">The shop's user id; an unknown user gets the global forecast.</param>
    /// <param name="horizon">How far ahead; positive, at most 10 years.</param>
    /// <returns>The forecast.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="horizon"/> is not positive or longer than 10 years.</exception>
    public InterestForecast PredictInterests(string userId, TimeSpan horizon)
    {
        CheckId(userId, nameof(userId));
        if (horizon <= TimeSpan.Zero || horizon > TimeSpan.FromDays(3653))
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"'{nameof(horizon)}' is {horizon}; it must be positive and at most 10 years.");
        }

        ProfileContext context = Profiles();
        (_, UserLog? log) = Find(userId);
        ReadOnlySpan<Interaction> history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        long asOf = ProfileTime();
        int c = context.Categories.Count;
        var forecast = new float[c];
        context.Forecaster.Predict(history, context.Categories, asOf, horizon, context.Options, context.Prior, default, forecast);

        int months = InterestProfiles.MonthCount(history, asOf, context.Options);
        var monthProfiles = new MonthProfile[months];
        var distributions = new float[months * c];
        InterestProfiles.Trajectory(history, context.Categories, asOf, context.Options, monthProfiles, distributions);
        var trajectory = new List<MonthlyInterest>(months);
        for (int m = 0; m < months; m++)
        {
            IReadOnlyList<CategoryWeight> weights = monthProfiles[m].Events == 0 ? [] : Weights(context, distributions.AsSpan(m * c, c));
            trajectory.Add(new MonthlyInterest(new DateTimeOffset(monthProfiles[m].StartTicks, TimeSpan.Zero), monthProfiles[m].Events, weights));
        }

        RecommendationList next = Recommend(userId, TopProfileItems, new RecommendOptions { ExcludePurchased = false });
        return new InterestForecast(UserKey(userId), new DateTimeOffset(asOf, TimeSpan.Zero), horizon, Weights(context, forecast),
            [.. next.Select(r => r.ItemId)], trajectory, context.Version.Number);
    }

    /// <summary>The categories and profile options of the newest version (rebuilt when stale), for the evaluation protocols.</summary>
    internal (ItemCategories Categories, ProfileOptions Options) ProfileCategories()
    {
        ProfileContext context = Profiles();
        return (context.Categories, context.Options);
    }

    /// <summary>The stream time, or the Unix epoch before any event (so month arithmetic stays in range).</summary>
    private long ProfileTime() => Math.Max(Interlocked.Read(ref _streamTicks), DateTime.UnixEpoch.Ticks);

    private static List<CategoryWeight> Weights(ProfileContext context, ReadOnlySpan<float> distribution)
    {
        var weights = new List<CategoryWeight>(distribution.Length);
        for (int i = 0; i < distribution.Length; i++)
        {
            weights.Add(new CategoryWeight(context.Categories.Names[i], distribution[i]));
        }

        weights.Sort((a, b) => b.Weight.CompareTo(a.Weight));
        return weights;
    }

    /// <summary>The categories, fitted forecaster and global mix of the newest version, rebuilt when stale.</summary>
    private ProfileContext Profiles()
    {
        PublishedVersion version = Volatile.Read(ref _current);
        ProfileContext? context = Volatile.Read(ref _profiles);
        if (context is not null && !context.IsStale(version, Volatile.Read(ref _catalogChanges)))
        {
            return context;
        }

        // One rebuild at a time; a reader that finds a rebuild running uses the previous context if there is one.
        bool taken = false;
        try
        {
            if (context is null)
            {
                Monitor.Enter(_profileGate, ref taken);
            }
            else
            {
                Monitor.TryEnter(_profileGate, ref taken);
                if (!taken)
                {
                    return context;
                }
            }

            context = Volatile.Read(ref _profiles);
            version = Volatile.Read(ref _current);
            int catalog = Volatile.Read(ref _catalogChanges);
            if (context is null || context.IsStale(version, catalog))
            {
                context = BuildProfiles(version, catalog);
                Volatile.Write(ref _profiles, context);
            }

            return context;
        }
        finally
        {
            if (taken)
            {
                Monitor.Exit(_profileGate);
            }
        }
    }

    private ProfileContext BuildProfiles(PublishedVersion version, int catalog)
    {
        var options = new ProfileOptions { LongTermHalfLife = _options.LongTermHalfLife, RecentHalfLife = _options.RecentHalfLife };
        int items = _items.Count;
        int[] registered = Volatile.Read(ref _itemCategory);
        string?[] texts = Volatile.Read(ref _itemText);
        var categoryNames = new string?[items];
        bool anyRegistered = false;
        for (int i = 0; i < items; i++)
        {
            int c = i < registered.Length ? registered[i] : -1;
            categoryNames[i] = c >= 0 ? _categories.GetId(c) : null;
            anyRegistered |= c >= 0;
        }

        ItemCategories categories;
        if (anyRegistered)
        {
            categories = ItemCategories.FromCatalog(categoryNames);
        }
        else if (version.Scorer is IEmbeddingScorer vectors && version.ModelItems > 0)
        {
            int modelItems = version.ModelItems;
            categories = ItemCategories.FromEmbeddings((item, row) => vectors.ItemVector(item, row), modelItems, vectors.Dimensions,
                Math.Min(_options.CategoryCount, modelItems), [.. texts.Take(modelItems)], new KMeansOptions { Seed = _options.Seed });
        }
        else
        {
            categories = ItemCategories.FromCatalog(categoryNames); // everything "uncategorised" until the learner has vectors
        }

        if (categories.Count == 0)
        {
            categories = ItemCategories.FromAssignments([], [ItemCategories.UncategorisedName]); // no item yet
        }

        // The forecaster's weights and the global mix read every user's kept events once.
        // One read of the count: a user added meanwhile (by Observe on another thread) is left for the next rebuild.
        int userCount = _users.Count;
        var histories = new UserHistories(userCount);
        for (int u = 0; u < userCount; u++)
        {
            if (LogOf(u) is { } log)
            {
                histories.Append(log.Recent(_options.MaxHistoryPerUser));
            }
        }

        long asOf = ProfileTime();
        var prior = new float[categories.Count];
        InterestForecaster.GlobalPrior(histories, categories, asOf, options, prior);
        InterestForecaster forecaster = histories.EventCount == 0 ? InterestForecaster.Default
            : InterestForecaster.FitOnHistories(histories, categories, asOf, options: options);
        return new ProfileContext(version, catalog, items, categories, forecaster, prior, options);
    }

    /// <summary>What profiles and forecasts read, built from one version.</summary>
    private sealed record ProfileContext(PublishedVersion Version, int CatalogChanges, int Items, ItemCategories Categories,
        InterestForecaster Forecaster, float[] Prior, ProfileOptions Options)
    {
        internal bool IsStale(PublishedVersion current, int catalogChanges) =>
            catalogChanges != CatalogChanges
            || (current.Number != Version.Number
                && (current.StreamTicks - Version.StreamTicks >= RebuildStreamTicks || current.ModelItems > Items * 1.1 || Version.Scorer is null));
    }
}
