#pragma warning disable OPENAI001 // parts of the Responses client are marked experimental
using System.ClientModel;
using System.Net;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Responses;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// Stored responses: <c>store: true</c> (the default) keeps a response as a session turn, <c>previous_response_id</c>
/// continues the conversation from the session's transcript (also after a restart on the same data directory),
/// <c>GET</c> reads it back and <c>DELETE</c> removes it; <c>store: false</c> keeps nothing.
/// </summary>
public sealed class ResponsesStateSpecs
{
    [Fact]
    public async Task Should_continue_a_conversation_after_a_restart_with_the_transcript_as_history()
    {
        var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        try
        {
            gw.Fake.Enqueue(FakeResponse.Ok("Nice to meet you, Ada"));
            var first = (await new ResponsesSdk(gw).Client.CreateResponseAsync(new CreateResponseOptions(ResponsesSdkSpecs.AnthropicModel,
                [ResponseItem.CreateUserMessageItem("My name is Ada")]))).Value;

            gw = await gw.RestartAsync();
            gw.Fake.Enqueue(FakeResponse.Ok("Your name is Ada"));
            var second = (await new ResponsesSdk(gw).Client.CreateResponseAsync(new CreateResponseOptions(ResponsesSdkSpecs.AnthropicModel,
                [ResponseItem.CreateUserMessageItem("What is my name?")]) { PreviousResponseId = first.Id })).Value;

            Assert.Equal("Your name is Ada", second.GetOutputText());
            Assert.Equal(first.Id, second.PreviousResponseId);
            var messages = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages");
            Assert.Equal(3, messages.GetArrayLength());
            Assert.Contains("My name is Ada", messages[0].GetRawText());
            Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
            Assert.Contains("Nice to meet you, Ada", messages[1].GetRawText());
            Assert.Contains("What is my name?", messages[2].GetRawText());
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_read_back_and_delete_a_stored_response()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = new FakeResponse { Text = "Stored answer", PromptTokens = 3, CompletionTokens = 2 };
        var client = new ResponsesSdk(gw).Client;
        var created = (await client.CreateResponseAsync(new CreateResponseOptions(ResponsesSdkSpecs.OpenAiModel,
            [ResponseItem.CreateUserMessageItem("Remember this")]))).Value;

        var read = (await client.GetResponseAsync(created.Id)).Value;
        Assert.Equal(created.Id, read.Id);
        Assert.Equal(ResponseStatus.Completed, read.Status);
        Assert.Equal("Stored answer", read.GetOutputText());
        Assert.Equal(created.OutputItems[0].Id, read.OutputItems[0].Id);
        Assert.Equal(5, read.Usage.TotalTokenCount);
        Assert.Equal(ResponsesSdkSpecs.OpenAiModel, read.Model);

        using (var deleted = await gw.Http.DeleteAsync($"v1/responses/{created.Id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            var body = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(created.Id, body.GetProperty("id").GetString());
            Assert.True(body.GetProperty("deleted").GetBoolean());
        }
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));
        Assert.Equal(404, gone.Status);
        using var again = await gw.Http.PostAsync("v1/responses", Json(
            $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"more","previous_response_id":"{{created.Id}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("previous_response_id", Error(await again.Content.ReadAsStringAsync()).GetProperty("param").GetString());
    }

    [Fact]
    public async Task Should_keep_nothing_for_store_false_and_refuse_to_branch_a_stored_conversation()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.Ok("ok");
        var client = new ResponsesSdk(gw).Client;

        var stateless = (await client.CreateResponseAsync(new CreateResponseOptions(ResponsesSdkSpecs.OpenAiModel,
            [ResponseItem.CreateUserMessageItem("x")]) { StoredOutputEnabled = false })).Value;
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(stateless.Id))).Status);

        var r1 = (await client.CreateResponseAsync(ResponsesSdkSpecs.OpenAiModel, "first")).Value;
        var r2 = (await client.CreateResponseAsync(ResponsesSdkSpecs.OpenAiModel, "second", r1.Id)).Value;
        Assert.Equal(r1.Id, r2.PreviousResponseId);
        using var branch = await gw.Http.PostAsync("v1/responses", Json(
            $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"branch","previous_response_id":"{{r1.Id}}"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, branch.StatusCode);
        var error = Error(await branch.Content.ReadAsStringAsync());
        Assert.Equal("previous_response_not_latest", error.GetProperty("code").GetString());
        Assert.Equal("previous_response_id", error.GetProperty("param").GetString());
        Assert.Equal(3, gw.Fake.RequestCount); // the refused branch never went upstream
    }

    [Fact]
    public async Task Should_cancel_a_running_stored_response_and_end_its_stream_failed()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = new FakeResponse { Text = "first second third", StallAfterChunks = 1 };

        using var request = gw.Post("v1/responses", $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"go","stream":true}""");
        using var response = await gw.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new System.Text.StringBuilder();
        string? id = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            seen.Append(line).Append('\n');
            if (id is null && line.StartsWith("data: ", StringComparison.Ordinal))
                id = JsonDocument.Parse(line[6..]).RootElement.GetProperty("response").GetProperty("id").GetString();
            if (line == "event: response.output_text.delta") break;
        }
        Assert.NotNull(id);

        using (var cancel = await gw.Http.PostAsync($"v1/responses/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("cancelled", JsonDocument.Parse(await cancel.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
        var events = ResponseEventGrammar.Validate(seen + await reader.ReadToEndAsync());

        Assert.Equal("aborted", events[^2].Data.GetProperty("code").GetString()); // the session run abort's code
        Assert.Equal("response.failed", events[^1].Type);
        var read = (await new ResponsesSdk(gw).Client.GetResponseAsync(id)).Value;
        Assert.Equal(ResponseStatus.Cancelled, read.Status);
        using var again = await gw.Http.PostAsync($"v1/responses/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("response_not_running", Error(await again.Content.ReadAsStringAsync()).GetProperty("code").GetString());
    }

    internal static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    internal static JsonElement Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").Clone();
}
