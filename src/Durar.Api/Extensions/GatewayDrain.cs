using System.Buffers;
using System.Diagnostics;
using Durar.Actors;
using Durar.Api.Apis;
using Microsoft.AspNetCore.Http.Features;

namespace Durar.Api.Extensions;

/// <summary>
/// Graceful stop of one gateway node. It exists because a node that leaves the cluster must not cut its clients off: on
/// SIGTERM (the host's <c>ApplicationStopping</c>) it refuses new requests with a 503, lets the requests and SSE streams in
/// flight finish for up to <see cref="ShutdownOptions.DrainTimeout"/>, then ends the streams still running with an SSE error
/// event in the stream's own dialect, the one contract for every stream that ends early (OpenAI's error frame without
/// <c>[DONE]</c>, Anthropic's <c>event: error</c> without <c>message_stop</c>, the Responses API's <c>error</c> and
/// <c>response.failed</c>: <see cref="IStreamCloser"/>; a request that has written nothing yet gets a 503). Only after that may the actor system
/// run CoordinatedShutdown (sharding hand-off, cluster leave): this hosted service is registered after Akka.Hosting's, so
/// its <see cref="StopAsync"/> runs, and waits for the drain, before Akka's — whatever order Kestrel stops in.
/// </summary>
/// <remarks>
/// The drain deadline reaches handlers through <see cref="HttpContext.RequestAborted"/>, which the middleware replaces by a
/// token that also fires at the deadline; handlers already treat that token as "stop now". A stream whose answer was
/// complete before the deadline (<see cref="Telemetry.RequestFacts.IsAnswered"/>, or <c>[DONE]</c> as the last bytes
/// written: the response body is watched for <c>text/event-stream</c> responses) is left alone. A stream that is not a
/// model's answer (the dashboard's, session events) registers no closer and gets OpenAI's error frame.
/// </remarks>
public sealed partial class GatewayDrain(ShutdownOptions options, IHostApplicationLifetime lifetime, ILogger<GatewayDrain> logger)
    : IHostedService, IDisposable
{
    /// <summary>The error code of requests refused or ended because the node is stopping.</summary>
    public const string ShuttingDownCode = "node_shutting_down";

    /// <summary>How long the middleware may spend writing the closing frames of one ended stream.</summary>
    private static readonly TimeSpan CloseWriteTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The answer to requests refused or ended because the node is stopping (also the SSE error event).</summary>
    private static readonly ApiError ShuttingDown =
        new(503, "This gateway node is shutting down; retry the request (another node will serve it).", "api_error", ShuttingDownCode)
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        };

    private readonly CancellationTokenSource _deadline = new();
    private readonly BoundedPool<CancellationTokenSource> _sources = new(1024);
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = new();
    private CancellationTokenRegistration _stopping;
    private int _inFlight;
    private int _draining;
    private int _endedStreams;
    private int _endedRequests;

    /// <summary>True from the stop signal on: new requests are refused.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    /// <summary>Requests currently inside the pipeline.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Completes when the drain began and no request is left in flight.</summary>
    public Task Drained => _idle.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static state => ((GatewayDrain)state!).BeginDrain(), this);
        return Task.CompletedTask;
    }

    /// <summary>Waits (bounded) until every request has finished or was ended at the deadline.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginDrain();
        try
        {
            // The deadline ends every stream; the extra time covers writing their closing frames.
            await _idle.Task.WaitAsync(options.DrainTimeout + CloseWriteTimeout + TimeSpan.FromSeconds(1), cancellationToken);
            LogDrained(logger, _clock.Elapsed.TotalSeconds, Volatile.Read(ref _endedStreams), Volatile.Read(ref _endedRequests));
        }
        catch (TimeoutException)
        {
            LogDrainOverran(logger, InFlight);
        }
        catch (OperationCanceledException)
        {
            LogDrainOverran(logger, InFlight);
        }
    }

    /// <summary>Starts the drain (idempotent): from now on new requests are refused and the deadline runs.</summary>
    public void BeginDrain()
    {
        if (Interlocked.Exchange(ref _draining, 1) == 1) return;
        _clock.Start();
        var inFlight = InFlight;
        LogDrainStarted(logger, inFlight, options.DrainTimeout.TotalSeconds);
        if (options.DrainTimeout <= TimeSpan.Zero) _deadline.Cancel();
        else _deadline.CancelAfter(options.DrainTimeout);
        if (InFlight == 0) _idle.TrySetResult();
    }

    /// <summary>The middleware: first in the pipeline, so it sees every request.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            // The health probes answer for themselves while draining: ready reports the drain, live that the process runs.
            if (IsDraining && !Health.GatewayHealth.IsProbe(context.Request.Path))
            {
                context.Response.Headers.Connection = "close";
                await ShuttingDown.WriteAsync(context.Response);
                return;
            }
            // The request itself, in this frame (one state machine per request, not two).
            var clientAborted = context.RequestAborted;
            var body = context.Features.Get<IHttpResponseBodyFeature>();
            var watched = body is null ? null : new EventStreamBodyFeature(body, context.Response);
            // The facts tell the drain whether the answer was complete and how its stream ends early (set by request telemetry
            // first in the pipeline; here when telemetry is off).
            if (Telemetry.RequestFacts.Of(context) is null) context.Features.Set(new Telemetry.RequestFacts());
            if (watched is not null) context.Features.Set<IHttpResponseBodyFeature>(watched);
            // One pooled source per request instead of a new linked one: registered on the client's token and on the drain
            // deadline (both registrations reuse their sources' callback nodes), reset and pooled again once the request is over.
            var aborted = RentSource();
            var fromClient = clientAborted.UnsafeRegister(CancelSource, aborted);
            var fromDeadline = _deadline.Token.UnsafeRegister(CancelSource, aborted);
            context.RequestAborted = aborted.Token;
            bool cut;
            try
            {
                await next(context);
                cut = _deadline.IsCancellationRequested;
            }
            catch (Exception e) when (_deadline.IsCancellationRequested && !clientAborted.IsCancellationRequested)
            {
                // Usually the OperationCanceledException of the deadline; anything else a cut stream throws (an Akka stream torn
                // down under it) still gets the clean ending below rather than a reset connection.
                if (e is not OperationCanceledException) LogCutFailure(logger, context.Request.Path.Value ?? "", e.GetType().Name, e.Message);
                cut = true;
            }
            finally
            {
                context.RequestAborted = clientAborted;
                if (watched is not null) context.Features.Set(body);
                // Disposing a registration waits for its callback if it is running: after these two, nothing cancels the source.
                fromClient.Dispose();
                fromDeadline.Dispose();
                ReturnSource(aborted);
            }
            if (cut && !clientAborted.IsCancellationRequested) await EndAsync(context, body, watched, clientAborted);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && IsDraining) _idle.TrySetResult();
        }
    }

    private static readonly Action<object?> CancelSource = static source => ((CancellationTokenSource)source!).Cancel();

    private CancellationTokenSource RentSource() => _sources.TryRent(out var source) ? source : new CancellationTokenSource();

    /// <summary>Pools a request's source again unless it was cancelled (TryReset also drops registrations a handler left behind).</summary>
    private void ReturnSource(CancellationTokenSource source)
    {
        if (!source.TryReset() || !_sources.TryKeep(source)) source.Dispose();
    }

    /// <summary>A request that was still running at the deadline: a 503, or the closing frames of its stream.</summary>
    private async Task EndAsync(HttpContext context, IHttpResponseBodyFeature? body, EventStreamBodyFeature? watched, CancellationToken clientAborted)
    {
        var response = context.Response;
        try
        {
            if (!response.HasStarted)
            {
                response.Headers.Connection = "close";
                Telemetry.RequestFacts.Of(context)?.Failed(ShuttingDownCode);
                await ShuttingDown.WriteAsync(response);
                Interlocked.Increment(ref _endedRequests);
                LogRequestEnded(logger, context.Request.Method, context.Request.Path.Value ?? "", 503);
                return;
            }
            var facts = Telemetry.RequestFacts.Of(context);
            if (body is null || watched is not { StreamStarted: true, EndedWithDone: false } || facts is { IsAnswered: true }) return;
            using var write = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
            write.CancelAfter(CloseWriteTimeout);
            var pipe = body.Writer;
            facts?.Failed(ShuttingDownCode); // the request's log line and metrics say how it ended
            await (facts?.StreamCloser ?? ReplyDialect.ChatCompletions).WriteStreamErrorAsync(pipe, ShuttingDown, write.Token);
            Interlocked.Increment(ref _endedStreams);
            LogStreamEnded(logger, context.Request.Method, context.Request.Path.Value ?? "");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client went away meanwhile, or the response can no longer be written: nothing left to tell it.
            LogEndFailed(logger, context.Request.Path.Value ?? "", e.Message);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: draining {InFlight} in-flight request(s) for at most {DrainSeconds} s; new requests are refused")]
    private static partial void LogDrainStarted(ILogger logger, int inFlight, double drainSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: drained after {Seconds:0.00} s ({Streams} stream(s) and {Requests} request(s) ended at the deadline); leaving the cluster")]
    private static partial void LogDrained(ILogger logger, double seconds, int streams, int requests);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {InFlight} request(s) still in flight after the drain; leaving the cluster anyway")]
    private static partial void LogDrainOverran(ILogger logger, int inFlight);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: {Method} {Path} was still streaming at the drain deadline; ended it with an error event")]
    private static partial void LogStreamEnded(ILogger logger, string method, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: {Method} {Path} had not answered at the drain deadline; answered {Status}")]
    private static partial void LogRequestEnded(ILogger logger, string method, string path, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: {Path} failed when the drain deadline cut it: {Exception}: {Reason}")]
    private static partial void LogCutFailure(ILogger logger, string path, string exception, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shutdown: could not end {Path} cleanly: {Reason}")]
    private static partial void LogEndFailed(ILogger logger, string path, string reason);
}
