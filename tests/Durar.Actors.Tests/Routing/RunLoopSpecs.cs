using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durar.Actors.Tests.Routing;

/// <summary>
/// The run loop as a kind of request other than chat drives it (<see cref="RunLoop"/> with embeddings' <see cref="RunWire{TTransport,TRequest}"/>):
/// a candidate whose wire cannot carry a field is skipped before any key is leased, none able to carry it is a 400 naming the
/// field, and the run's own time limit caps the failover budget, exactly as for chat (<see cref="ChatRunnerSpecs"/>). Real
/// parts around it: the provider and key actors, the lease board, and the OpenAI embeddings endpoint of the fake provider on
/// 127.0.0.1; the wire's check is the one thing a spec sets, since no built-in embeddings wire refuses a field today.
/// </summary>
public sealed class RunLoopSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(15);

    private static readonly EmbeddingRequest TwoTexts = new() { Texts = ["hello there", "general kenobi"], Dimensions = 4 };

    private readonly VirtualClock _clock;
    private FakeProvider _fake = null!;

    public RunLoopSpecs() : base(VirtualTime.Config, nameof(RunLoopSpecs))
    {
        _clock = new VirtualClock(Sys);
    }

    public async Task InitializeAsync() => _fake = await FakeProvider.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Should_skip_an_embeddings_candidate_whose_wire_cannot_carry_a_field_without_an_upstream_call_or_a_key()
    {
        var rig = Start(Provider("alpha", "e1", "sk-alpha") + Provider("beta", "e2", "sk-beta"), refuseOn: "alpha");

        var result = await rig.EmbedAsync("alpha/e1", "beta/e2").WaitAsync(RunBound);

        var run = result.Value ?? throw new Xunit.Sdk.XunitException($"the run failed: {result.Failure}");
        Assert.Equal(("beta/e2", 2), (run.Model.ToString(), run.Attempts));
        Assert.Equal(2, run.Result.ReadVectors().Length);
        var skipped = Assert.Single(run.Failures);
        Assert.Equal(("alpha/e1", (string?)null, "dimensions"), (skipped.Model, skipped.KeyId, skipped.Unsupported));
        Assert.Equal(["sk-beta"], _fake.Requests.Select(r => r.ApiKey)); // nothing reached alpha
        var states = await rig.Providers.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), TimeSpan.FromSeconds(3));
        var key = Assert.Single(states.Providers.Single(p => p.ProviderId == "alpha").Keys);
        Assert.Equal(("ready", 0L), (key.State, key.Requests)); // never leased nor blamed
    }

    [Fact]
    public async Task Should_answer_400_naming_the_field_when_no_embeddings_candidate_can_carry_it()
    {
        var rig = Start(Provider("alpha", "e1", "sk-alpha") + Provider("beta", "e2", "sk-beta"), refuseOn: "*");

        var failure = (await rig.EmbedAsync("alpha/e1", "beta/e2").WaitAsync(RunBound)).Failure;

        Assert.NotNull(failure);
        Assert.Equal((400, "invalid_request_error", "unsupported_parameter", "dimensions"), (failure.HttpStatus, failure.Type, failure.Code, failure.Param));
        Assert.StartsWith("No model can carry this request (2): alpha/e1: `dimensions`", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, _fake.RequestCount);
    }

    [Fact]
    public async Task Should_end_an_embeddings_run_at_the_run_limit_when_it_is_shorter_than_the_failover_budget()
    {
        // The upstream takes 30 s (real time) to answer: the run's limit of 1 s, on the virtual clock, ends the attempt first.
        var rig = Start(Provider("alpha", "e1", "sk-alpha"), refuseOn: null, runTimeoutSeconds: 1);
        _fake.Enqueue(new FakeResponse { Latency = TimeSpan.FromSeconds(30) });

        var running = rig.EmbedAsync("alpha/e1");
        Assert.Equal(TimeSpan.FromSeconds(1), await _clock.NextTimerAsync()); // the run's limit, not the 90 s budget
        await Eventually.Until(() => _fake.RequestCount == 1, "the attempt reached the upstream");
        Assert.False(running.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));

        var failure = (await running.WaitAsync(RunBound)).Failure;
        Assert.NotNull(failure);
        Assert.Equal((504, "timeout"), (failure.HttpStatus, failure.Code));
        var attempt = Assert.Single(failure.Attempts);
        Assert.Equal("LLM request timed out: the run took longer than agents.defaults.timeoutSeconds (1 s).", attempt.Message);
    }

    /// <summary>An OpenAI-wire provider on the fake with one embedding model, its keys from the config's <c>env</c> section.</summary>
    private static string Provider(string id, string model, params string[] keys) => $$"""
        models { providers { {{id}} { baseUrl = "{fake}", api = "openai-completions", models = [{ id = "{{model}}", kind = "embedding" }] } } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{string.Join(",", keys)}}" }

        """;

    /// <param name="refuseOn">The provider whose wire refuses <c>dimensions</c> (<c>*</c> = every one; null = none).</param>
    private Rig Start(string hocon, string? refuseOn, int runTimeoutSeconds = 0)
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon.Replace("{fake}", _fake.OpenAiBaseUrl)));
        var catalog = new ProviderCatalog(settings);
        var board = new KeyLeaseBoard();
        var providers = Sys.ActorOf(ProviderRegistryActor.Props(catalog, KeySources.FromEnvironment(settings.Env), settings, board: board));
        var transports = new TransportRegistry(new UpstreamClients());
        var loop = new RunLoop(providers, settings.Gateway, NullLogger.Instance, _clock.Time, board, runTimeoutSeconds);
        var wire = new RunWire<IEmbeddingTransport, EmbeddingRequest>(transports.FindEmbeddings, (transport, request, candidate) =>
            (refuseOn == "*" || refuseOn == candidate.Provider.Id) && request.Dimensions is { } d
                ? new UnsupportedField("dimensions", $"`dimensions` = {d} cannot be sent to `{candidate}`.")
                : transport.Unsupported(request, candidate));
        return new Rig(loop, wire, new EmbeddingRunner(loop, transports), new ModelResolver(catalog, settings.Agents), providers);
    }

    private sealed record Rig(RunLoop Loop, RunWire<IEmbeddingTransport, EmbeddingRequest> Wire, EmbeddingRunner Runner, ModelResolver Resolver,
        IActorRef Providers)
    {
        /// <summary>One embeddings run through <see cref="Wire"/>, with the attempt <see cref="EmbeddingRunner"/> makes.</summary>
        public Task<RunResult<EmbeddingRun>> EmbedAsync(string model, params string[] fallbacks) =>
            Loop.RunAsync(Runner.Plan(Resolver, model, fallbacks.Length == 0 ? null : fallbacks), TwoTexts, Wire, Loop.StartDeadline(),
                async (candidate, transport, key, attemptCt, run, trace) =>
                {
                    var result = await transport.EmbedAsync(new EmbeddingCall(candidate, key.Secret, TwoTexts, Loop.IdleTimeout(candidate)), attemptCt);
                    Loop.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(result.Hints, result.Usage));
                    trace.Succeeded(result.Usage, 0, result.UpstreamModel);
                    return new EmbeddingRun(result, candidate, run.Attempts.Count + 1) { KeyId = key.KeyId, Failures = run.Failures };
                }, CancellationToken.None);
    }

    /// <summary>One pooled handler for every upstream call, as the host's named client has.</summary>
    private sealed class UpstreamClients : IHttpClientFactory
    {
        private static readonly SocketsHttpHandler Handler = new() { ResponseDrainTimeout = TimeSpan.Zero, UseCookies = false };

        public HttpClient CreateClient(string name) => new(Handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
