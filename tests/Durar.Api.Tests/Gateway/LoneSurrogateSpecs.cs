using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Api.Apis;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// Issue 13, "exceptions other than JsonException from client bodies end in a 500": a <c>\u</c> escape of a lone UTF-16
/// surrogate is well-formed JSON to the parser, and reading that string throws, possibly only in the transport that
/// forwards a field it never parsed (found by ClientBodyFuzzSpecs' random cases: case 1936247226). The body is refused with
/// a 400 as it is read; a surrogate pair escaped as two escapes is text like any other.
/// </summary>
public sealed class LoneSurrogateSpecs
{
    [Theory]
    [InlineData("""{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}],"metadata":{"k":"\ud800"}}""")]
    [InlineData("""{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}],"x_\udc00":1}""")]
    [InlineData("""{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","description":"\uD83D\n"}}]}""")]
    public async Task Should_refuse_a_body_that_escapes_a_lone_surrogate_with_a_400_wherever_it_is(string body)
    {
        await using var gw = await GatewayHarness.StartAsync();

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", body));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_json", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("lone UTF-16 surrogate", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_forward_an_escaped_surrogate_pair_as_text()
    {
        await using var gw = await GatewayHarness.StartAsync();

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"smile \ud83d\ude00"}],"metadata":{"k":"\\ud800 is text"}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sent = JsonDocument.Parse(gw.Fake.Requests.Single().Body);
        Assert.Equal("smile \U0001F600", sent.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("\"\\ud800\"", true)]
    [InlineData("\"\\udfff\"", true)]
    [InlineData("\"\\ud83d\\ude00\"", false)]
    [InlineData("\"\\\\ud800\"", false)]
    [InlineData("\"\\ud83dx\"", true)]
    [InlineData("\"\\ud83d\\n\"", true)]
    [InlineData("\"\\u0041\\u00e9\"", false)]
    public void Should_find_a_lone_surrogate_escape_however_the_body_is_cut_into_reads(string json, bool lone)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        for (var size = 1; size <= bytes.Length; size++)
        {
            var escapes = new SurrogateEscapes();
            var found = false;
            for (var at = 0; at < bytes.Length && !found; at += size)
            {
                var piece = bytes.AsSpan(at, Math.Min(size, bytes.Length - at));
                found = escapes.FindLone(piece, at + piece.Length == bytes.Length) is not null;
            }
            Assert.True(lone == found, $"{json} in reads of {size} bytes: found {found}");
        }
    }
}
