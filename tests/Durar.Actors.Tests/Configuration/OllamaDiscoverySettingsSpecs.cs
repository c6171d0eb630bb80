using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.ollama</c>: the defaults file lists installed models every five minutes with ten seconds per listing, a user
/// file changes either, and a value that is not a positive duration stops start-up naming its key path.
/// </summary>
public sealed class OllamaDiscoverySettingsSpecs
{
    [Fact]
    public void Should_list_every_five_minutes_with_ten_seconds_per_listing_by_default()
    {
        Assert.Equal(new OllamaDiscoverySettings(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10)),
            OllamaDiscoverySettings.Read(DurarSettingsLoader.Defaults));
    }

    [Fact]
    public void Should_take_the_user_values()
    {
        var config = DurarSettingsLoader.FromText("gateway.ollama { discoveryInterval = 30s, discoveryTimeout = 2s }");

        Assert.Equal(new OllamaDiscoverySettings(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2)), OllamaDiscoverySettings.Read(config));
    }

    [Theory]
    [InlineData("gateway.ollama.discoveryInterval = 0s", "gateway.ollama.discoveryInterval")]
    [InlineData("gateway.ollama.discoveryTimeout = -1s", "gateway.ollama.discoveryTimeout")]
    public void Should_refuse_a_duration_that_is_not_positive_naming_its_key_path(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(hocon)));

        Assert.Equal(path, e.Path);
    }
}
