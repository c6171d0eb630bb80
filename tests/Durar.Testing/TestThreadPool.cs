
namespace Durar.Testing;

/// <summary>
/// Gives the test processes a thread pool that does not starve. TestKit's synchronous expectations (<c>ExpectMsg</c>,
/// <c>AwaitAssert</c>) block a pool thread each while actors need pool threads to run, and xunit runs several spec classes
/// at once: on a 2-core machine the pool starts with 2 threads and grows by about one a second, so an actor's message
/// could wait seconds for a thread and a spec time out for no reason of its own. Each test assembly calls
/// <see cref="Ensure"/> from a module initializer.
/// </summary>
public static class TestThreadPool
{
    private const int MinThreads = 64;

    public static void Ensure()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, MinThreads), Math.Max(io, MinThreads));
    }
}
