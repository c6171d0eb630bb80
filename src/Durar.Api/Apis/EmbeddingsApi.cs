using System.Text.Json;
using Durar.Actors.Models;
using Durar.Actors.Routing;

namespace Durar.Api.Apis;

/// <summary>
/// <c>POST /v1/embeddings</c>: OpenAI's embeddings API over the same run as chat (the candidate chain with <c>fallbacks</c>,
/// key leases, rotation on a rate limit, cooldowns, the failover budget, usage and cost per key). <c>model</c> names an
/// embedding model; a chat model, or a provider whose wire has no embeddings, is a 400 naming it. The answer is OpenAI's
/// <c>{object: "list", data, model, usage}</c> in the <c>encoding_format</c> the client asked for, with <c>x-durar-model</c> and
/// <c>x-durar-attempts</c> as chat completions sets them.
/// </summary>
internal static class EmbeddingsApi
{
    public static IEndpointRouteBuilder MapEmbeddings(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelResolver resolver, EmbeddingRunner runner)
    {
        var ct = context.RequestAborted;
        // The body stays parsed until the answer is written: an OpenAI-compatible upstream gets it field for field.
        JsonDocument? doc = null;
        try
        {
            ParsedEmbeddingRequest parsed;
            RunPlan plan;
            try
            {
                doc = await JsonBody.ReadAsync(context);
                parsed = EmbeddingRequestParser.Parse(doc.RootElement);
                if (Telemetry.RequestFacts.Of(context) is { } facts)
                {
                    facts.RequestedModel = parsed.Model;
                    facts.Operation = AttemptTelemetry.Operation(Durar.Actors.Configuration.ModelKind.Embedding);
                }
                plan = Access.ClientModels.Restrict(context, Plan(runner, resolver, parsed), parsed.Model, parsed.Fallbacks is not null);
            }
            catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
            {
                await refused.WriteAsync(context.Response);
                return;
            }

            var result = await runner.EmbedAsync(plan, parsed.Request, ct);
            if (result.Failure is { } failure)
            {
                await ChatCompletionsApi.WriteFailureAsync(context.Response, failure); // as chat answers a failed run
                return;
            }
            var run = result.Value!;
            Access.ClientPrincipal.RecordUse(context, run.Result.Usage, run.Model);
            var response = context.Response;
            foreach (var (name, value) in run.Result.Headers.Values) response.Headers[name] = value;
            response.Headers[DurarHeaders.Model] = run.Model.ToString();
            response.Headers[DurarHeaders.Attempts] = run.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await EmbeddingWriter.WriteAsync(response, run, parsed.Request.Encoding, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away; the run reported its outcome to the key already.
        }
        finally
        {
            doc?.Dispose();
        }
    }

    private static RunPlan Plan(EmbeddingRunner runner, ModelResolver resolver, ParsedEmbeddingRequest parsed)
    {
        try
        {
            return runner.Plan(resolver, parsed.Model, parsed.Fallbacks is { } f ? f : null);
        }
        catch (PlanException e)
        {
            var type = e.Status switch { 403 => "permission_error", 404 => "not_found_error", _ => "invalid_request_error" };
            throw new ApiErrorException(new ApiError(e.Status, e.Message, type, e.Code, e.Param));
        }
    }
}
