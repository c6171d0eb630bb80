using System.Net;
using Durar.Actors.AuthProfiles;

namespace Durar.Api.Tests.Hardening;

/// <summary>
/// Files at rest (issue 13): the data directory, the SQLite journal with its WAL files and the Data Protection key ring
/// are readable by the gateway's own user only (0700 directories, 0600 files), whatever the umask, and a data directory
/// left open by an earlier version or by hand is tightened at start.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryModeSpecs
{
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    [Fact]
    public async Task Should_create_the_data_directory_journal_and_key_ring_owner_only()
    {
        var root = Directory.CreateTempSubdirectory("durar-modes-").FullName;
        var dataDir = Path.Combine(root, "nested", "data"); // missing, parents included: the gateway creates it
        try
        {
            await using (var gw = await GatewayHarness.StartAsync(dataDir: dataDir))
            {
                using var turn = await gw.Http.SendAsync(gw.Post("v1/sessions/modes/messages", """{"content":"hi"}"""));
                Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
                AssertOwnerOnly(dataDir, isDirectory: true);
                AssertOwnerOnly(Path.Combine(dataDir, "durar.db"), isDirectory: false);
                AssertOwnerOnly(Path.Combine(dataDir, "durar.db-wal"), isDirectory: false);
                AssertOwnerOnly(Path.Combine(dataDir, DataProtectionSecretProtector.KeysFolder), isDirectory: true);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Should_tighten_a_data_directory_that_others_can_read()
    {
        var dataDir = Directory.CreateTempSubdirectory("durar-loose-").FullName;
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(dataDir, open | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var db = Path.Combine(dataDir, "durar.db");
        await File.WriteAllBytesAsync(db, []);
        File.SetUnixFileMode(db, open);
        try
        {
            await using var gw = await GatewayHarness.StartAsync(dataDir: dataDir);

            AssertOwnerOnly(dataDir, isDirectory: true);
            AssertOwnerOnly(db, isDirectory: false);
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true); // the harness removes it when it stops
        }
    }

    private static void AssertOwnerOnly(string path, bool isDirectory)
    {
        Assert.True(isDirectory ? Directory.Exists(path) : File.Exists(path), $"{path} should exist");
        var mode = File.GetUnixFileMode(path);
        Assert.True((mode & GroupOrOther) == 0, $"{path} is {Convert.ToString((int)mode, 8)}: group and others must have no access");
        Assert.True(mode.HasFlag(UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{path} is {Convert.ToString((int)mode, 8)}");
    }
}
