using Durar.Actors.Hosting;
using Durar.Testing;

namespace Durar.Actors.Tests;

/// <summary>
/// The Durar.Actors package's public types are the approved list in <c>PublicApi/Durar.Actors.approved.txt</c>: what an
/// embedder uses (hosting, settings, the chat model, the session protocol). A type made public by accident, or an
/// embedder's type made internal, fails here (see <see cref="PublicApi"/> for how to approve an intended change).
/// </summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void Should_expose_exactly_the_approved_public_types()
    {
        var difference = PublicApi.Verify(typeof(DurarHostingExtensions).Assembly);

        Assert.True(difference is null, difference);
    }

    [Fact]
    public void Should_keep_the_engine_internal()
    {
        var types = PublicApi.Describe(typeof(DurarHostingExtensions).Assembly);

        // The embedding entry points are there, the actors and the run are not.
        Assert.Contains("static class Durar.Actors.Hosting.DurarHostingExtensions", types);
        Assert.Contains("sealed record Durar.Actors.Sessions.Messages.SessionCommands.SendMessage", types);
        Assert.DoesNotContain(types, t => t.EndsWith("Actor", StringComparison.Ordinal));
        Assert.DoesNotContain(types, t => t.Contains(".Routing.ChatRunner", StringComparison.Ordinal));
        Assert.DoesNotContain(types, t => t.Contains(".Routing.RunLoop", StringComparison.Ordinal));
        Assert.DoesNotContain(types, t => t.Contains(".Routing.EmbeddingRunner", StringComparison.Ordinal));
    }
}
