namespace LifelongPrefs.Evaluation.Protocols;

/// <summary>The metrics of one model under one protocol.</summary>
/// <param name="Protocol">The protocol's name (<c>next-basket</c>, <c>next-basket-explore</c>, <c>leave-last-item</c>).</param>
/// <param name="Model">The model's name.</param>
/// <param name="Metrics">Metric name → value (e.g. <c>NDCG@20</c>).</param>
/// <param name="TrainSeconds">Wall-clock seconds spent in <see cref="IRecommender.Fit"/>.</param>
/// <param name="Users">Users that counted in the averages.</param>
public sealed record ProtocolResult(string Protocol, string Model, IReadOnlyDictionary<string, double> Metrics, double TrainSeconds, int Users);
