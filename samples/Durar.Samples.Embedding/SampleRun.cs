using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durar.Samples.Embedding;

/// <summary>
/// What the sample does when run: start the application's host, ask one question through <c>IChatClient</c>, hold a
/// two-turn conversation in a session, print the answers and the application's notes, and stop. Its test runs exactly
/// this against the fake provider.
/// </summary>
public static class SampleRun
{
    /// <summary>The session the sample talks in (any stable key: a user id, a ticket number).</summary>
    public const string SessionKey = "sample-conversation";

    /// <summary>Runs the sample; 0 when every answer came, 1 with the reason on <paramref name="output"/> otherwise.</summary>
    public static async Task<int> RunAsync(string configPath, string dataDir, TextWriter output, CancellationToken ct = default)
    {
        IHost host;
        try
        {
            host = SampleHost.Build(DurarSettingsLoader.LoadFile(configPath), dataDir);
        }
        catch (DurarConfigException e)
        {
            await output.WriteLineAsync($"configuration error at {e.Message}");
            return 1;
        }

        using (host)
        {
            await host.StartAsync(ct);
            try
            {
                var assistant = host.Services.GetRequiredService<Assistant>();
                await output.WriteLineAsync("chat:    " + await assistant.AskAsync("Say hi in five words.", ct));
                await output.WriteLineAsync("session: " + await assistant.SendSessionTurnAsync(SessionKey, "My name is Ada.", ct));
                await output.WriteLineAsync("session: " + await assistant.SendSessionTurnAsync(SessionKey, "What is my name?", ct));
                var notes = await assistant.NotesAsync(ct);
                await output.WriteLineAsync($"notebook: {notes.Count} notes ({string.Join(", ", notes.Select(n => n.Source))})");
                return 0;
            }
            catch (Exception e) when (e is DurarRunException or InvalidOperationException)
            {
                await output.WriteLineAsync("failed: " + e.Message);
                return 1;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }
    }
}
