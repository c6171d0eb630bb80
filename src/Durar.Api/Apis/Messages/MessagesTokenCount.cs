using System.Globalization;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Transports;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c>: <c>{"input_tokens": N}</c>, as Anthropic answers. When the requested model's wire
/// can count (<c>anthropic-messages</c>), the count is the provider's own, through the run (a leased key, rotation, fallbacks
/// among the chain's Anthropic candidates): <c>x-durar-token-count: exact</c> and <c>x-durar-model</c>. Any other wire has no
/// count endpoint, so the gateway estimates without an upstream call and says so with <c>x-durar-token-count: estimate</c>:
/// one token per four characters of every text, tool call, reasoning and tool definition (JSON as written), four per message,
/// and <see cref="TokensPerAttachment"/> per image or document (their size is not decoded).
/// </summary>
internal static class MessagesTokenCount
{
    /// <summary>Response header: <c>exact</c> (the provider counted) or <c>estimate</c> (the gateway did).</summary>
    public const string CountHeader = "x-durar-token-count";

    /// <summary>An image or document in an estimate: about what Anthropic charges for a 1.1-megapixel image.</summary>
    public const int TokensPerAttachment = 1600;

    public static async Task HandleAsync(HttpContext context, ModelResolver resolver, RunLoop run, TransportRegistry transports)
    {
        ParsedChatRequest parsed;
        RunPlan plan;
        try
        {
            using var doc = await JsonBody.ReadAsync(context);
            parsed = MessagesRequestParser.ParseCount(doc.RootElement);
            plan = Access.ClientModels.Restrict(context, ChatCompletionsApi.Plan(resolver, parsed), parsed.Model, parsed.Fallbacks is not null);
        }
        catch (Exception e) when (JsonBody.ClientError(e) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        var response = context.Response;
        var counter = new TokenCountRunner(run, transports);
        long tokens;
        if (transports.Find(plan.Requested.Provider.Api) is ITokenCountTransport)
        {
            var result = await counter.CountAsync(plan, parsed.Request, context.RequestAborted);
            if (result.Failure is { } failure)
            {
                await ChatCompletionsApi.WriteFailureAsync(response, failure);
                return;
            }
            tokens = result.Value!.InputTokens;
            response.Headers[DurarHeaders.Model] = result.Value.Model.ToString();
            response.Headers[DurarHeaders.Attempts] = result.Value.Attempts.ToString(CultureInfo.InvariantCulture);
            response.Headers[CountHeader] = "exact";
        }
        else
        {
            tokens = Estimate(parsed.Request);
            response.Headers[DurarHeaders.Model] = plan.Requested.ToString();
            response.Headers[CountHeader] = "estimate";
        }
        await JsonAnswer.WriteAsync(response, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("input_tokens", tokens);
            w.WriteEndObject();
        });
    }

    /// <summary>The gateway's estimate (see the type's summary): at least 1.</summary>
    internal static long Estimate(ChatRequest request)
    {
        long chars = 0, extra = 0;
        foreach (var m in request.Messages)
        {
            extra += 4;
            chars += (m.Text?.Length ?? 0) + (m.Reasoning?.Length ?? 0);
            foreach (var part in m.Parts.IsDefault ? [] : m.Parts)
                if (part.Type is ContentPartTypes.ImageUrl or ContentPartTypes.File) extra += TokensPerAttachment;
                else chars += part.Text?.Length ?? 0;
            foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls) chars += call.Name.Length + call.Arguments.Length;
        }
        if (request.Tools is { } tools) chars += tools.GetRawText().Length;
        return Math.Max(1, (chars + 3) / 4 + extra);
    }
}
