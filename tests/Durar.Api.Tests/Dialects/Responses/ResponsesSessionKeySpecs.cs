#pragma warning disable OPENAI001 // parts of the Responses client are marked experimental
using System.ClientModel;
using System.Net;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Responses;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// <c>x-durar-session-key</c> on <c>POST /v1/responses</c>: the response is a turn of the named session (its transcript is
/// the history, as on chat completions and messages), its id continues that session with <c>previous_response_id</c>, and a
/// header naming another session than the response id is a 400 naming both. <c>GET /v1/responses/{id}/input_items</c> lists
/// a stored turn's input in OpenAI's list shape.
/// </summary>
public sealed class ResponsesSessionKeySpecs
{
    private static HttpRequestMessage Post(GatewayHarness gw, string body, string? sessionKey)
    {
        var request = gw.Post("v1/responses", body);
        if (sessionKey is not null) request.Headers.Add("x-durar-session-key", sessionKey);
        return request;
    }

    [Fact]
    public async Task Should_run_a_response_as_a_turn_of_the_session_the_header_names()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Enqueue(FakeResponse.Ok("Hello Ada"));
        using (var first = await gw.Http.SendAsync(gw.Post("v1/sessions/rs-ada/messages", """{"content":"My name is Ada"}""")))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        gw.Fake.Enqueue(FakeResponse.Ok("You are Ada"));
        using var response = await gw.Http.SendAsync(Post(gw, $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"Who am I?"}""", "rs-ada"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("rs-ada", response.Headers.GetValues("x-durar-session-key").Single());
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("resp_", id);
        var messages = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength()); // the session's first turn and reply are the history
        Assert.Contains("My name is Ada", messages[0].GetRawText());
        Assert.Contains("Hello Ada", messages[1].GetRawText());
        Assert.Contains("Who am I?", messages[2].GetRawText());
        var transcript = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/rs-ada/messages")).RootElement;
        Assert.Equal(4, transcript.GetProperty("total").GetInt32());

        // The id names the session: the SDK reads it back and continues it without the header.
        var client = new ResponsesSdk(gw).Client;
        Assert.Equal("You are Ada", (await client.GetResponseAsync(id)).Value.GetOutputText());
        gw.Fake.Enqueue(FakeResponse.Ok("Still Ada"));
        var next = (await client.CreateResponseAsync(ResponsesSdkSpecs.OpenAiModel, "And now?", id)).Value;
        Assert.Equal(id, next.PreviousResponseId);
        Assert.Equal(5, gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages").GetArrayLength());
        transcript = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/rs-ada/messages")).RootElement;
        Assert.Equal(6, transcript.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Should_accept_the_header_with_a_previous_response_of_the_same_session_and_refuse_another_one()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.Ok("ok");
        string Body(string input, string? previous) => previous is null
            ? $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"{{input}}"}"""
            : $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"{{input}}","previous_response_id":"{{previous}}"}""";
        async Task<string> IdOf(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        using var a1 = await gw.Http.SendAsync(Post(gw, Body("a1", null), "rs-a"));
        var a1Id = await IdOf(a1);
        using var a2 = await gw.Http.SendAsync(Post(gw, Body("a2", a1Id), "rs-a"));
        Assert.Equal(HttpStatusCode.OK, a2.StatusCode);
        using var other = await gw.Http.SendAsync(Post(gw, Body("b1", null), null)); // a conversation of its own
        var otherId = await IdOf(other);
        var before = gw.Fake.RequestCount;

        using var mismatch = await gw.Http.SendAsync(Post(gw, Body("x", otherId), "rs-a"));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        var error = ResponsesStateSpecs.Error(await mismatch.Content.ReadAsStringAsync());
        Assert.Equal("session_key_mismatch", error.GetProperty("code").GetString());
        Assert.Equal("previous_response_id", error.GetProperty("param").GetString());
        Assert.Contains("x-durar-session-key", error.GetProperty("message").GetString());
        Assert.Contains(otherId, error.GetProperty("message").GetString());

        using var stateless = await gw.Http.SendAsync(Post(gw,
            $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"x","store":false}""", "rs-a"));
        Assert.Equal(HttpStatusCode.BadRequest, stateless.StatusCode);
        Assert.Equal("store", ResponsesStateSpecs.Error(await stateless.Content.ReadAsStringAsync()).GetProperty("param").GetString());

        using var invalid = await gw.Http.SendAsync(Post(gw, Body("x", null), "-bad key"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("invalid_session_key", ResponsesStateSpecs.Error(await invalid.Content.ReadAsStringAsync()).GetProperty("code").GetString());
        Assert.Equal(before, gw.Fake.RequestCount); // nothing refused went upstream
    }

    [Fact]
    public async Task Should_list_a_stored_responses_input_items_in_openais_list_shape_with_paging()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.Ok("seen");
        using var created = await gw.Http.SendAsync(gw.Post("v1/responses", $$"""
            {"model":"{{ResponsesSdkSpecs.OpenAiModel}}","instructions":"Be brief.","input":[
              {"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://example.com/a.png","detail":"low"}]},
              {"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{\"q\":1}"},
              {"type":"function_call_output","call_id":"call_1","output":"found"},
              {"role":"user","content":"and then?"}]}
            """));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var asc = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{id}/input_items?order=asc")).RootElement;
        Assert.Equal("list", asc.GetProperty("object").GetString());
        var data = asc.GetProperty("data");
        Assert.Equal(["message", "function_call", "function_call_output", "message"], data.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal("input_image", data[0].GetProperty("content")[1].GetProperty("type").GetString());
        Assert.Equal("https://example.com/a.png", data[0].GetProperty("content")[1].GetProperty("image_url").GetString());
        Assert.Equal("lookup", data[1].GetProperty("name").GetString());
        Assert.Equal("found", data[2].GetProperty("output").GetString());
        Assert.Equal("and then?", data[3].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(data[0].GetProperty("id").GetString(), asc.GetProperty("first_id").GetString());
        Assert.Equal(data[3].GetProperty("id").GetString(), asc.GetProperty("last_id").GetString());
        Assert.False(asc.GetProperty("has_more").GetBoolean());
        Assert.Equal(4, data.EnumerateArray().Select(i => i.GetProperty("id").GetString()).Distinct().Count());

        // desc (OpenAI's default) pages backwards from the last item.
        var page1 = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{id}/input_items?limit=3")).RootElement;
        Assert.True(page1.GetProperty("has_more").GetBoolean());
        Assert.Equal("and then?", page1.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var page2 = JsonDocument.Parse(await gw.Http.GetStringAsync(
            $"v1/responses/{id}/input_items?limit=3&after={page1.GetProperty("last_id").GetString()}")).RootElement;
        Assert.False(page2.GetProperty("has_more").GetBoolean());
        Assert.Equal(data[0].GetProperty("id").GetString(), Assert.Single(page2.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());

        // The official SDK pages through the same list.
        var items = new List<ResponseItem>();
        await foreach (var item in new ResponsesSdk(gw).Client.GetResponseInputItemsAsync(new ResponseItemCollectionOptions(id) { PageSizeLimit = 2 }))
            items.Add(item);
        Assert.Equal(4, items.Count);
        Assert.Equal("and then?", Assert.Single(Assert.IsAssignableFrom<MessageResponseItem>(items[0]).Content).Text);
        Assert.IsAssignableFrom<FunctionCallOutputResponseItem>(items[1]);

        using (var bad = await gw.Http.GetAsync($"v1/responses/{id}/input_items?limit=0"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("limit", ResponsesStateSpecs.Error(await bad.Content.ReadAsStringAsync()).GetProperty("param").GetString());
        }
        using (var unknown = await gw.Http.GetAsync($"v1/responses/{id}/input_items?after=msg_nope"))
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using (var missing = await gw.Http.GetAsync("v1/responses/resp_0123456789abcdef0123456789abcdef_1/input_items"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in new ResponsesSdk(gw).Client.GetResponseInputItemsAsync("resp_nope")) { }
        });
    }

    [Fact]
    public async Task Should_list_a_plain_session_turn_as_one_user_message()
    {
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.Ok("ok");
        using (await gw.Http.SendAsync(gw.Post("v1/sessions/rs-plain/messages", """{"content":"hello plain"}"""))) { }
        using var response = await gw.Http.SendAsync(Post(gw, $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"second"}""", "rs-plain"));
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        // The first turn (seq 1 of the session) came in as a plain session message: its id is derivable and lists its text.
        var firstId = id[..id.LastIndexOf('_')] + "_1";

        var list = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{firstId}/input_items")).RootElement;
        var item = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("user", item.GetProperty("role").GetString());
        Assert.Equal("hello plain", item.GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Should_read_back_a_response_deep_in_a_long_session()
    {
        // 260 turns before it: the response's turn sits past the first 500 transcript entries (one page of the sessions API).
        await using var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config);
        gw.Fake.Default = FakeResponse.Ok("ok");
        for (var i = 0; i < 260; i++)
        {
            using var turn = await gw.Http.SendAsync(gw.Post("v1/sessions/rs-long/messages", $$"""{"content":"turn {{i}}"}"""));
            Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
        }
        gw.Fake.Enqueue(FakeResponse.Ok("the deep answer"));
        using var response = await gw.Http.SendAsync(Post(gw, $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"deep question"}""", "rs-long"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var read = (await new ResponsesSdk(gw).Client.GetResponseAsync(id)).Value;
        Assert.Equal("the deep answer", read.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, read.Status);
        Assert.NotNull(read.PreviousResponseId); // the turn before it, found on the page before
        var items = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{id}/input_items")).RootElement;
        Assert.Contains("deep question", items.GetProperty("data")[0].GetRawText(), StringComparison.Ordinal);
    }
}
