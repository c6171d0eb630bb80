using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// One chat request as the <see cref="FakeProvider"/> received it, so tests can assert what the gateway
/// actually sent upstream (model, key, headers, body) and whether it hung up early.
/// </summary>
/// <param name="Wire">"openai" or "anthropic".</param>
/// <param name="Path">Request path, e.g. /v1/chat/completions.</param>
/// <param name="Headers">Request headers (case-insensitive names; repeated values joined by a comma).</param>
/// <param name="Body">Raw request body.</param>
/// <param name="Json">Parsed body (a JSON null when the body was not valid JSON).</param>
/// <param name="ApiKey">From <c>Authorization: Bearer X</c>, <c>x-api-key</c>, <c>x-goog-api-key</c> or <c>api-key</c>.</param>
/// <param name="Model">The body's <c>model</c>, or the model in the URL (Gemini, Vertex).</param>
/// <param name="Stream">The body's <c>stream</c> is true, or the URL asks for a stream (Gemini's <c>:streamGenerateContent</c>).</param>
/// <param name="ReceivedAt">When the body was read.</param>
public sealed record RecordedRequest(
    string Wire,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    JsonDocument Json,
    string? ApiKey,
    string? Model,
    bool Stream,
    DateTimeOffset ReceivedAt)
{
    private int _clientAborted;

    /// <summary>True once the client disconnected before the response was complete (thread-safe).</summary>
    public bool ClientAborted => Volatile.Read(ref _clientAborted) == 1;

    /// <summary>Marks the request as aborted by the client; true on the first call only.</summary>
    internal bool MarkClientAborted() => Interlocked.Exchange(ref _clientAborted, 1) == 0;
}
