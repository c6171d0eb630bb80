using Durar.Actors.Resilience;
using static Durar.Actors.Resilience.FailoverReason;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>
/// <see cref="FailureClassifier.KeyReason"/>: free text may refine a reason, but only the status and the provider's
/// structured code and type may disable or cool a key.
/// </summary>
public class KeyReasonSpecs
{
    public static TheoryData<int?, string?, string?, FailoverReason> Rows { get; } = new()
    {
        // Text-only escalations of a 4xx fall back to what the status (and structured fields) say.
        { 400, "Your credit balance is too low", null, Format },
        { 404, "API key revoked", null, ModelNotFound },
        { 401, "API key revoked", null, Auth },
        { 429, "Insufficient balance", null, RateLimit },
        { 400, "Invalid API key provided", null, Format },
        // Structured codes and statuses keep their weight; refinements that lighten the penalty stay.
        { 402, "Payment required", null, Billing },
        { 403, "Forbidden: key revoked", "deactivated_workspace", AuthPermanent },
        { 429, "You exceeded your current quota, please check your plan and billing details.", null, RateLimit },
        { 400, "prompt is too long: 250000 tokens > 200000 maximum", null, ContextOverflow },
        { 401, "Unauthorized", null, Auth },
        // Not a client error: 5xx and statusless stream events are untouched.
        { 503, "Service overloaded", null, Overloaded },
        { null, "rate limit exceeded", null, RateLimit },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Should_charge_the_key_only_for_what_the_status_and_structured_fields_say(int? status, string? message, string? code,
        FailoverReason expected)
    {
        var failure = new UpstreamFailure(status, message, code);
        Assert.Equal(expected, FailureClassifier.KeyReason(failure, FailureClassifier.Classify(failure)));
    }
}
