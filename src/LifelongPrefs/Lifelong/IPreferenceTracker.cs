using LifelongPrefs.Data;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The calls a shop's code makes on its tracker — observe, recommend, take feedback, explain, profile, forecast,
/// forget — as an interface, so that request handlers and services can depend on it and tests can stand in a fake.
/// <see cref="PreferenceTracker"/> is the implementation.
/// </summary>
/// <remarks>
/// <para>
/// Lifetime belongs to whoever created the tracker, so the interface has no <c>Dispose</c>: with
/// <c>services.AddLifelongPrefs()</c> the container owns the one <see cref="PreferenceTracker"/> and resolves this
/// interface to that same instance. Checkpoints, recovery, the options and drift reporting are operations' business
/// and stay on <see cref="PreferenceTracker"/> (the hosted service of the DI package calls them).
/// </para>
/// <para>
/// <b>Thread safety.</b> Every member may be called from any number of threads at once, as documented on
/// <see cref="PreferenceTracker"/>.
/// </para>
/// </remarks>
public interface IPreferenceTracker
{
    /// <inheritdoc cref="PreferenceTracker.ModelVersion"/>
    long ModelVersion { get; }

    /// <inheritdoc cref="PreferenceTracker.StreamTime"/>
    DateTimeOffset StreamTime { get; }

    /// <inheritdoc cref="PreferenceTracker.Statistics"/>
    TrackerStatistics Statistics { get; }

    /// <inheritdoc cref="PreferenceTracker.LearnerStatus"/>
    LearnerStatus LearnerStatus { get; }

    /// <inheritdoc cref="PreferenceTracker.Observe(InteractionEvent)"/>
    void Observe(InteractionEvent evt);

    /// <inheritdoc cref="PreferenceTracker.Observe(IEnumerable{InteractionEvent})"/>
    void Observe(IEnumerable<InteractionEvent> events);

    /// <inheritdoc cref="PreferenceTracker.Feedback"/>
    void Feedback(string userId, string itemId, FeedbackOutcome outcome, DateTimeOffset? timestamp = null);

    /// <inheritdoc cref="PreferenceTracker.RegisterItem"/>
    void RegisterItem(string itemId, string? category = null, string? description = null);

    /// <inheritdoc cref="PreferenceTracker.Recommend"/>
    RecommendationList Recommend(string userId, int k = 10, RecommendOptions? options = null);

    /// <inheritdoc cref="PreferenceTracker.RecommendInto"/>
    (int Count, long ModelVersion) RecommendInto(string userId, Span<Recommendation> destination, RecommendOptions? options = null);

    /// <inheritdoc cref="PreferenceTracker.Explain"/>
    Explanation Explain(string userId, string itemId);

    /// <inheritdoc cref="PreferenceTracker.GetProfile"/>
    InterestProfile GetProfile(string userId);

    /// <inheritdoc cref="PreferenceTracker.PredictInterests"/>
    InterestForecast PredictInterests(string userId, TimeSpan horizon);

    /// <inheritdoc cref="PreferenceTracker.FindAudience"/>
    IReadOnlyList<AudienceMember> FindAudience(string itemId, int k);

    /// <inheritdoc cref="PreferenceTracker.FindCategoryAudience"/>
    IReadOnlyList<AudienceMember> FindCategoryAudience(string category, int k);

    /// <inheritdoc cref="PreferenceTracker.Forget"/>
    bool Forget(string userId);

    /// <inheritdoc cref="PreferenceTracker.ForgetAsync"/>
    Task<bool> ForgetAsync(string userId, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="PreferenceTracker.FlushAsync"/>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
