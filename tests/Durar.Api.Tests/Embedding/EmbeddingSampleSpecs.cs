using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Sessions;
using Durar.Samples.Embedding;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>
/// The embedding sample (<c>samples/Durar.Samples.Embedding</c>) built and run against the fake provider, so it never rots:
/// an application's own Akka.Hosting actor system with Durar's actors in it, a question through <see cref="IChatClient"/>,
/// and a session conversation sent from application code. The sample's own <c>sample.conf</c> is used, with only the
/// provider's address and key pointed at the fake.
/// </summary>
public sealed class EmbeddingSampleSpecs : IAsyncLifetime
{
    /// <summary>A sample that stopped working fails within this, instead of waiting for an actor that never registers.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private FakeProvider _fake = null!;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("durar-sample-").FullName;
    private string _configPath = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeProvider.StartAsync();
        // The sample's file as shipped, then the two values that point it at the fake (later keys win in HOCON).
        var sample = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "sample.conf"));
        _configPath = Path.Combine(_dataDir, "sample.conf");
        await File.WriteAllTextAsync(_configPath, sample + $$"""

            models.providers.assistant { baseUrl = "{{_fake.OpenAiBaseUrl}}", apiKey = "sk-sample-1234" }
            """);
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Should_answer_the_question_and_hold_the_session_conversation_when_the_sample_runs()
    {
        var output = new StringWriter();
        using var limit = new CancellationTokenSource(Limit);

        var exit = await SampleRun.RunAsync(_configPath, _dataDir, output, limit.Token);

        Assert.True(exit == 0, output.ToString());
        Assert.Equal(
            [
                "chat:    Hello from fake: Say hi in five words.",
                "session: Hello from fake: My name is Ada.",
                "session: Hello from fake: What is my name?",
                $"notebook: 3 notes (chat, session {SampleRun.SessionKey}, session {SampleRun.SessionKey})",
            ],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Every call went to the provider the sample configures, with its model and key.
        Assert.Equal(3, _fake.Requests.Count);
        Assert.All(_fake.Requests, r => Assert.Equal(("openai", "llama3.3", "sk-sample-1234"), (r.Wire, r.Model, r.ApiKey)));
        // The second turn is a session turn: it carries the first turn and its reply from the journaled transcript.
        var messages = _fake.Requests[2].Json.RootElement.GetProperty("messages").EnumerateArray()
            .Select(m => m.GetProperty("role").GetString() + ": " + m.GetProperty("content").GetString()).ToList();
        Assert.Equal(["user: My name is Ada.", "assistant: Hello from fake: My name is Ada.", "user: What is my name?"], messages);
    }

    [Fact]
    public async Task Should_run_the_apps_actor_beside_durars_in_the_apps_own_actor_system()
    {
        using var limit = new CancellationTokenSource(Limit);
        using var host = SampleHost.Build(DurarSettingsLoader.LoadFile(_configPath), _dataDir);
        await host.StartAsync(limit.Token);
        try
        {
            var systems = host.Services.GetServices<ActorSystem>().ToList();
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var notebook = await registry.GetAsync<NotebookActor>(limit.Token);
            var providers = await registry.GetAsync<ProvidersRegistryKey>(limit.Token);
            var sessions = await registry.GetAsync<SessionRegionKey>(limit.Token);

            // One actor system, the application's: Durar started no second one.
            var system = Assert.Single(systems);
            Assert.Equal(SampleHost.SystemName, system.Name);
            Assert.Equal("/user/notebook", notebook.Path.ToStringWithoutAddress());
            Assert.Equal("/user/providers", providers.Path.ToStringWithoutAddress());
            Assert.Equal("/system/sharding/sessions", sessions.Path.ToStringWithoutAddress());
            Assert.All(new[] { notebook, providers, sessions }, a => Assert.Equal(system.Name, a.Path.Address.System));
            // The IChatClient in the application's container is Durar's.
            var chat = host.Services.GetRequiredService<IChatClient>();
            Assert.Equal("durar", chat.GetService<ChatClientMetadata>()!.ProviderName);
            Assert.Equal("Hello from fake: ping", (await chat.GetResponseAsync("ping", cancellationToken: limit.Token)).Text);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
