using System.Text;
using Durar.Actors.Resilience;
using Durar.Actors.Routing;
using Durar.Actors.Transports;

namespace Durar.Actors.Hosting;

/// <summary>
/// A run of the in-process <see cref="DurarChatClient"/> produced no answer, or its stream failed after output: the
/// gateway's status, code and every attempt (<see cref="Failure"/>), as the HTTP gateway would have answered them. The
/// message is the gateway's, followed by the model that answered last and the provider's own words when the gateway's
/// message does not already carry them, so a log line alone says what the provider said.
/// </summary>
public sealed class DurarRunException : Exception
{
    public DurarRunException(RunFailure failure) : this(failure, null) { }

    public DurarRunException(RunFailure failure, Exception? inner) : base(Describe(failure), inner) => Failure = failure;

    public RunFailure Failure { get; }

    /// <summary>A committed stream that failed after output (the HTTP gateway's <c>upstream_stream_error</c> frame).</summary>
    internal static DurarRunException StreamFailed(UpstreamException e, string model, string? keyId)
    {
        var message = e.Failure.Message ?? "The upstream stream failed.";
        var attempt = new AttemptRecord(model, keyId, FailureClassifier.Classify(e.Failure), message, e.Failure.Status)
        {
            UpstreamType = e.Failure.ErrorType,
            UpstreamCode = e.Failure.Code,
            UpstreamParam = e.Failure.Param,
        };
        var failure = new RunFailure(502, message, "api_error", "upstream_stream_error", null, [attempt]) { Reason = attempt.Reason.ToWireName() };
        return new DurarRunException(failure, e);
    }

    private static string Describe(RunFailure failure)
    {
        if (failure.Attempts.IsDefaultOrEmpty) return failure.Message;
        var last = failure.Attempts[^1];
        var text = new StringBuilder(failure.Message).Append(" [").Append(last.Model);
        if (last.Status is { } status) text.Append(" answered ").Append(status);
        if (last.UpstreamCode is { Length: > 0 } code) text.Append(' ').Append(code);
        if (!failure.Message.Contains(last.Message, StringComparison.Ordinal)) text.Append(": ").Append(last.Message);
        return text.Append(']').ToString();
    }
}
