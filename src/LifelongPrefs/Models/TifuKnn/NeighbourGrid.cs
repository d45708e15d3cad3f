using System.Globalization;

namespace LifelongPrefs.Models;

/// <summary>
/// What <see cref="TifuKnn"/> and <see cref="UpCf"/> share around their maths: the options' grid checks, the users'
/// histories with one stored row per user, and the grid search on the validation basket.
/// </summary>
internal static class NeighbourGrid
{
    /// <summary>Throws unless <paramref name="values"/> is a non-empty list whose every value passes <paramref name="valid"/>.</summary>
    internal static void Each<T>(IReadOnlyList<T> values, string name, Func<T, bool> valid, string range)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0)
        {
            throw new ArgumentException($"'{name}' needs at least one candidate value.", name);
        }

        foreach (T value in values)
        {
            if (!valid(value))
            {
                throw new ArgumentOutOfRangeException(name, value, $"Every value of '{name}' must be {range} but one was {value}.");
            }
        }
    }

    /// <summary>The values in the invariant culture, comma-separated (for the options' fingerprint).</summary>
    internal static string Text<T>(IReadOnlyList<T> values)
        where T : IFormattable => string.Join(",", values.Select(v => v.ToString(null, CultureInfo.InvariantCulture)));

    /// <summary>The distinct users of <paramref name="events"/>, ascending.</summary>
    internal static int[] UsersOf(IReadOnlyList<Interaction> events)
    {
        var users = new HashSet<int>();
        for (int i = 0; i < events.Count; i++)
        {
            users.Add(events[i].User);
        }

        return [.. users.Order()];
    }
}

/// <summary>The plumbing <see cref="TifuKnn"/> and <see cref="UpCf"/> share around their vectors: validation, growth and the common state.</summary>
internal static class NeighbourModel
{
    /// <summary>The validation split when the grid has a choice to make and validation is on; otherwise null.</summary>
    internal static HoldoutValidation? Validation(IReadOnlyList<Interaction> events, int userCount, int gridSize, int validationUsers, int seed) =>
        gridSize > 1 && validationUsers > 0 ? HoldoutValidation.Create(events, userCount, validationUsers, seed) : null;

    /// <summary>
    /// Scores every setting of <paramref name="grid"/> on <paramref name="validation"/> through <paramref name="model"/>
    /// (after <paramref name="install"/> made it score with the setting, rebuilding the stored rows with
    /// <paramref name="build"/> only when <paramref name="sameRows"/> says the previous ones do not fit) and returns the
    /// first setting with the best NDCG@20 of <paramref name="objective"/> (NaN never wins), reporting each step.
    /// </summary>
    internal static TSetting Search<TSetting, TRows>(IRecommender model, HoldoutValidation validation, ValidationObjective objective, TSetting[] grid,
        Func<TSetting, TSetting, bool> sameRows, Func<TSetting, TRows> build, Action<TRows, TSetting> install,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, out double best)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TSetting chosen = grid[0];
        best = double.NaN;
        TRows rows = default!;
        for (int g = 0; g < grid.Length; g++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (g == 0 || !sameRows(grid[g - 1], grid[g]))
            {
                rows = build(grid[g]);
            }

            install(rows, grid[g]);
            double ndcg = objective == ValidationObjective.Explore ? validation.ExploreNdcg(model) : validation.Ndcg(model);
            if (ndcg > best || (double.IsNaN(best) && !double.IsNaN(ndcg)))
            {
                (best, chosen) = (ndcg, grid[g]);
            }

            progress?.Report(new TrainingProgress(model.Name, g + 1, grid.Length, double.NaN, ndcg, clock.Elapsed,
                clock.Elapsed / (g + 1) * (grid.Length - g - 1)));
        }

        return chosen;
    }

    /// <summary>
    /// The checks and the history growth of an <c>Update</c>: validates the counts and every event before anything
    /// changes, appends the events and returns the users whose rows must be recomputed.
    /// </summary>
    internal static int[] Append(UserHistories histories, IReadOnlyList<Interaction> newEvents, int userCount, int itemCount,
        int previousUsers, int previousItems, int maxUsers, int maxItems)
    {
        RecommenderGuard.Grown(userCount, itemCount, previousUsers, previousItems, maxUsers, maxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        histories.EnsureUsers(userCount);
        histories.Append(newEvents);
        return NeighbourGrid.UsersOf(newEvents);
    }

    /// <summary>Adds the sections both models start their state with: the counts and the validation metric.</summary>
    internal static void WriteCounts(Persistence.ModelStateWriter writer, int users, int items, double validationNdcg)
    {
        writer.AddInt("userCount", users);
        writer.AddInt("itemCount", items);

        // The state format holds finite numbers only: "no validation" is a flag, not a NaN.
        writer.AddInt("validated", double.IsNaN(validationNdcg) ? 0 : 1);
        writer.AddDoubles("validationNdcg", [double.IsNaN(validationNdcg) ? 0 : validationNdcg]);
    }

    /// <summary>Validates and takes the sections of <see cref="WriteCounts"/>.</summary>
    internal static (int Users, int Items, double ValidationNdcg) ReadCounts(Persistence.ModelStateReader reader, int maxUsers, int maxItems)
    {
        int users = reader.Int("userCount"), items = reader.Int("itemCount");
        reader.Require(users >= 0 && users <= maxUsers && items >= 0 && items <= maxItems,
            $"{users} users and {items} items (the limits are {maxUsers} and {maxItems})");
        double saved = reader.Doubles("validationNdcg", 1)[0];
        return (users, items, reader.Flag("validated") ? saved : double.NaN);
    }

    /// <summary>
    /// The options' canonical text with the objective: the default (<see cref="ValidationObjective.AllItems"/>) adds
    /// nothing, so states saved before the option existed keep their fingerprint.
    /// </summary>
    internal static string WithObjective(string canonical, ValidationObjective objective) =>
        objective == ValidationObjective.AllItems ? canonical : canonical + "Objective=" + objective + "\n";
}
