using Durar.Actors.Chat;
using Durar.Actors.Hosting;
using Microsoft.Extensions.AI;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Tests.Hosting;

/// <summary>Microsoft.Extensions.AI message content onto canonical messages; what no wire can carry is refused by type.</summary>
public sealed class ChatMessageMapperSpecs
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47];

    [Fact]
    public void Should_keep_plain_text_messages_as_strings_with_their_roles()
    {
        var mapped = ChatMessageMapper.Map([
            new AI.ChatMessage(ChatRole.System, "sys"),
            new AI.ChatMessage(new ChatRole("developer"), "dev"),
            new AI.ChatMessage(ChatRole.User, [new TextContent("a"), new TextContent("b")]) { AuthorName = "Jane Doe!" },
            new AI.ChatMessage(ChatRole.Assistant, "ok"),
        ], instructions: null);

        Assert.Equal(["system", "developer", "user", "assistant"], mapped.Select(m => m.Role));
        Assert.Equal(["sys", "dev", "ab", "ok"], mapped.Select(m => m.Text));
        Assert.All(mapped, m => Assert.True(m.Parts.IsDefaultOrEmpty));
        Assert.Equal("JaneDoe", mapped[2].Name); // OpenAI's name pattern, as Microsoft.Extensions.AI.OpenAI trims it
    }

    [Fact]
    public void Should_send_images_audio_pdfs_and_hosted_files_as_content_parts_in_order()
    {
        var image = new DataContent(Png, "image/png") { AdditionalProperties = new() { ["detail"] = "low" } };
        var mapped = Assert.Single(ChatMessageMapper.Map([new AI.ChatMessage(ChatRole.User, [
            new TextContent("look"),
            image,
            new UriContent("https://example.com/cat.jpg", "image/jpeg"),
            new DataContent(new byte[] { 1, 2, 3 }, "audio/wav"),
            new DataContent(new byte[] { 4, 5 }, "audio/mpeg"),
            new DataContent(new byte[] { 0x25, 0x50 }, "application/pdf") { Name = "report.pdf" },
            new HostedFileContent("file-123") { Name = "notes.pdf" },
        ])], instructions: null));

        Assert.Null(mapped.Text);
        var p = mapped.Parts;
        Assert.Equal(["text", "image_url", "image_url", "input_audio", "input_audio", "file", "file"], p.Select(x => x.Type));
        Assert.Equal("look", p[0].Text);
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png), p[1].ImageUrl);
        Assert.Equal("low", p[1].Detail);
        Assert.Equal("https://example.com/cat.jpg", p[2].ImageUrl);
        Assert.Equal((Convert.ToBase64String([1, 2, 3]), "wav"), (p[3].Data, p[3].Format));
        Assert.Equal("mp3", p[4].Format);
        Assert.Equal(("data:application/pdf;base64," + Convert.ToBase64String([0x25, 0x50]), "report.pdf"), (p[5].Data, p[5].FileName));
        Assert.Equal(("file-123", "notes.pdf"), (p[6].FileId, p[6].FileName));
    }

    [Fact]
    public void Should_carry_an_assistant_turn_with_reasoning_tool_calls_and_refusal_and_split_tool_results()
    {
        var mapped = ChatMessageMapper.Map([
            new AI.ChatMessage(ChatRole.User, "weather?"),
            new AI.ChatMessage(ChatRole.Assistant, [
                new TextReasoningContent("think "), new TextReasoningContent("more") { ProtectedData = "sig-1" },
                new TextContent("checking"),
                new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
                new FunctionCallContent("call_2", "get_time", null),
                new ErrorContent("cannot") { ErrorCode = "Refusal" },
            ]),
            new AI.ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny"), new FunctionResultContent("call_2", new { hour = 9 })]),
        ], instructions: "brief");

        Assert.Equal(["system", "user", "assistant", "tool", "tool"], mapped.Select(m => m.Role));
        var assistant = mapped[2];
        Assert.Equal("checking", assistant.Text);
        Assert.Equal(("think more", "sig-1"), (assistant.Reasoning, assistant.ReasoningSignature));
        Assert.Equal("cannot", assistant.Refusal);
        Assert.Equal([new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), new ToolCall("call_2", "get_time", "{}")], assistant.ToolCalls.ToArray());
        Assert.Equal([("call_1", "sunny"), ("call_2", """{"hour":9}""")], mapped.Skip(3).Select(m => (m.ToolCallId!, m.Text!)));
    }

    [Fact]
    public void Should_send_a_tool_call_only_turn_without_text()
    {
        var mapped = ChatMessageMapper.Map([new AI.ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c", "f")])], null);
        Assert.Null(Assert.Single(mapped).Text);
    }

    [Fact]
    public void Should_leave_out_redacted_reasoning_it_cannot_carry()
    {
        var redacted = new TextReasoningContent("") { ProtectedData = "opaque", AdditionalProperties = new() { [ChatMessageMapper.RedactedKey] = true } };
        var mapped = Assert.Single(ChatMessageMapper.Map([new AI.ChatMessage(ChatRole.Assistant, [redacted, new TextContent("hi")])], null));
        Assert.Null(mapped.Reasoning);
        Assert.Null(mapped.ReasoningSignature);
    }

    public static TheoryData<AI.ChatMessage, string> Unsupported => new()
    {
        { new AI.ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1 }, "text/plain")]), "DataContent" },
        { new AI.ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1 }, "audio/ogg")]), "audio/ogg" },
        { new AI.ChatMessage(ChatRole.User, [new UriContent("https://example.com/a.pdf", "application/pdf")]), "UriContent" },
        { new AI.ChatMessage(ChatRole.User, [new FunctionCallContent("c", "f")]), "FunctionCallContent" },
        { new AI.ChatMessage(ChatRole.User, [new TextReasoningContent("x")]), "TextReasoningContent" },
        { new AI.ChatMessage(ChatRole.Assistant, [new DataContent(Png, "image/png")]), "DataContent" },
        { new AI.ChatMessage(ChatRole.Assistant, [new ErrorContent("boom")]), "ErrorContent" },
        { new AI.ChatMessage(ChatRole.User, [new UsageContent(new UsageDetails())]), "UsageContent" },
        { new AI.ChatMessage(ChatRole.Tool, [new TextContent("x")]), "TextContent" },
        { new AI.ChatMessage(ChatRole.Tool, []), "without a FunctionResultContent" },
        { new AI.ChatMessage(new ChatRole("critic"), "x"), "\"critic\"" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Should_refuse_content_no_wire_carries_naming_its_place_and_type(AI.ChatMessage message, string named)
    {
        var e = Assert.Throws<ArgumentException>(() => ChatMessageMapper.Map([new AI.ChatMessage(ChatRole.User, "first"), message], null));
        Assert.Contains("messages[1]", e.Message);
        Assert.Contains(named, e.Message);
    }
}
