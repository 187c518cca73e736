namespace DeepSeekOperator.Controller.Prometheus;

/// <summary>The answer to an instant query: a <see cref="PrometheusVector"/> or a <see cref="PrometheusScalar"/>.</summary>
/// <param name="Warnings">The <c>warnings</c> Prometheus gave with the answer (e.g. a partial result), empty when none.</param>
public abstract record PrometheusResult(IReadOnlyList<string> Warnings);

/// <summary>An instant vector: one sample per series, possibly none.</summary>
/// <param name="Samples">The series and their values at the evaluation time.</param>
/// <param name="Warnings">The <c>warnings</c> Prometheus gave with the answer.</param>
public sealed record PrometheusVector(IReadOnlyList<PrometheusSample> Samples, IReadOnlyList<string> Warnings) : PrometheusResult(Warnings);

/// <summary>A scalar, such as the answer to <c>scalar(…)</c> or <c>time()</c>.</summary>
/// <param name="Timestamp">The evaluation time.</param>
/// <param name="Value">The value; <see cref="double.NaN"/> and the infinities come through as such.</param>
/// <param name="Warnings">The <c>warnings</c> Prometheus gave with the answer.</param>
public sealed record PrometheusScalar(DateTimeOffset Timestamp, double Value, IReadOnlyList<string> Warnings) : PrometheusResult(Warnings);

/// <summary>One series of an instant vector.</summary>
/// <param name="Labels">The series' labels, <c>__name__</c> included when the expression keeps it.</param>
/// <param name="Timestamp">The evaluation time.</param>
/// <param name="Value">The value; <see cref="double.NaN"/> and the infinities come through as such.</param>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, DateTimeOffset Timestamp, double Value);
