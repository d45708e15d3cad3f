namespace LifelongPrefs.Persistence;

/// <summary>
/// The fixed number a model type writes into its state header. Display names may change (and one type shows two
/// names: <c>Popularity</c> and <c>Popularity(decayed)</c>); these numbers never do, and a number is never reused.
/// </summary>
internal enum ModelTypeId : ushort
{
    /// <summary>Global popularity, plain or time-decayed.</summary>
    Popularity = 1,

    /// <summary>The user's own counts over global popularity.</summary>
    PersonalPopularity = 2,

    /// <summary>Item-based cosine collaborative filtering.</summary>
    ItemKnn = 3,

    /// <summary>Matrix factorisation trained with BPR.</summary>
    BprMf = 4,

    /// <summary>The feature-based purchase-propensity network.</summary>
    PropensityMlp = 5,

    /// <summary>The GRU session model.</summary>
    Gru4Rec = 6,

    /// <summary>The self-attentive sequence model.</summary>
    SasRec = 7,

    /// <summary>The repeat/explore mixture network.</summary>
    RepeatAware = 8,

    /// <summary>Temporal-interest item frequency with user-KNN (TIFU-KNN).</summary>
    TifuKnn = 9,

    /// <summary>User-popularity collaborative filtering with recency (UP-CF@r).</summary>
    UpCf = 10,

    /// <summary>The tracker's default incremental learner (repeat, embedding exploration and co-occurrence under a gate).</summary>
    RepeatExplore = 11,

    /// <summary>A whole <c>PreferenceTracker</c>'s own state (histories, id maps, queue, counters); its learner's state follows it.</summary>
    Tracker = 12,

    /// <summary>The continual learner's own state (replay memory, online EWC, generators, private steps); its wrapped model's state precedes it.</summary>
    ContinualLearner = 13,
}

/// <summary>What a model expects of a state header: its type id, its own state-format number and its options.</summary>
/// <param name="Type">The model's fixed type id.</param>
/// <param name="StateFormat">The model's own layout number; bumped when its sections change meaning.</param>
/// <param name="Options">The canonical text of the options (see <see cref="OptionsFingerprint.Canonical{T}"/>).</param>
internal readonly record struct ModelStateHeader(ModelTypeId Type, int StateFormat, string Options)
{
    /// <summary>
    /// Gets or initialises the oldest state-format number the model still reads (a state of any number from it to
    /// <see cref="StateFormat"/> loads; the model sees which through <see cref="ModelStateReader.StateFormat"/>); 0, the
    /// default, means <see cref="StateFormat"/> only.
    /// </summary>
    internal int OldestStateFormat { get; init; }

    /// <summary>
    /// Gets or initialises the start of <see cref="Options"/> that binds a saved state, or null (the default) when all of
    /// it does. A state whose fingerprint differs still loads when its own options text (the one its fingerprint was
    /// taken of) starts with this prefix: the rest names options the loading model does not use, such as a tracker's
    /// <c>Continual:</c> section while its learner applies no continual strategy, so a change of their defaults must not
    /// orphan its checkpoints.
    /// </summary>
    internal string? BindingPrefix { get; init; }

    /// <summary>
    /// Gets or initialises the options (by name) whose saved values may differ from the model's: a state that differs from
    /// <see cref="Options"/> only in these loads (<see cref="ToleratedOnLoadAttribute"/>); <see langword="null"/>, the
    /// default, tolerates none.
    /// </summary>
    internal IReadOnlyCollection<string>? ToleratedOptions { get; init; }

    /// <summary>Gets the fingerprint of <see cref="Options"/>.</summary>
    internal ulong Fingerprint => OptionsFingerprint.Of(Options);

    /// <summary>Gets a readable name of a type id (the number itself for one this build does not know).</summary>
    /// <param name="type">The id.</param>
    /// <returns>The name.</returns>
    internal static string NameOf(ModelTypeId type) =>
        Enum.IsDefined(type) ? type.ToString() : $"unknown model type {(ushort)type}";
}
