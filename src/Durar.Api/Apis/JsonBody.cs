using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Durar.Api.Apis;

/// <summary>
/// Reads a request body as JSON with the gateway's error rules: a body over the size limit is a 413 and malformed JSON a
/// 400 (UTF-8 is checked as the body is read, see <see cref="Utf8CheckedBody"/>), both as <see cref="ApiErrorException"/>. Every endpoint that takes a JSON body reads it through here.
/// </summary>
internal static class JsonBody
{
    /// <exception cref="ApiErrorException">The body is too large (413) or not valid JSON (400).</exception>
    public static async Task<JsonDocument> ReadAsync(HttpContext context)
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max) throw new ApiErrorException(ApiError.TooLarge(max));
        try
        {
            return await JsonDocument.ParseAsync(new Utf8CheckedBody(context.Request.Body), default, context.RequestAborted);
        }
        catch (InvalidUtf8Exception e)
        {
            throw new ApiErrorException(ApiError.BadRequest(e.Message, "invalid_json"));
        }
        catch (JsonException e)
        {
            throw new ApiErrorException(ApiError.BadRequest($"The request body is not valid JSON: {e.Message}", "invalid_json"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiErrorException(ApiError.TooLarge(limit ?? 0));
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> is what reading the values of a parsed body throws when the JSON is well formed but
    /// unreadable (a string with a lone surrogate, a number out of range): a client's fault, answered with
    /// <see cref="Unreadable"/>, never a 500.
    /// </summary>
    public static bool IsUnreadable(Exception e) => Durar.Actors.Transports.UpstreamErrors.IsMalformed(e);

    /// <summary>
    /// The client error an exception thrown while reading and parsing a request body stands for: the refusal it carries
    /// (<see cref="ApiErrorException"/>), the 400 for a body that could not be read (<see cref="IsUnreadable"/>), or null
    /// (a fault of the gateway's own). Every endpoint that reads a body catches through this one filter.
    /// </summary>
    public static ApiError? ClientError(Exception e) => e is ApiErrorException refused ? refused.Error : IsUnreadable(e) ? Unreadable(e) : null;

    /// <summary>The 400 for a body <see cref="IsUnreadable"/> refused.</summary>
    public static ApiError Unreadable(Exception e) =>
        ApiError.BadRequest($"The request body could not be read: {e.Message}", "invalid_json");
}
