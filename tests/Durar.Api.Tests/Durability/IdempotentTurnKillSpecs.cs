using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Durability;

/// <summary>
/// Issue 18: a session turn sent twice at once with one <c>Idempotency-Key</c> runs once, and a third send of the key
/// after the gateway process was SIGKILLed and restarted on the same SQLite directory still gets the first answer: the key
/// is journaled with the turn, not held in memory.
/// </summary>
public sealed class IdempotentTurnKillSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private static string Config(string fakeOpenAi) => $$"""
        models { providers { idem { baseUrl = "{{fakeOpenAi}}", apiKey = "sk-idem-kill-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "idem/m" } } }
        """;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(GatewayProcess gateway, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/sessions/idem-kill/messages") { Content = new StringContent("""{"content":"book the flight"}""") };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await gateway.Http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string Content(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task Should_run_a_turn_once_for_a_repeated_idempotency_key_also_after_a_sigkill_and_restart()
    {
        var log = new GatewayLog();
        var root = Directory.CreateTempSubdirectory("durar-idem-kill-").FullName;
        var dataDir = Path.Combine(root, "data");
        var configPath = Path.Combine(root, "durar.conf");
        GatewayProcess? gateway = null;
        await using var fake = await FakeProvider.StartAsync();
        try
        {
            await File.WriteAllTextAsync(configPath, Config(fake.OpenAiBaseUrl));
            fake.Default = new FakeResponse { Text = "booked once", ChunkDelay = TimeSpan.FromMilliseconds(100), PromptTokens = 7, CompletionTokens = 2 };
            gateway = await GatewayProcess.StartAsync("gw1", configPath, dataDir, root, log, ReadyTimeout);

            var both = await Task.WhenAll(SendAsync(gateway, "trip-1"), SendAsync(gateway, "trip-1"));
            Assert.All(both, b => Assert.Equal(HttpStatusCode.OK, b.Status));
            Assert.Equal(("booked once", "booked once"), (Content(both[0].Body), Content(both[1].Body)));
            Assert.Equal(both[0].Body.GetProperty("id").GetString(), both[1].Body.GetProperty("id").GetString());
            Assert.Equal(1, fake.RequestCount);

            await gateway.KillAsync();
            await gateway.DisposeAsync();
            gateway = await GatewayProcess.StartAsync("gw2", configPath, dataDir, root, log, ReadyTimeout);

            var (status, again) = await SendAsync(gateway, "trip-1");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(("booked once", both[0].Body.GetProperty("id").GetString()), (Content(again), again.GetProperty("id").GetString()));
            Assert.Equal(1, fake.RequestCount);
            var view = JsonDocument.Parse(await gateway.Http.GetStringAsync("v1/sessions/idem-kill")).RootElement;
            Assert.Equal(2, view.GetProperty("transcriptLength").GetInt32());
        }
        finally
        {
            if (gateway is not null) await gateway.DisposeAsync();
            foreach (var line in log.Lines.TakeLast(300)) output.WriteLine(line);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a file still held by the killed process: the temp directory is cleaned up later
            }
        }
    }
}
