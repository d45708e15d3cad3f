namespace LifelongPrefs.Models;

/// <summary>
/// The seams a factor model offers the continual learner (same assembly): a two-phase update that first takes the
/// new events and then trains on a chosen set of weighted pairs (the new ones plus replayed ones), and the factor
/// tables the EWC and distillation hooks read and add gradients into.
/// </summary>
/// <remarks>
/// Scores are <c>x_ui = p_u · q_i + b_i</c> over <see cref="UserFactors"/>, <see cref="ItemFactors"/> and
/// <see cref="ItemBias"/>. The hooks run in the model's <see cref="ITrainableRecommender.Trainer"/> between backward and
/// the optimizer step; a hook may add gradient to any row it marks touched. Every member is exclusive, like
/// <see cref="IRecommender.Update"/>.
/// </remarks>
internal interface IContinualModel : ITrainableRecommender
{
    /// <summary>Gets the number of latent factors d.</summary>
    int Dimensions { get; }

    /// <summary>Gets the user factor table (users × d), sparse rows.</summary>
    Parameter UserFactors { get; }

    /// <summary>Gets the item factor table (items × d), sparse rows.</summary>
    Parameter ItemFactors { get; }

    /// <summary>Gets the item bias (items × 1), sparse rows.</summary>
    Parameter ItemBias { get; }

    /// <summary>Gets the number of examples in the batch the last backward pass ran on.</summary>
    int LastBatchSize { get; }

    /// <summary>Gets the number of distinct (user, item) positives learned so far.</summary>
    long LearnedPairCount { get; }

    /// <summary>Whether a user has a learned row (else scores fold them in from their history).</summary>
    /// <param name="user">The user index.</param>
    /// <returns>Whether the user was trained on.</returns>
    bool IsTrainedUser(int user);

    /// <summary>
    /// Phase one of an update: checks the events, grows the tables and records the new events as learned, appending
    /// every (user, item) positive not learned before to <paramref name="pairs"/> in event order (what
    /// <see cref="IRecommender.Update"/> would train). A rejected call changes nothing.
    /// </summary>
    /// <param name="newEvents">The new events.</param>
    /// <param name="userCount">The number of users from now on.</param>
    /// <param name="itemCount">The number of items from now on.</param>
    /// <param name="pairs">Receives the new pairs.</param>
    /// <exception cref="ArgumentException">An event is out of range (nothing changes).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count shrinks or exceeds the model's maximum (nothing changes).</exception>
    void BeginUpdate(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount, List<ContinualPair> pairs);

    /// <summary>
    /// Phase two: trains the model's update epochs over <paramref name="pairs"/> (seen or not), each example weighted by
    /// <paramref name="weights"/> (one per pair, finite and non-negative; empty for all 1, bit-identical to a plain update).
    /// </summary>
    /// <param name="pairs">The training pairs.</param>
    /// <param name="weights">Their weights, or empty.</param>
    void TrainPairs(List<(int User, int Item)> pairs, float[] weights);

    /// <summary>Gets the passes over the data an update makes (a private update runs ⌈epochs / q⌉ sampled steps).</summary>
    int UpdateEpochs { get; }

    /// <summary>
    /// Phase two, differentially private: <paramref name="plan"/>'s steps of DP-SGD over the users of
    /// <paramref name="pairs"/> (each user one example), weighted as in <see cref="TrainPairs"/>.
    /// </summary>
    /// <param name="pairs">The training pairs.</param>
    /// <param name="weights">Their weights, or empty.</param>
    /// <param name="plan">Clipping, noise, sampling rate, steps and the generator.</param>
    void TrainPairsPrivately(List<(int User, int Item)> pairs, float[] weights, in PrivateUpdatePlan plan);

    /// <summary>
    /// Reads and validates a state the model's <see cref="ISavableRecommender.Save"/> wrote, without changing the model,
    /// so that a wrapper can validate its own state against the sizes before anything is applied.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the state; left just after it.</param>
    /// <param name="userCount">The number of user rows the state holds.</param>
    /// <param name="itemCount">The number of item rows the state holds.</param>
    /// <returns>The action that swaps the state in.</returns>
    /// <exception cref="Persistence.ModelStateException">The state is not one of this model's, or is damaged or inconsistent.</exception>
    Action PrepareLoad(Stream stream, out int userCount, out int itemCount);

    /// <summary>As <see cref="PrepareLoad"/>, with asynchronous reads.</summary>
    /// <param name="stream">A readable stream positioned at the state; left just after it.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>The action that swaps the state in, and the table sizes it holds.</returns>
    /// <exception cref="Persistence.ModelStateException">The state is not one of this model's, or is damaged or inconsistent.</exception>
    Task<(Action Apply, int Users, int Items)> PrepareLoadAsync(Stream stream, CancellationToken cancellationToken);
}

/// <summary>A positive (user, item) pair with the time of the event it came from.</summary>
/// <param name="User">The user index.</param>
/// <param name="Item">The item index.</param>
/// <param name="Ticks">The event's time in UTC ticks.</param>
internal readonly record struct ContinualPair(int User, int Item, long Ticks);
