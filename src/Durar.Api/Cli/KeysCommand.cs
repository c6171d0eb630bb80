using System.CommandLine;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary><c>durar keys reset &lt;id&gt;</c>: clears a key's cooldown or disable (<c>POST /v1/admin/keys/{id}/reset</c>).</summary>
internal static class KeysCommand
{
    public static Command Create(CliConsole io)
    {
        var id = new Argument<string>("id") { Description = "The key id, as durar status shows it (provider:key-xxxxxxxx or an auth profile id)" };
        var reset = ClientCommand.Create("reset", "Make a cooling or disabled key ready again.", io, async c =>
        {
            var key = c.Parse.GetValue(id)!;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Post, $"v1/admin/keys/{ClientCommand.Segment(key)}/reset", null, c.Cancel);
            if (c.Json) Json(c.Io, doc.RootElement);
            else c.Io.Ansi.Write(new Spectre.Console.Text($"Key {key} is {doc.RootElement.GetProperty("state").GetString()}.\n"));
            return ExitCodes.Ok;
        }, id);
        return new Command("keys", "Provider keys (durar status lists them).") { reset };
    }
}
