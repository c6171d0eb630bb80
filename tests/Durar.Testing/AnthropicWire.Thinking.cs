namespace Durar.Testing;

/// <summary>The Anthropic wire's thinking blocks (<see cref="FakeResponse.Reasoning"/>, <see cref="FakeResponse.RedactedReasoning"/>).</summary>
internal sealed partial class AnthropicWire
{
    /// <summary>The thinking block (its pieces, then its signature) and the redacted thinking block, as Anthropic streams them.</summary>
    private static async Task WriteThinkingBlocksAsync(Exchange exchange)
    {
        var scripted = exchange.Response;
        var index = 0;
        if (scripted.Reasoning is { } reasoning)
        {
            await exchange.WriteFrameAsync("content_block_start",
                """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"""u8.ToArray());
            foreach (var piece in Reply.Split(reasoning, null))
            {
                await exchange.WriteFrameAsync("content_block_delta", JsonBytes.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type", "content_block_delta");
                    w.WriteNumber("index", 0);
                    w.WriteStartObject("delta");
                    w.WriteString("type", "thinking_delta");
                    w.WriteString("thinking", piece);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }));
            }

            await exchange.WriteFrameAsync("content_block_delta", JsonBytes.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "content_block_delta");
                w.WriteNumber("index", 0);
                w.WriteStartObject("delta");
                w.WriteString("type", "signature_delta");
                w.WriteString("signature", Signature(scripted));
                w.WriteEndObject();
                w.WriteEndObject();
            }));
            await exchange.WriteFrameAsync("content_block_stop", BlockStop(index++));
        }

        if (scripted.RedactedReasoning is { } redacted)
        {
            var at = index;
            await exchange.WriteFrameAsync("content_block_start", JsonBytes.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "content_block_start");
                w.WriteNumber("index", at);
                w.WriteStartObject("content_block");
                w.WriteString("type", "redacted_thinking");
                w.WriteString("data", redacted);
                w.WriteEndObject();
                w.WriteEndObject();
            }));
            await exchange.WriteFrameAsync("content_block_stop", BlockStop(at));
        }
    }

    /// <summary>The index of the answer's block: after the thinking and redacted thinking blocks.</summary>
    private static int MainIndex(Exchange exchange) =>
        (exchange.Response.Reasoning is null ? 0 : 1) + (exchange.Response.RedactedReasoning is null ? 0 : 1);

    private static byte[] BlockStop(int index) => JsonBytes.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", index);
        w.WriteEndObject();
    });

    private static string Signature(FakeResponse scripted) => scripted.ReasoningSignature ?? "sig-fake";
}
