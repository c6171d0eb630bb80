using Durar.Actors.Resilience;
using static Durar.Actors.Resilience.FailoverReason;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>Wire names, synthetic statuses (item 39), failover (item 61) and transience (item 69).</summary>
public class FailoverReasonsSpecs
{
    /// <summary>(reason, wire name, synthetic status, moves to next candidate, transient).</summary>
    public static TheoryData<FailoverReason, string, int, bool, bool> ReasonRows { get; } = new()
    {
        { Auth, "auth", 401, true, false },
        { AuthPermanent, "auth_permanent", 403, true, false },
        { Format, "format", 400, true, false },
        { RateLimit, "rate_limit", 429, true, true },
        { Overloaded, "overloaded", 503, true, true },
        { Billing, "billing", 402, true, false },
        { ServerError, "server_error", 500, true, true },
        { FailoverReason.Timeout, "timeout", 408, true, true },
        { ContextOverflow, "context_overflow", 400, false, false },
        { ModelNotFound, "model_not_found", 404, true, false },
        { SessionExpired, "session_expired", 410, true, false },
        { EmptyResponse, "empty_response", 502, true, false },
        { NoErrorDetails, "no_error_details", 502, true, false },
        { Unclassified, "unclassified", 502, true, false },
        { Unknown, "unknown", 502, true, false },
        { Refusal, "refusal", 400, false, false },
    };

    [Theory]
    [MemberData(nameof(ReasonRows))]
    public void Should_describe_each_reason(FailoverReason reason, string wire, int status, bool failover, bool transient)
    {
        Assert.Equal(wire, reason.ToWireName());
        Assert.Equal(reason, FailoverReasons.ParseWireName(wire));
        Assert.True(FailoverReasons.TryParseWireName($" {wire.ToUpperInvariant()} ", out var parsed));
        Assert.Equal(reason, parsed);
        Assert.Equal(status, FailoverReasons.SyntheticStatus(reason));
        Assert.Equal(failover, FailoverReasons.IsFailover(reason));
        Assert.Equal(transient, FailoverReasons.IsTransient(reason));
    }

    [Fact]
    public void Should_have_a_row_for_every_defined_reason()
    {
        var covered = ReasonRows.Select(row => (FailoverReason)row[0]).ToHashSet();

        Assert.Equal(Enum.GetValues<FailoverReason>().ToHashSet(), covered);
        Assert.Equal(Enum.GetValues<FailoverReason>(), FailoverReasons.All);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("rate-limit")]
    [InlineData("RateLimit")]
    [InlineData("nope")]
    public void Should_reject_unknown_wire_names(string? wire)
    {
        Assert.False(FailoverReasons.TryParseWireName(wire, out _));
    }

    [Fact]
    public void Should_throw_on_parsing_an_unknown_wire_name_or_an_undefined_reason()
    {
        Assert.Throws<ArgumentException>(() => FailoverReasons.ParseWireName("nope"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((FailoverReason)999).ToWireName());
        Assert.Throws<ArgumentOutOfRangeException>(() => FailoverReasons.SyntheticStatus((FailoverReason)999));
    }
}
