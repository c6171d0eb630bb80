using BenchmarkDotNet.Attributes;
using Durar.Actors.Resilience;

namespace Durar.Bench.Micro;

/// <summary>FailureClassifier.Classify on the failures a failover meets most (it runs once per failed attempt).</summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    public static IEnumerable<object[]> Failures() =>
    [
        [new Named("429 rate limit (OpenAI body)", new UpstreamFailure(429, "Rate limit reached for requests (bench upstream)", "rate_limit_exceeded", "requests", "bench"))],
        [new Named("529 overloaded (Anthropic)", new UpstreamFailure(529, "Overloaded", null, "overloaded_error", "anthropic"))],
        [new Named("400 context overflow text", new UpstreamFailure(400, "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", "context_length_exceeded", "invalid_request_error", "openai"))],
        [new Named("402 billing text", new UpstreamFailure(402, "You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", null, "openai"))],
        [new Named("transport timeout", new UpstreamFailure(null, "upstream idle for 120 s", null, null, "bench", UpstreamTransportError.Timeout))],
    ];

    [Benchmark]
    [ArgumentsSource(nameof(Failures))]
    public FailoverReason Classify(Named failure) => FailureClassifier.Classify(failure.Failure);

    [Benchmark]
    [ArgumentsSource(nameof(Failures))]
    public bool IsKeyRotationTrigger(Named failure) => FailureClassifier.IsKeyRotationTrigger(failure.Failure);

    /// <summary>Names the case in the results table (public for BenchmarkDotNet; the failure it carries is internal to Durar.Actors).</summary>
    public sealed class Named
    {
        internal Named(string name, UpstreamFailure failure) => (Name, Failure) = (name, failure);

        public string Name { get; }

        internal UpstreamFailure Failure { get; }

        public override string ToString() => Name;
    }
}
