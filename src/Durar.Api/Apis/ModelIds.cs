namespace Durar.Api.Apis;

/// <summary>
/// The shape of a model id a client may send: it is reflected into response headers (<c>x-durar-model</c>), every SSE
/// frame and logs, so it must be printable ASCII of at most <see cref="MaxLength"/> characters. Anything else is a 400
/// naming the field before the id goes anywhere (a control character would break a header write after the run began).
/// </summary>
internal static class ModelIds
{
    /// <summary>The longest model id accepted (provider ids and model names of the real catalogs are far shorter).</summary>
    public const int MaxLength = 256;

    public static bool IsValid(string value)
    {
        if (value.Length is 0 or > MaxLength) return false;
        foreach (var c in value)
            if (c is < ' ' or > '~') return false;
        return true;
    }

    /// <exception cref="ApiErrorException">400 <c>invalid_model</c> naming <paramref name="field"/>.</exception>
    public static string Check(string value, string field) => IsValid(value)
        ? value
        : throw new ApiErrorException(ApiError.BadRequest(
            $"`{field}` must be printable ASCII of at most {MaxLength} characters.", "invalid_model", field));
}
