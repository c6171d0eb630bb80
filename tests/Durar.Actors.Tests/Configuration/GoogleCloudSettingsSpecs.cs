using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.googleCloud</c>: empty in the defaults file, each value from the config or else the environment Google's tools
/// read (the config's <c>env</c> block first), and a node that configures a Google Cloud provider without what it needs does not
/// start, naming the key.
/// </summary>
public sealed class GoogleCloudSettingsSpecs
{
    private const string NoEnv = """env { GOOGLE_CLOUD_PROJECT = "", GOOGLE_CLOUD_PROJECT_ID = "", GOOGLE_CLOUD_LOCATION = "", GOOGLE_APPLICATION_CREDENTIALS = "" }""";

    private static GoogleCloudSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).GoogleCloud;

    [Fact]
    public void Should_carry_every_key_in_durar_conf_empty()
    {
        var config = DurarSettingsLoader.Defaults;

        Assert.Equal(["", "", ""], new[] { "project", "location", "credentialsFile" }.Select(k => config.GetString($"{GoogleCloudSettings.Section}.{k}")));
    }

    [Fact]
    public void Should_read_the_configured_values()
    {
        var settings = Load("""gateway.googleCloud { project = "p-1", location = "europe-west4", credentialsFile = "/etc/sa.json" }""" + "\n" + NoEnv);

        Assert.Equal(new GoogleCloudSettings("p-1", "europe-west4", "/etc/sa.json"), settings);
    }

    [Fact]
    public void Should_fall_back_to_the_environment_google_s_tools_read()
    {
        var settings = Load("""env { GOOGLE_CLOUD_PROJECT = "", GOOGLE_CLOUD_PROJECT_ID = "p-env", GOOGLE_CLOUD_LOCATION = "us-east5", GOOGLE_APPLICATION_CREDENTIALS = "/k.json" }""");

        Assert.Equal(new GoogleCloudSettings("p-env", "us-east5", "/k.json"), settings);
    }

    [Fact]
    public void Should_prefer_the_config_to_the_environment()
    {
        var settings = Load("""gateway.googleCloud.location = "asia-northeast1" """ + "\n" + """env { GOOGLE_CLOUD_LOCATION = "us-east5" }""");

        Assert.Equal("asia-northeast1", settings.Location);
    }

    [Fact]
    public void Should_stop_start_up_naming_the_location_of_a_configured_vertex_provider()
    {
        var error = Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(
            """models.providers."google-vertex".models = [{ id = "gemini-x" }]""" + "\n" + """gateway.googleCloud.project = "p-1" """ + "\n" + NoEnv)));

        Assert.Equal("gateway.googleCloud.location", error.Path);
        Assert.Contains("GOOGLE_CLOUD_LOCATION", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_start_without_google_cloud_settings_when_no_configured_provider_needs_them()
    {
        var services = new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(NoEnv));

        Assert.NotEmpty(services);
    }
}
