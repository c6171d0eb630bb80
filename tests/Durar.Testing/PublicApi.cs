using System.Reflection;
using System.Runtime.CompilerServices;

namespace Durar.Testing;

/// <summary>
/// The approved public surface of a packaged assembly (Durar.Actors, Durar.Persistence): every exported type, one line
/// each, compared with a checked-in list. It exists so a type becomes public, or stops being public, only on purpose: the
/// SDK's package validation guards a released version's API only once a baseline package exists, and the packages have
/// none yet. When a change is intended, the failing spec has written the new list beside the approved one
/// (<c>*.received.txt</c>): copy it over, or run the spec once with <c>DURAR_APPROVE_PUBLIC_API=1</c>, and commit the list.
/// </summary>
public static class PublicApi
{
    /// <summary>The environment variable that makes <see cref="Verify"/> write the current list as the approved one.</summary>
    public const string ApproveVariable = "DURAR_APPROVE_PUBLIC_API";

    /// <summary>Every exported type of <paramref name="assembly"/> as <c>kind Namespace.Type</c> (nested types as <c>Outer.Inner</c>), sorted.</summary>
    public static IReadOnlyList<string> Describe(Assembly assembly) =>
        [.. assembly.GetExportedTypes().Select(Line).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Compares <paramref name="assembly"/>'s public types with <c>PublicApi/&lt;assembly&gt;.approved.txt</c> in the calling
    /// spec's folder. Returns null when they match; otherwise the message to fail with (what was added and removed), after
    /// writing the current list to <c>*.received.txt</c> next to the approved file.
    /// </summary>
    public static string? Verify(Assembly assembly, [CallerFilePath] string specFile = "")
    {
        var name = assembly.GetName().Name!;
        var folder = Path.Combine(Path.GetDirectoryName(specFile)!, "PublicApi");
        var approvedPath = Path.Combine(folder, name + ".approved.txt");
        var receivedPath = Path.Combine(folder, name + ".received.txt");
        var current = Describe(assembly);
        var text = string.Join('\n', current) + "\n";

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(approvedPath, text);
        }
        var approved = File.Exists(approvedPath)
            ? File.ReadAllLines(approvedPath).Where(l => l.Length > 0).ToList()
            : [];
        var added = current.Except(approved, StringComparer.Ordinal).ToList();
        var removed = approved.Except(current, StringComparer.Ordinal).ToList();
        if (added.Count == 0 && removed.Count == 0)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return null;
        }

        File.WriteAllText(receivedPath, text);
        return $"The public types of {name} differ from {approvedPath}.\n" +
               string.Concat(added.Select(l => $"  + {l}\n")) +
               string.Concat(removed.Select(l => $"  - {l}\n")) +
               $"If the change is intended, copy {receivedPath} over the approved file (or run this spec with {ApproveVariable}=1) " +
               "and commit it; otherwise make the type internal again (tests reach internals through InternalsVisibleTo).";
    }

    private static string Line(Type type) => Kind(type) + " " + (type.FullName ?? type.Name).Replace('+', '.');

    private static string Kind(Type type)
    {
        if (type.IsEnum) return "enum";
        if (type.IsInterface) return "interface";
        if (typeof(Delegate).IsAssignableFrom(type)) return "delegate";
        var record = IsRecord(type) ? "record " : "";
        if (type.IsValueType) return (type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly " : "") + record + "struct";
        if (type is { IsAbstract: true, IsSealed: true }) return "static class";
        return (type.IsAbstract ? "abstract " : type.IsSealed ? "sealed " : "") + (record.Length > 0 ? "record" : "class");
    }

    /// <summary>Records have a compiler-generated <c>PrintMembers</c> (classes and structs alike).</summary>
    private static bool IsRecord(Type type) =>
        type.GetMethod("PrintMembers", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(System.Text.StringBuilder)]) is { } m
        && m.IsDefined(typeof(CompilerGeneratedAttribute));
}
