using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>agents.defaults.imageModel</c>: none by default (from <c>durar.conf</c>), a ref or alias as a string,
/// OpenClaw's <c>{ primary, fallbacks }</c> form, and malformed values failing with their key path.
/// </summary>
public sealed class ImageModelSettingsSpecs
{
    private static ImageModelSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).ImageModel;

    [Fact]
    public void Should_default_to_no_image_model()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).ImageModel;

        Assert.Null(settings.Primary);
        Assert.Empty(settings.Fallbacks);
        Assert.Equal(settings.Primary, ImageModelSettings.Default.Primary);
    }

    [Theory]
    [InlineData("openai/gpt-4.1-mini")]
    [InlineData("Vision")]
    public void Should_read_a_model_ref_or_alias(string model) =>
        Assert.Equal(model, Load($"agents.defaults.imageModel = \"{model}\"").Primary);

    [Fact]
    public void Should_read_the_primary_and_fallbacks_form()
    {
        var settings = Load("""agents.defaults.imageModel { primary = "openai/gpt-4.1", fallbacks = ["anthropic/claude-sonnet-4-5"] }""");

        Assert.Equal("openai/gpt-4.1", settings.Primary);
        Assert.Equal(["anthropic/claude-sonnet-4-5"], settings.Fallbacks.ToArray());
    }

    [Theory]
    [InlineData("agents.defaults.imageModel = \"openai/\"", "agents.defaults.imageModel")]
    [InlineData("agents.defaults.imageModel { primary = \"a b/c\" }", "agents.defaults.imageModel.primary")]
    [InlineData("agents.defaults.imageModel { primary = \"openai/gpt-4.1\", fallbacks = [\"/x\"] }", "agents.defaults.imageModel.fallbacks[0]")]
    [InlineData("agents.defaults.imageModel { primary = \"openai/gpt-4.1\", model = \"x\" }", "agents.defaults.imageModel.model")]
    [InlineData("agents.defaults.imageModel { fallbacks = [\"openai/gpt-4.1\"] }", "agents.defaults.imageModel.primary")]
    public void Should_name_the_path_of_a_malformed_value(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load(hocon));

        Assert.Equal(path, e.Path);
    }
}
