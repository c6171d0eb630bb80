namespace Durar.Actors.Hosting;

/// <summary>
/// The data directory holds the journal (transcripts, usage) and the auth profiles' ciphertext and, without
/// <c>gateway.secrets.key</c>, the key ring that decrypts them: nobody but the gateway's own user may read it. Directories
/// are created (or tightened) to 0700 and files to 0600, whatever the process's umask. It exists so every place that
/// creates something in the data directory (the SQLite journal and its WAL files, the Data Protection key ring) applies
/// the same rule. A no-op on Windows, where ACLs inherited from the user's profile already keep others out.
/// </summary>
internal static class OwnerOnly
{
    /// <summary>rwx for the owner only.</summary>
    public const UnixFileMode DirectoryBits = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner only.</summary>
    public const UnixFileMode FileBits = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> (and missing parents of it) as 0700, or takes group and other access away from it.</summary>
    public static void Directory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }
        if (!System.IO.Directory.Exists(path)) System.IO.Directory.CreateDirectory(path, DirectoryBits);
        else Tighten(path);
    }

    /// <summary>Creates <paramref name="path"/> empty as 0600 when missing, or takes group and other access away from it.</summary>
    public static void File(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!System.IO.File.Exists(path))
        {
            try
            {
                using var _ = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileBits,
                });
                return;
            }
            catch (IOException) when (System.IO.File.Exists(path))
            {
                // Created by someone else in the meantime: tighten it below.
            }
        }
        Tighten(path);
    }

    /// <summary>Takes group and other access away from an existing file or directory (a no-op when it is missing).</summary>
    public static void Tighten(string path)
    {
        if (OperatingSystem.IsWindows() || !Path.Exists(path)) return;
        var mode = System.IO.File.GetUnixFileMode(path);
        if ((mode & GroupOrOther) != 0) System.IO.File.SetUnixFileMode(path, mode & ~GroupOrOther);
    }
}
