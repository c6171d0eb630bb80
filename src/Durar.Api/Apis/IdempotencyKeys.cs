namespace Durar.Api.Apis;

/// <summary>
/// The <c>Idempotency-Key</c> request header of a session turn (<c>POST /v1/sessions/{key}/messages</c>, chat completions
/// with a session key), checked once for both: the key is journaled with the turn and compared byte for byte, so it must be
/// printable ASCII of at most <see cref="MaxLength"/> characters; anything else is a 400 naming the header.
/// </summary>
internal static class IdempotencyKeys
{
    public const int MaxLength = 255;

    /// <summary>The request's key, or null without one.</summary>
    /// <exception cref="ApiErrorException">The header is repeated, empty, too long or not printable ASCII (400 <c>invalid_idempotency_key</c>).</exception>
    public static string? Read(HttpContext context)
    {
        if (!context.Request.Headers.TryGetValue(DurarHeaders.IdempotencyKey, out var values)) return null;
        if (values.Count != 1) throw Invalid("must be sent once");
        var key = values[0] ?? "";
        if (key.Length is 0 or > MaxLength) throw Invalid($"must be 1 to {MaxLength} characters");
        foreach (var c in key)
            if (c is < (char)0x20 or > (char)0x7E) throw Invalid("must be printable ASCII");
        return key;
    }

    private static ApiErrorException Invalid(string rule) =>
        new(ApiError.BadRequest($"The {DurarHeaders.IdempotencyKey} header {rule}.", "invalid_idempotency_key", DurarHeaders.IdempotencyKey));
}
