namespace Durar.Actors.Transports.Google;

/// <summary>
/// Tool call ids on the Gemini wires. Gemini names a function call by its name (and order), not by an id, but Gemini 3 hands
/// out a <c>thoughtSignature</c> with each function call that must come back with it on the next turn. An OpenAI client
/// echoes only the tool call's id, so the signature travels inside it: <c>call_&lt;random&gt;</c>, then
/// <see cref="SignatureMark"/> and the signature when there is one. The gateway stays stateless; any client that echoes
/// ids (every OpenAI SDK does) keeps Gemini's thought continuity across tool calls.
/// </summary>
internal static class GeminiToolIds
{
    /// <summary>Between the id and the thought signature (a signature is base64, which never contains it).</summary>
    public const string SignatureMark = "~ts~";

    /// <summary>A new id for a function call Gemini answered with, carrying its <paramref name="signature"/> when it has one.</summary>
    public static string New(string? geminiId, string? signature)
    {
        var id = geminiId is { Length: > 0 } given ? given : "call_" + Guid.NewGuid().ToString("N")[..24];
        return signature is { Length: > 0 } ? id + SignatureMark + signature : id;
    }

    /// <summary>The thought signature an id carries; null for ids this wire did not make (other providers', clients' own).</summary>
    public static string? Signature(string? id)
    {
        if (id is null) return null;
        var at = id.IndexOf(SignatureMark, StringComparison.Ordinal);
        return at < 0 ? null : id[(at + SignatureMark.Length)..];
    }
}
