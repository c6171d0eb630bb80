using Durar.Testing;

namespace Durar.Persistence.Tests;

/// <summary>
/// The Durar.Persistence package's public types are the approved list in <c>PublicApi/Durar.Persistence.approved.txt</c>:
/// the wiring (<see cref="DurarPersistence"/>, <see cref="PersistenceOptions"/>); the serializers stay internal. See
/// <see cref="PublicApi"/> for how to approve an intended change.
/// </summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void Should_expose_exactly_the_approved_public_types()
    {
        var difference = PublicApi.Verify(typeof(DurarPersistence).Assembly);

        Assert.True(difference is null, difference);
    }
}
