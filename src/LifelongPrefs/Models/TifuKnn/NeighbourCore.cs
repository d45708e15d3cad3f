namespace LifelongPrefs.Models;

/// <summary>
/// A version of a neighbourhood model: the stored rows, the catalog size and the setting it scores with, immutable
/// once built (writes replace it whole), so it is its own thread-safe snapshot.
/// </summary>
/// <typeparam name="TSetting">The model's hyper-parameter setting.</typeparam>
internal abstract class NeighbourScorer<TSetting>(int items, TSetting setting) : FrozenScorer
{
    /// <summary>Gets the setting this version scores with.</summary>
    internal TSetting Setting { get; } = setting;

    /// <inheritdoc/>
    public override int ItemCount { get; } = items;
}

/// <summary>
/// What <see cref="TifuKnn"/> and <see cref="UpCf"/> hold and do alike: the one history store, one row per user
/// computed from the user's events under the setting, the validation NDCG@20 of the chosen setting and the current
/// version; the grid search of <c>Fit</c>, the row upkeep of <c>Update</c> and the state's shared sections. A model
/// supplies only its grid, a user's row, how rows are packed into a version, and how it reads and writes its setting.
/// </summary>
/// <typeparam name="TSetting">The model's hyper-parameter setting.</typeparam>
/// <typeparam name="TRow">One user's row (its sparse arrays; <see langword="default"/> for a user with no events).</typeparam>
/// <typeparam name="TPacked">Every user's rows packed for scoring (built once per distinct rows, shared by settings).</typeparam>
/// <typeparam name="TVersion">The model's version (packed rows and setting), its scorer.</typeparam>
/// <param name="rowOf">A user's row from their events under a setting, in a cleared scratch vector of the catalog's size.</param>
/// <param name="pack">Every user's rows packed, for a catalog of the given size.</param>
/// <param name="version">The version of packed rows, the catalog size and a setting.</param>
/// <param name="first">The version before any fit.</param>
/// <remarks>Reads of <see cref="Version"/> may run on any number of threads; every other member is for the model's exclusive writes.</remarks>
internal sealed class NeighbourCore<TSetting, TRow, TPacked, TVersion>(Func<ReadOnlySpan<Interaction>, TSetting, SparseVector, TRow> rowOf,
    Func<TRow[], int, TPacked> pack, Func<TPacked, int, TSetting, TVersion> version, TVersion first)
    where TVersion : NeighbourScorer<TSetting>
{
    private TRow[] _rows = [];

    /// <summary>Gets every user's events, basket-grouped (the rows are a function of them and the setting).</summary>
    internal UserHistories Histories { get; private set; } = new();

    /// <summary>Gets the users the model holds rows for.</summary>
    internal int Users { get; private set; }

    /// <summary>Gets the validation NDCG@20 of the chosen setting (NaN when the last fit had nothing to validate on).</summary>
    internal double ValidationNdcg { get; private set; } = double.NaN;

    /// <summary>Gets the version reads score with; replaced whole by the writes.</summary>
    internal TVersion Version { get; private set; } = first;

    /// <summary>
    /// Checks the arguments, searches <paramref name="grid"/> on the validation basket (when the grid has a choice and
    /// validation is on; a failed search leaves the previous version) and installs the version of every user's rows
    /// with the chosen setting.
    /// </summary>
    /// <param name="model">The model whose scores the search validates (it scores with <see cref="Version"/>).</param>
    /// <param name="options">The shared options: limits, validation users, seed and objective.</param>
    /// <param name="events">The training events.</param>
    /// <param name="userCount">The number of users.</param>
    /// <param name="itemCount">The number of items.</param>
    /// <param name="grid">Every setting, the first used when there is nothing to validate on.</param>
    /// <param name="sameRows">Whether two consecutive settings of the grid have the same rows (so they are built once).</param>
    /// <param name="progress">Receives one report per setting (or one when nothing is searched).</param>
    /// <param name="cancellationToken">Checked before every setting.</param>
    internal void Fit(Recommender model, NeighbourModelOptions options, IReadOnlyList<Interaction> events, int userCount, int itemCount,
        TSetting[] grid, Func<TSetting, TSetting, bool> sameRows, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        RecommenderGuard.Counts(userCount, itemCount, options.MaxUsers, options.MaxItems);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        TSetting chosen = grid[0];
        double best = double.NaN;
        HoldoutValidation? validation = NeighbourModel.Validation(events, userCount, grid.Length, options.ValidationUsers, options.Seed);
        TVersion before = Version;
        try
        {
            if (validation is { UserCount: > 0 })
            {
                UserHistories held = UserHistories.FromEvents(validation.FitEvents, userCount);
                chosen = NeighbourModel.Search(model, validation, options.Objective, grid, sameRows, s => pack(Rows(held, userCount, itemCount, s), itemCount),
                    (rows, s) => Version = version(rows, itemCount, s), progress, cancellationToken, out best);
            }
        }
        catch
        {
            Version = before;
            throw;
        }

        UserHistories histories = UserHistories.FromEvents(events, userCount);
        TRow[] final = Rows(histories, userCount, itemCount, chosen);
        (Histories, _rows, Users, ValidationNdcg) = (histories, final, userCount, best);
        Version = version(pack(final, itemCount), itemCount, chosen);
        if (validation is not { UserCount: > 0 })
        {
            progress?.Report(new TrainingProgress(model.Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
        }
    }

    /// <summary>
    /// Checks the counts and every event before anything changes, appends the events to the histories, recomputes
    /// the rows of the users they touch (O(their events)) and repacks; the setting stays.
    /// </summary>
    internal void Update(NeighbourModelOptions options, IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        int[] touched = NeighbourModel.Append(Histories, newEvents, userCount, itemCount, Users, Version.ItemCount, options.MaxUsers, options.MaxItems);
        Array.Resize(ref _rows, userCount);
        TSetting setting = Version.Setting;
        var scratch = new SparseVector(itemCount);
        foreach (int u in touched)
        {
            _rows[u] = rowOf(Histories.EventsOf(u), setting, scratch);
            scratch.Clear();
        }

        Users = userCount;
        Version = version(pack(_rows, itemCount), itemCount, setting);
    }

    /// <summary>Writes the counts, the validation metric, the setting (through <paramref name="writeSetting"/>) and the histories.</summary>
    internal void Write(ModelStateWriter writer, Action<ModelStateWriter, TSetting> writeSetting)
    {
        NeighbourModel.WriteCounts(writer, Users, Version.ItemCount, ValidationNdcg);
        writeSetting(writer, Version.Setting);
        HistoryViews.Write(writer, "history", Histories, Users);
    }

    /// <summary>
    /// Reads and validates the sections of <see cref="Write"/> (the setting through <paramref name="readSetting"/>) and
    /// rebuilds the rows from the histories; nothing changes until the returned action runs.
    /// </summary>
    internal Action Read(ModelStateReader reader, NeighbourModelOptions options, Func<ModelStateReader, TSetting> readSetting)
    {
        (int users, int items, double ndcg) = NeighbourModel.ReadCounts(reader, options.MaxUsers, options.MaxItems);
        TSetting setting = readSetting(reader);
        UserHistories histories = HistoryViews.Read(reader, "history", users, items);
        TRow[] rows = Rows(histories, users, items, setting);
        TVersion loaded = version(pack(rows, items), items, setting);
        return () =>
        {
            (Histories, _rows, Users, ValidationNdcg) = (histories, rows, users, ndcg);
            Version = loaded;
        };
    }

    /// <summary>Every user's row from <paramref name="histories"/> under <paramref name="setting"/>.</summary>
    private TRow[] Rows(UserHistories histories, int users, int items, TSetting setting)
    {
        var rows = new TRow[users];
        var scratch = new SparseVector(items);
        for (int u = 0; u < users; u++)
        {
            rows[u] = rowOf(histories.EventsOf(u), setting, scratch);
            scratch.Clear();
        }

        return rows;
    }
}
