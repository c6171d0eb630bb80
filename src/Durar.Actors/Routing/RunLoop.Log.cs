using Microsoft.Extensions.Logging;

namespace Durar.Actors.Routing;

/// <summary>The run's structured log events (event names are the reference's, e.g. <c>model_fallback_decision</c>).</summary>
internal sealed partial class RunLoop
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, EventName = "model_fallback_decision",
        Message = "Fallback step from {FallbackStepFromModel} to {FallbackStepToModel}: {FallbackStepFromFailureReason} ({FallbackStepFromFailureDetail})")]
    private static partial void LogStep(ILogger logger, string fallbackStepFromModel, string fallbackStepToModel, string fallbackStepFromFailureReason, string? fallbackStepFromFailureDetail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, EventName = "key_rotation",
        Message = "Rotating {Model} off key {KeyId}: {Reason} ({Detail})")]
    private static partial void LogKeyRotation(ILogger logger, string model, string keyId, string reason, string? detail);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, EventName = "answered_after_retry",
        Message = "Request for {Model} answered after {Attempts} attempts on the same model")]
    private static partial void LogAnsweredAfterRetry(ILogger logger, string model, int attempts);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, EventName = "model_fallback_succeeded",
        Message = "Request for {RequestedModel} answered by {AnsweringModel} after {Attempts} attempts")]
    private static partial void LogFallbackSucceeded(ILogger logger, string requestedModel, string answeringModel, int attempts);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, EventName = "transient_retry",
        Message = "Retrying {Model} after {Reason} (retry {Retry}) in {DelayMs:0} ms")]
    private static partial void LogRetry(ILogger logger, string model, string reason, int retry, double delayMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, EventName = "queued_while_cooling",
        Message = "Every candidate for {Model} is cooling; waiting {WaitMs:0} ms for the first key to recover")]
    private static partial void LogQueued(ILogger logger, string model, double waitMs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, EventName = "candidate_unsupported",
        Message = "Skipping {Model}: its wire cannot carry {Param} (no upstream call)")]
    private static partial void LogUnsupported(ILogger logger, string model, string param);
}
