using System.Diagnostics;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Telemetry;
using static Durar.Actors.Telemetry.TelemetryNames;

namespace Durar.Actors.Routing;

/// <summary>
/// One attempt of a run as telemetry sees it: a span (<c>chat {provider/model}</c>, or <c>embeddings {provider/model}</c> for an
/// embeddings run, a child of the request's span, following
/// the GenAI semantic conventions) when a tracer listens, and the attempt's start for the <c>gen_ai.client.operation.duration</c>
/// histogram. A value type, so an attempt with nobody listening allocates nothing; it ends exactly once, through
/// <see cref="Succeeded"/>, <see cref="Failed"/> or <see cref="Cancelled"/> (a committed stream ends it when the stream ends).
/// </summary>
internal readonly struct AttemptTelemetry
{
    private readonly DurarTelemetry? _metrics;
    private readonly Activity? _span;
    private readonly long _started;
    private readonly TimeProvider _time;
    private readonly ResolvedModel _model;
    private readonly string _keyId;
    private readonly string _operation;

    private AttemptTelemetry(DurarTelemetry? metrics, Activity? span, long started, TimeProvider time, ResolvedModel model, string keyId, string operation)
    {
        _operation = operation;
        _metrics = metrics;
        _span = span;
        _started = started;
        _time = time;
        _model = model;
        _keyId = keyId;
    }

    /// <summary>The GenAI operation (<c>gen_ai.operation.name</c>) a run of <paramref name="kind"/> is: <c>chat</c> or <c>embeddings</c>.</summary>
    public static string Operation(ModelKind kind) => kind == ModelKind.Embedding ? EmbeddingsOperation : ChatOperation;

    /// <summary>The GenAI semantic conventions' name of an embeddings operation.</summary>
    private const string EmbeddingsOperation = "embeddings";

    /// <summary>The span of a run that has no request span around it (<c>chat {requested}</c>); null when not recorded.</summary>
    public static Activity? StartRun(RunPlan plan)
    {
        var operation = Operation(plan.Kind);
        var span = DurarTelemetry.ActivitySource.StartActivity($"{operation} {plan.Requested}", ActivityKind.Internal);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(OperationName, operation);
            span.SetTag(ProviderName, plan.Requested.Provider.Id);
            span.SetTag(RequestModel, plan.Requested.Model.Id);
        }
        return span;
    }

    /// <summary>Ends a run's own span with its outcome (the error code of a run that produced no answer).</summary>
    public static void EndRun(Activity? span, RunFailure? failure)
    {
        if (span is not { IsAllDataRequested: true }) return;
        span.SetTag(Outcome, failure?.Code ?? Success);
        if (failure is null) return;
        span.SetTag(ErrorType, failure.Code);
        span.SetTag(Attempts, failure.AttemptCount);
        span.SetStatus(ActivityStatusCode.Error, failure.Message);
    }

    /// <summary>Starts the attempt's span (when traced) and clock.</summary>
    public static AttemptTelemetry Begin(DurarTelemetry? metrics, TimeProvider time, ModelKind kind, ResolvedModel model, KeyLease key, int number)
    {
        var operation = Operation(kind);
        Activity? span = null;
        if (DurarTelemetry.ActivitySource.HasListeners())
        {
            span = DurarTelemetry.ActivitySource.StartActivity($"{operation} {model}", ActivityKind.Client);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag(OperationName, operation);
                span.SetTag(ProviderName, model.Provider.Id);
                span.SetTag(RequestModel, model.Model.Id);
                span.SetTag(KeyId, key.KeyId);
                span.SetTag(AttemptNumber, number);
            }
        }
        var started = metrics is { AttemptDuration.Enabled: true } ? time.GetTimestamp() : 0;
        return new AttemptTelemetry(metrics, span, started, time, model, key.KeyId, operation);
    }

    /// <summary>The attempt answered: its duration, the tokens and cost it served, the span's usage and response model.</summary>
    public void Succeeded(TokenUsage? usage, decimal cost, string? responseModel)
    {
        var model = responseModel ?? _model.Model.Id;
        if (_metrics is { } m)
        {
            Record(m, null);
            if (usage is not null && m.Tokens.Enabled)
            {
                AddTokens(m, usage.Input, "input", model);
                AddTokens(m, usage.Output, "output", model);
                AddTokens(m, usage.CacheRead, "cache_read", model);
                AddTokens(m, usage.CacheWrite, "cache_write", model);
            }
            if (cost > 0 && m.Cost.Enabled)
                m.Cost.Add((double)cost, new TagList { { ProviderName, _model.Provider.Id }, { ResponseModel, model }, { KeyId, _keyId } });
        }
        if (_span is null) return;
        if (_span.IsAllDataRequested)
        {
            _span.SetTag(ResponseModel, model);
            _span.SetTag(Outcome, Success);
            if (usage is not null)
            {
                _span.SetTag(InputTokens, usage.Input);
                _span.SetTag(OutputTokens, usage.Output);
                if (usage.CacheRead > 0) _span.SetTag(CacheReadTokens, usage.CacheRead);
                if (usage.CacheWrite > 0) _span.SetTag(CacheWriteTokens, usage.CacheWrite);
            }
            if (cost > 0) _span.SetTag(TelemetryNames.Cost, (double)cost);
        }
        _span.Dispose();
    }

    /// <summary>
    /// The attempt failed with <paramref name="reason"/>, and the run took <paramref name="step"/> (a <see cref="Steps"/> name,
    /// or null for a stream that failed after its output). A step that moves on counts as a failover.
    /// </summary>
    public void Failed(FailoverReason reason, int? status, string? step, string? message)
    {
        var wire = reason.ToWireName();
        if (_metrics is { } m)
        {
            Record(m, wire);
            if (step is Steps.NextKey or Steps.Retry or Steps.NextModel && m.Failovers.Enabled)
                m.Failovers.Add(1, new TagList
                {
                    { ProviderName, _model.Provider.Id }, { RequestModel, _model.Model.Id }, { Reason, wire }, { FailoverStep, step },
                });
        }
        if (_span is null) return;
        if (_span.IsAllDataRequested)
        {
            _span.SetTag(ErrorType, wire);
            _span.SetTag(Outcome, wire);
            _span.SetTag(Reason, wire);
            if (step is not null) _span.SetTag(FailoverStep, step);
            if (status is { } s) _span.SetTag(HttpStatus, s);
        }
        _span.SetStatus(ActivityStatusCode.Error, message);
        _span.Dispose();
    }

    /// <summary>The caller went away or the failover budget ran out during the attempt.</summary>
    public void Cancelled()
    {
        if (_metrics is { } m) Record(m, TelemetryNames.Cancelled);
        if (_span is null) return;
        if (_span.IsAllDataRequested) _span.SetTag(Outcome, TelemetryNames.Cancelled);
        _span.Dispose();
    }

    /// <summary>A streamed run produced its first output: the time since the run started (<paramref name="runStarted"/>).</summary>
    public void FirstOutput(long runStarted, ResolvedModel requested)
    {
        if (_metrics is not { TimeToFirstToken.Enabled: true } m) return;
        m.TimeToFirstToken.Record(_time.GetElapsedTime(runStarted).TotalSeconds, new TagList
        {
            { OperationName, _operation }, { ProviderName, _model.Provider.Id }, { RequestModel, requested.Model.Id }, { ResponseModel, _model.Model.Id },
        });
    }

    private void Record(DurarTelemetry m, string? error)
    {
        if (!m.AttemptDuration.Enabled || _started == 0) return;
        var tags = new TagList { { OperationName, _operation }, { ProviderName, _model.Provider.Id }, { RequestModel, _model.Model.Id } };
        if (error is not null) tags.Add(ErrorType, error);
        m.AttemptDuration.Record(_time.GetElapsedTime(_started).TotalSeconds, tags);
    }

    private void AddTokens(DurarTelemetry m, long count, string type, string model)
    {
        if (count <= 0) return;
        m.Tokens.Add(count, new TagList { { ProviderName, _model.Provider.Id }, { ResponseModel, model }, { KeyId, _keyId }, { TokenType, type } });
    }
}
