using System.Runtime.CompilerServices;

namespace Durar.Api.Tests;

/// <summary>Process-wide test set-up that must run before any spec: see <see cref="Durar.Testing.TestThreadPool"/>.</summary>
internal static class TestAssemblySetup
{
    [ModuleInitializer]
    internal static void Initialize() => Durar.Testing.TestThreadPool.Ensure();
}
