using System.Collections.Immutable;
using System.Diagnostics;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Routing;

namespace Durar.Api.Dashboard;

/// <summary>
/// Records one chat request for the dashboard's recent-requests list once it has ended: started when the request was
/// parsed, ended with the run's failure or its answer (with the failed attempts the run carries). Inert (and free) when the
/// node keeps no recent requests (<c>gateway.dashboard.recentRequests = 0</c>): a value type, nothing is allocated until the
/// record itself.
/// </summary>
internal readonly struct RequestTrace
{
    private readonly DashboardFeed? _feed;
    private readonly long _started;
    private readonly DateTimeOffset _at;
    private readonly string _requestedModel;
    private readonly bool _stream;

    private RequestTrace(DashboardFeed feed, string requestedModel, bool stream)
    {
        _feed = feed;
        _started = Stopwatch.GetTimestamp();
        _at = DateTimeOffset.UtcNow;
        _requestedModel = requestedModel;
        _stream = stream;
    }

    public static RequestTrace Start(DashboardFeed feed, string requestedModel, bool stream) =>
        feed.RecordsRequests ? new RequestTrace(feed, requestedModel, stream) : default;

    /// <summary>Time since the request started (zero for an inert trace).</summary>
    public TimeSpan Elapsed => _feed is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_started);

    /// <summary>The run produced no answer.</summary>
    public void Failed(RunFailure failure)
    {
        if (_feed is null) return;
        _feed.RequestCompleted(new RequestRecord(_feed.NextRequestId(), _at, _stream, _requestedModel, null, null, failure.HttpStatus, "error",
            failure.Code, failure.Message, Elapsed, null, null, 0m, failure.Attempts));
    }

    /// <summary>
    /// The run answered: <paramref name="outcome"/> is <c>ok</c>, <c>stream_error</c> (the upstream failed after output) or
    /// <c>cancelled</c> (the client went away); <paramref name="firstOutput"/> is when a stream was committed.
    /// </summary>
    public void Answered(ResolvedModel model, string? keyId, ImmutableArray<AttemptRecord> failures, TokenUsage? usage, TimeSpan? firstOutput,
        string outcome = "ok", string? code = null, string? error = null)
    {
        if (_feed is null) return;
        _feed.RequestCompleted(new RequestRecord(_feed.NextRequestId(), _at, _stream, _requestedModel, model.ToString(), keyId, 200, outcome,
            code, error, Elapsed, firstOutput, usage, ModelPricing.Cost(usage, model), failures));
    }
}
