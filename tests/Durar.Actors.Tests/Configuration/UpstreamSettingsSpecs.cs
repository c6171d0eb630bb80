using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Transports;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.upstream</c>: the defaults file carries every value, a user file overrides them one by one, the values reach
/// the upstream handler, and a bad value stops start-up naming its key path.
/// </summary>
public sealed class UpstreamSettingsSpecs
{
    private static DurarConfigException Fail(string hocon) =>
        Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(hocon)));

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Upstream;

        Assert.Equal(new UpstreamSettings(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1), 64 * 1024, 128L * 1024 * 1024, 8 * 1024 * 1024), settings);
        Assert.Equal(settings, UpstreamSettings.Defaults);
    }

    [Fact]
    public void Should_override_one_value_and_keep_the_others()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            "gateway.upstream { connectTimeout = 3s, maxErrorBodyBytes = 4096 }")).Upstream;

        Assert.Equal(UpstreamSettings.Defaults with { ConnectTimeout = TimeSpan.FromSeconds(3), MaxErrorBodyBytes = 4096 }, settings);
    }

    [Fact]
    public void Should_build_the_upstream_handler_from_the_settings()
    {
        var settings = new UpstreamSettings(TimeSpan.FromSeconds(4), TimeSpan.FromMinutes(7), TimeSpan.FromSeconds(45), 2048, 1 << 20, 1 << 20);

        using var handler = UpstreamHttp.CreateHandler(settings);

        Assert.Equal(TimeSpan.FromSeconds(4), handler.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(7), handler.PooledConnectionLifetime);
        Assert.Equal(TimeSpan.FromSeconds(45), handler.PooledConnectionIdleTimeout);
        Assert.False(handler.UseCookies);
        Assert.Equal(TimeSpan.Zero, handler.ResponseDrainTimeout);
    }

    [Fact]
    public void Should_register_the_configured_settings_with_the_host()
    {
        using var sp = new ServiceCollection()
            .AddDurarCore(DurarSettingsLoader.FromText("gateway.upstream.pooledConnectionIdleTimeout = 20s"))
            .BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(20), sp.GetRequiredService<DurarSettings>().Upstream.PooledConnectionIdleTimeout);
        Assert.NotNull(sp.GetRequiredService<TransportRegistry>().Find(ApiKinds.OpenAiCompletions));
    }

    [Theory]
    [InlineData("connectTimeout = 0s", "connectTimeout", "positive")]
    [InlineData("pooledConnectionLifetime = soon", "pooledConnectionLifetime", "duration")]
    [InlineData("pooledConnectionIdleTimeout = 0ms", "pooledConnectionIdleTimeout", "positive")]
    [InlineData("pooledConnectionIdleTimeout = -1s", "pooledConnectionIdleTimeout", "duration")]
    [InlineData("maxErrorBodyBytes = 100", "maxErrorBodyBytes", "between 1024 and")]
    [InlineData("maxErrorBodyBytes = 1073741824", "maxErrorBodyBytes", "between 1024 and")]
    [InlineData("maxErrorBodyBytes = lots", "maxErrorBodyBytes", "whole number")]
    [InlineData("maxResponseBytes = 1000", "maxResponseBytes", "between 65536 and")]
    [InlineData("maxResponseBytes = 8589934592", "maxResponseBytes", "between 65536 and")]
    [InlineData("maxLineBytes = 0", "maxLineBytes", "between 65536 and")]
    [InlineData("maxLineBytes = 2147483647", "maxLineBytes", "between 65536 and")]
    [InlineData("maxLineBytes = huge", "maxLineBytes", "whole number")]
    public void Should_name_the_path_of_a_bad_value(string setting, string key, string problem)
    {
        var e = Fail($"gateway.upstream {{ {setting} }}");

        Assert.Equal($"gateway.upstream.{key}", e.Path);
        Assert.Contains(problem, e.Problem);
    }
}
