using System.ClientModel;
using System.Net.Http.Headers;
using Durar.Api.Extensions;
using Durar.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Durar.Api.Tests;

/// <summary>
/// A real gateway (Kestrel on 127.0.0.1, a free port, the production wiring from <see cref="GatewayHost"/>) in front of a
/// real fake provider. Each test builds the HOCON it needs; <c>{fake-openai}</c> and <c>{fake-anthropic}</c> in it are
/// replaced by the fake provider's base URLs, and <c>{fake-openai-native}</c> by <c>http://api.openai.com:PORT/v1</c>, whose
/// connections the gateway's upstream client makes to the fake: a provider there is native OpenAI by the production rule
/// (its host), not by a test switch.
/// </summary>
public sealed class GatewayHarness : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _hocon;
    private bool _keepFake;
    private bool _keepDataDir;

    private GatewayHarness(WebApplication app, FakeProvider fake, Uri baseUri, string dataDir, string hocon)
    {
        _app = app;
        _hocon = hocon;
        Fake = fake;
        BaseUri = baseUri;
        DataDir = dataDir;
        Http = new HttpClient(new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.Zero }) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public FakeProvider Fake { get; }
    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public string DataDir { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>Config with one OpenAI-wire provider "fakeoai" and one Anthropic-wire provider "fakeant" on the fake.</summary>
    public const string TwoFakeProviders = """
        models {
          providers {
            fakeoai { baseUrl = "{fake-openai}", apiKey = "sk-fake-openai-1234", api = "openai-completions", models = [{ id = "gpt-fake", input = ["text", "image"] }] }
            fakeant { baseUrl = "{fake-anthropic}", apiKey = "sk-ant-fake-5678", api = "anthropic-messages", models = [{ id = "claude-fake", input = ["text", "image"] }] }
          }
        }
        agents { defaults { model { primary = "fakeoai/gpt-fake" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    /// <summary>
    /// Akka's cluster ticks, shortened for tests and put before each test's own HOCON (which can still set them). Every gateway
    /// is a cluster, of one node here: with Akka's defaults (the first cluster tick after 1 s, leader actions and gossip every
    /// 1 s, a shard region registering every 2 s) a fresh gateway's first request waited about a second for its node to be up
    /// and its shard regions registered, and each stop about a second for the node to leave; at over 500 gateways per run that
    /// was minutes of waiting. Only the ticks' period changes: failure detection (heartbeats, acceptable pause) and every
    /// Durar setting keep their values, and the multi-process cluster specs (<c>ProcessCluster</c>, <c>GatewayProcess</c>)
    /// run with their own configuration.
    /// </summary>
    internal const string ClusterTicks = """
        akka.cluster { periodic-tasks-initial-delay = 50ms, gossip-interval = 200ms, leader-actions-interval = 100ms }
        akka.cluster.sharding.retry-interval = 200ms
        akka.cluster.singleton.hand-over-retry-interval = 200ms
        akka.cluster.singleton-proxy.singleton-identification-interval = 100ms

        """;

    /// <param name="configure">
    /// Called on the built gateway before it starts: a spec maps an endpoint of its own there when it needs a handler the
    /// gateway does not have (one that lingers after its answer), behind the gateway's real middleware.
    /// </param>
    public static async Task<GatewayHarness> StartAsync(string hocon = TwoFakeProviders, FakeProvider? fake = null, string? dataDir = null,
        Action<WebApplication>? configure = null)
    {
        fake ??= await FakeProvider.StartAsync();
        dataDir ??= Directory.CreateTempSubdirectory("durar-test-").FullName;
        var options = new GatewayOptions
        {
            Port = 0,
            DataDir = dataDir,
            ExtraHocon = ClusterTicks + hocon.Replace("{fake-openai}", fake.OpenAiBaseUrl).Replace("{fake-anthropic}", fake.AnthropicBaseUrl)
                .Replace("{fake-openai-native}", $"http://{NativeOpenAiHost}:{fake.BaseUri.Port}/v1"),
            ConfigureServices = hocon.Contains("{fake-openai-native}", StringComparison.Ordinal) ? ConnectNativeHostToFake : null,
        };
        var app = GatewayHost.Build(options);
        configure?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHarness(app, fake, new Uri(address.Replace("[::]", "127.0.0.1") + "/"), dataDir, hocon);
    }

    private const string NativeOpenAiHost = "api.openai.com";

    /// <summary>The upstream client connects to 127.0.0.1 when it is asked for <see cref="NativeOpenAiHost"/>; nothing else changes.</summary>
    private static void ConnectNativeHostToFake(IServiceCollection services) =>
        services.AddHttpClient(Durar.Actors.Transports.UpstreamHttp.ClientName).ConfigurePrimaryHttpMessageHandler((handler, _) =>
            ((SocketsHttpHandler)handler).ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host == NativeOpenAiHost ? "127.0.0.1" : context.DnsEndPoint.Host;
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(host, context.DnsEndPoint.Port, ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            });

    /// <summary>Leaves the fake provider running when this gateway is disposed (a second gateway in the same test uses it).</summary>
    public void KeepFake() => _keepFake = true;

    /// <summary>Stops this gateway gracefully and starts a new one on the same data directory and fake provider.</summary>
    public async Task<GatewayHarness> RestartAsync()
    {
        _keepFake = true;
        _keepDataDir = true;
        await DisposeAsync();
        return await StartAsync(_hocon, Fake, DataDir);
    }

    /// <summary>The official OpenAI .NET SDK pointed at the gateway.</summary>
    public ChatClient OpenAiChat(string model, string apiKey = "unused") =>
        new(model, new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(BaseUri, "v1/") });

    public HttpRequestMessage Post(string path, string json, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (!_keepFake) await Fake.DisposeAsync();
        if (!_keepDataDir)
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
