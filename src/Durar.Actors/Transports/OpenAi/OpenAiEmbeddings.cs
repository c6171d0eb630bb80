using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Embeddings;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// OpenAI's embeddings wire (<c>POST {baseUrl}/embeddings</c>), which OpenAI-compatible servers (Gemini's compatibility
/// endpoint, Mistral, Model Studio, Ollama, vLLM, ...) share. A request that came in this dialect is forwarded field for field
/// (<see cref="EmbeddingRequest.Original"/>: unknown fields, nested objects and number formatting survive) with only these
/// edits: <c>model</c> is the upstream id, the gateway's own fields (<c>fallbacks</c>, <c>models</c>) are consumed, and the
/// model's <c>params.extra_body</c> is merged last and wins. Any other request is written from its typed fields. The answer is
/// kept whole (<see cref="EmbeddingResult.Raw"/>) for the client, with its usage read for accounting.
/// </summary>
internal static class OpenAiEmbeddings
{
    public const string Path = "/embeddings";

    public static void Write(Utf8JsonWriter w, EmbeddingCall call)
    {
        var r = call.Request;
        var extra = OpenAiRequestWriter.ExtraBody(call.AsUpstreamCall());
        bool Overridden(string name) => extra?.ContainsKey(name) == true;
        w.WriteStartObject();
        if (r.Original is { ValueKind: JsonValueKind.Object } original)
        {
            foreach (var p in original.EnumerateObject())
            {
                if (Overridden(p.Name) || OpenAiShaping.GatewayFields.Contains(p.Name)) continue;
                if (p.NameEquals("model")) w.WriteString("model", call.Target.Model.Id);
                else p.WriteTo(w);
            }
        }
        else
        {
            if (!Overridden("model")) w.WriteString("model", call.Target.Model.Id);
            if (!Overridden("input")) WriteInput(w, r);
            if (!Overridden("encoding_format")) w.WriteString("encoding_format", r.Encoding == EmbeddingEncoding.Base64 ? "base64" : "float");
            if (r.Dimensions is { } dimensions && !Overridden("dimensions")) w.WriteNumber("dimensions", dimensions);
            if (r.User is { } user && !Overridden("user")) w.WriteString("user", user);
            foreach (var (name, value) in r.Extra)
            {
                if (Overridden(name) || OpenAiShaping.GatewayFields.Contains(name)) continue;
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
        }
        if (extra is not null)
            foreach (var (name, value) in extra)
            {
                w.WritePropertyName(name);
                if (value is null) w.WriteNullValue(); else value.WriteTo(w);
            }
        w.WriteEndObject();
    }

    private static void WriteInput(Utf8JsonWriter w, EmbeddingRequest r)
    {
        w.WriteStartArray("input");
        if (r.IsTokens)
            foreach (var tokens in r.Tokens)
            {
                w.WriteStartArray();
                foreach (var token in tokens) w.WriteNumberValue(token);
                w.WriteEndArray();
            }
        else
            foreach (var text in r.Texts) w.WriteStringValue(text);
        w.WriteEndArray();
    }

    /// <summary>An answer: <c>{object: "list", data: [{object, index, embedding}], model, usage}</c>; an error object throws.</summary>
    public static EmbeddingResult Parse(JsonElement root, string providerId)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var err) && err.ValueKind is JsonValueKind.Object or JsonValueKind.String)
        {
            var (message, type, code) = UpstreamErrors.ExtractError(root);
            var param = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            throw new UpstreamException(new UpstreamFailure(null, message, code, type, providerId) { Param = param }, UpstreamException.NoHints);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream embeddings answer has no data list");
        foreach (var item in data.EnumerateArray())
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("embedding", out var e) || e.ValueKind is not (JsonValueKind.Array or JsonValueKind.String))
                throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream embeddings answer has an entry without an embedding");
        var usage = root.TryGetProperty("usage", out var u) ? OpenAiChunk.ParseUsage(u) : null;
        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        return new EmbeddingResult(default(ImmutableArray<ReadOnlyMemory<float>>), usage, model) { Raw = root.Clone() };
    }
}
