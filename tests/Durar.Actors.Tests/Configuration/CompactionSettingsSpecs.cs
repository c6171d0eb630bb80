using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>agents.defaults.compaction.model</c>: the default (the session's own model) loads from
/// <c>durar.conf</c>, a set ref or alias is read, and a malformed one fails naming its key path.
/// </summary>
public sealed class CompactionSettingsSpecs
{
    private static CompactionSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Compaction;

    [Fact]
    public void Should_default_to_the_session_model()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Compaction;

        Assert.Null(settings.Model);
        Assert.Equal(settings, CompactionSettings.Default);
    }

    [Theory]
    [InlineData("openai/gpt-4.1-mini")]
    [InlineData("Cheap")]
    public void Should_read_a_set_model(string model) =>
        Assert.Equal(model, Load($"agents.defaults.compaction.model = \"{model}\"").Model);

    [Theory]
    [InlineData("\"openai/\"")]
    [InlineData("\"/gpt\"")]
    [InlineData("\"a b/c\"")]
    public void Should_name_the_path_of_a_malformed_model(string value)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"agents.defaults.compaction.model = {value}"));

        Assert.Equal("agents.defaults.compaction.model", e.Path);
    }
}
