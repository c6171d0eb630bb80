using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Tests.Transports.Anthropic;

/// <summary>
/// The messages on the Anthropic wire (<see cref="AnthropicMessageWriter"/>), read back from the body the fake provider
/// received: images and documents with their sources, thinking sent back for continuity, the client's cache breakpoints.
/// </summary>
public sealed class AnthropicMessageWriterSpecs : IAsyncLifetime
{
    private const string Api = ApiKinds.AnthropicMessages;
    private UpstreamHarness _h = null!;

    public async Task InitializeAsync() => _h = await UpstreamHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Should_send_images_as_base64_or_url_sources_and_pdf_and_text_files_as_documents()
    {
        var message = new ChatMessage("user", null)
        {
            Parts =
            [
                new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "data:image/png;base64,iVBORw0KGgo=", Detail: "low"),
                new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: "https://img.example/cat.jpg"),
                new ContentPart(ContentPartTypes.File) { Data = "data:application/pdf;base64,JVBERi0xLjQ=", FileName = "report.pdf" },
                new ContentPart(ContentPartTypes.File) { Data = "JVBERi0xLjQ=" },
                new ContentPart(ContentPartTypes.File) { Data = "data:text/plain;base64,aGVsbG8gd29ybGQ=" },
                new ContentPart(ContentPartTypes.Text, "what is this?"),
            ],
        };

        await CompleteAsync(new ChatRequest { Messages = [message] });

        var blocks = Sent().GetProperty("messages")[0].GetProperty("content").EnumerateArray().Select(b => b.GetRawText()).ToArray();
        Assert.Equal(
        [
            """{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}""",
            """{"type":"image","source":{"type":"url","url":"https://img.example/cat.jpg"}}""",
            """{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="},"title":"report.pdf"}""",
            """{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="}}""",
            """{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hello world"}}""",
            """{"type":"text","text":"what is this?"}""",
        ], blocks);
    }

    [Fact]
    public async Task Should_send_signed_and_redacted_thinking_back_first_in_the_assistant_turn()
    {
        ImmutableArray<ChatMessage> messages =
        [
            new ChatMessage("user", "what is 2+2?"),
            new ChatMessage("assistant", "4") { Reasoning = "2 plus 2", ReasoningSignature = "sig-1", RedactedReasoning = ["opaque-1"] },
            new ChatMessage("user", "and 3+3?"),
            new ChatMessage("assistant", "6") { Reasoning = "unsigned reasoning from another model" },
            new ChatMessage("user", "thanks"),
        ];

        await CompleteAsync(new ChatRequest { Messages = messages });

        var turns = Sent().GetProperty("messages");
        Assert.Equal(
        [
            """{"type":"thinking","thinking":"2 plus 2","signature":"sig-1"}""",
            """{"type":"redacted_thinking","data":"opaque-1"}""",
            """{"type":"text","text":"4"}""",
        ], turns[1].GetProperty("content").EnumerateArray().Select(b => b.GetRawText()));
        Assert.Equal("""[{"type":"text","text":"6"}]""", turns[3].GetProperty("content").GetRawText());
    }

    [Fact]
    public async Task Should_keep_the_client_cache_control_on_its_blocks_and_tools()
    {
        var original = Json("""
            {"messages":[
              {"role":"system","content":[{"type":"text","text":"long rules","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral","ttl":"1h"}}]}],
             "tools":[{"type":"function","function":{"name":"lookup"},"cache_control":{"type":"ephemeral"}}]}
            """);
        ImmutableArray<ChatMessage> messages =
        [
            new ChatMessage("system", null) { Parts = [new ContentPart(ContentPartTypes.Text, "long rules")] },
            new ChatMessage("user", null) { Parts = [new ContentPart(ContentPartTypes.Text, "hi")] },
        ];

        await CompleteAsync(new ChatRequest { Messages = messages, OriginalMessages = messages, Original = original, Tools = original.GetProperty("tools") });

        var body = Sent();
        Assert.Equal("""[{"type":"text","text":"long rules","cache_control":{"type":"ephemeral"}}]""", body.GetProperty("system").GetRawText());
        Assert.Equal("""[{"type":"text","text":"hi","cache_control":{"type":"ephemeral","ttl":"1h"}}]""",
            body.GetProperty("messages")[0].GetProperty("content").GetRawText());
        Assert.Equal("""{"type":"ephemeral"}""", body.GetProperty("tools")[0].GetProperty("cache_control").GetRawText());
    }

    private async Task CompleteAsync(ChatRequest request)
    {
        var call = _h.Call(Api, stream: false);
        await _h.Transport(Api).CompleteAsync(call with { Request = request }, default);
    }

    private JsonElement Sent() => _h.Fake.Requests[^1].Json.RootElement;

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
