using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Routing;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durar.Actors.Tests.Routing;

/// <summary>
/// The run of one request over its candidate chain (<see cref="ChatRunner"/>), with real parts around it: the provider
/// registry and its provider and key actors, the key lease board, and the OpenAI transport calling the fake provider on
/// 127.0.0.1. Time is virtual (<see cref="VirtualClock"/>): the actors run on TestKit's scheduler and the runner on a
/// <c>FakeTimeProvider</c> that moves with it, so every backoff and queue wait is observed and then released by the spec,
/// never slept through.
/// </summary>
public sealed class ChatRunnerSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string KeyA1 = "sk-alpha-1111";
    private const string KeyA2 = "sk-alpha-2222";
    private const string KeyB = "sk-beta-3333";

    /// <summary>How long (real time) a run may take once nothing is left for it to wait for on the virtual clock.</summary>
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(15);

    private static readonly ChatRequest Hello = new() { Messages = [new ChatMessage("user", "hello")] };

    private readonly VirtualClock _clock;
    private FakeProvider _fake = null!;

    public ChatRunnerSpecs() : base(VirtualTime.Config, nameof(ChatRunnerSpecs))
    {
        _clock = new VirtualClock(Sys);
    }

    public async Task InitializeAsync() => _fake = await FakeProvider.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Should_wait_the_same_model_retry_backoff_on_the_clock_and_retry_after_it()
    {
        var rig = Start(Provider("alpha", "m1", KeyA1));
        _fake.Enqueue(FakeResponse.Overloaded(), FakeResponse.Ok("second time lucky"));

        var run = rig.CompleteAsync("alpha/m1");
        Assert.Equal(TimeSpan.FromSeconds(90), await _clock.NextTimerAsync()); // the failover budget, on the same clock

        // The 503 is answered by a backoff of 1 s with jitter (x0.5-1.5), armed on the runner's clock...
        var backoff = await _clock.NextTimerAsync();
        Assert.InRange(backoff, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1, _fake.RequestCount);
        // ...and nothing happens before it is due.
        _clock.Advance(backoff - TimeSpan.FromMilliseconds(1));
        Assert.False(run.IsCompleted, "the run ended before its backoff was due");
        Assert.Equal(1, _fake.RequestCount);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var answer = Succeeded(await run.WaitAsync(RunBound));
        Assert.Equal("second time lucky", answer.Completion.Text);
        Assert.Equal(2, answer.Attempts);
        // A same-model transient retry keeps its key: no rotation for non-rate-limit errors.
        Assert.Equal([KeyA1, KeyA1], _fake.Requests.Select(r => r.ApiKey));
        Assert.Equal(2, _clock.ArmedTimers); // the budget and the backoff
    }

    [Fact]
    public void Should_send_fast_mode_only_on_calls_started_before_its_auto_window_ends()
    {
        // /fast auto: a call started inside the window is fast; a retry or fallback started at or after its end goes with
        // the provider's default tier (no service_tier at all, not "standard"). Every call goes through AtCallTime.
        var start = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        var request = Hello with { FastMode = true, FastUntil = start + TimeSpan.FromSeconds(60) };

        Assert.Same(request, ChatRunner.AtCallTime(request, start));
        Assert.Same(request, ChatRunner.AtCallTime(request, start + TimeSpan.FromSeconds(59.999)));
        var late = ChatRunner.AtCallTime(request, start + TimeSpan.FromSeconds(60));
        Assert.Equal(((bool?)null, (DateTimeOffset?)null), (late.FastMode, late.FastUntil));
        // on and off have no window: every call keeps them.
        var on = Hello with { FastMode = true };
        Assert.Same(on, ChatRunner.AtCallTime(on, start + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Should_carry_the_failed_attempts_and_when_each_ended_in_a_successful_answer()
    {
        // alpha's only key: a 503, the same-model retry after its backoff, another 503, then beta answers.
        var rig = Start(Provider("alpha", "m1", KeyA1) + Provider("beta", "m2", KeyB));
        _fake.Script = r => r.Model == "m1" ? FakeResponse.Overloaded() : null;

        var run = rig.CompleteAsync("alpha/m1", "beta/m2");
        Assert.Equal(TimeSpan.FromSeconds(90), await _clock.NextTimerAsync()); // the budget
        var backoff = await _clock.NextTimerAsync();
        _clock.Advance(backoff);
        var answer = Succeeded(await run.WaitAsync(RunBound));

        Assert.Equal("beta/m2", answer.Model.ToString());
        Assert.Equal(ApiKeyCredential.For("beta", KeyB, "env").Id, answer.KeyId);
        Assert.Equal(3, answer.Attempts);
        Assert.Equal(2, answer.Failures.Length);
        Assert.All(answer.Failures, f =>
        {
            Assert.Equal("alpha/m1", f.Model);
            Assert.Equal(FailoverReason.Overloaded, f.Reason);
            Assert.Equal(503, f.Status);
            Assert.Equal(ApiKeyCredential.For("alpha", KeyA1, "env").Id, f.KeyId);
        });
        // Each failure is stamped on the runner's clock: the first at once, the retry's after the backoff.
        Assert.Equal(TimeSpan.Zero, answer.Failures[0].Elapsed);
        Assert.Equal(backoff, answer.Failures[1].Elapsed);

        // A first attempt that answers carries no failures (and allocates none).
        _fake.Script = null;
        var direct = Succeeded(await rig.CompleteAsync("beta/m2").WaitAsync(RunBound));
        Assert.Equal(1, direct.Attempts);
        Assert.True(direct.Failures.IsEmpty);
    }

    [Fact]
    public async Task Should_fail_over_at_once_when_the_retry_after_is_longer_than_max_retry_after()
    {
        // maxRetryAfter is 60 s by default: a 503 asking for 120 s goes to the next candidate without waiting. The budget is
        // long enough to hold that wait, so only maxRetryAfter stops it.
        var rig = Start(Provider("alpha", "m1", KeyA1) + Provider("beta", "m2", KeyB) + "gateway.failover.budget = 5m\n");
        _fake.Script = r => r.Model == "m1" ? FakeResponse.Overloaded() with { RetryAfter = "120" } : null;

        var answer = Succeeded(await rig.CompleteAsync("alpha/m1", "beta/m2").WaitAsync(RunBound));

        Assert.Equal("beta/m2", answer.Model.ToString());
        Assert.Equal(2, answer.Attempts);
        Assert.Equal(["m1", "m2"], _fake.Requests.Select(r => r.Model));
        Assert.Equal(1, _clock.ArmedTimers); // the budget only: no wait
    }

    [Fact]
    public async Task Should_never_start_a_backoff_that_would_end_past_the_failover_budget()
    {
        var rig = Start(Provider("alpha", "m1", KeyA1) + "gateway.failover.budget = 10s\n");
        _fake.Script = _ => FakeResponse.Overloaded();

        var run = rig.CompleteAsync("alpha/m1");
        Assert.Equal(TimeSpan.FromSeconds(10), await _clock.NextTimerAsync());
        // Every backoff (1 s doubling, jittered) is released as soon as it is armed, until the run stops arming them.
        var waited = TimeSpan.Zero;
        var backoffs = 0;
        var timer = _clock.NextTimerAsync();
        while (await Task.WhenAny(run, timer) == timer)
        {
            var backoff = await timer;
            waited += backoff;
            backoffs++;
            timer = _clock.NextTimerAsync();
            _clock.Advance(backoff);
        }

        var failure = Failed(await run.WaitAsync(RunBound));
        Assert.True(waited < TimeSpan.FromSeconds(10), $"the backoffs ({waited}) ran past the 10 s budget");
        Assert.InRange(backoffs, 2, 4); // 1 + 2 + 4 s (x0.5-1.5) fit at least twice; an 8 s step never does
        Assert.Equal(backoffs + 1, _fake.RequestCount);
        Assert.All(failure.Attempts, a => Assert.Equal(FailoverReason.Overloaded, a.Reason));
        Assert.Equal(502, failure.HttpStatus);
    }

    [Fact]
    public async Task Should_end_the_run_with_a_timeout_attempt_when_the_budget_runs_out_during_an_attempt()
    {
        // The upstream takes 30 s (real time) to answer: the budget, on the virtual clock, ends the attempt first.
        var rig = Start(Provider("alpha", "m1", KeyA1) + "gateway.failover.budget = 1s\n");
        _fake.Enqueue(new FakeResponse { Latency = TimeSpan.FromSeconds(30) });

        var run = rig.CompleteAsync("alpha/m1");
        Assert.Equal(TimeSpan.FromSeconds(1), await _clock.NextTimerAsync());
        await Eventually.Until(() => _fake.RequestCount == 1, "the attempt reached the upstream");
        Assert.False(run.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));

        var failure = Failed(await run.WaitAsync(RunBound));
        var attempt = Assert.Single(failure.Attempts);
        Assert.Equal(FailoverReason.Timeout, attempt.Reason);
        Assert.Equal("alpha/m1", attempt.Model);
        Assert.Equal("LLM request timed out: the failover budget of 1 s was spent.", attempt.Message);
        Assert.Equal(1, _fake.RequestCount);
    }

    [Fact]
    public async Task Should_queue_for_the_soonest_recovery_when_every_candidate_is_cooling()
    {
        // probeMargin = 0: the cooling primary is not probed early, so the run has nothing to do but wait.
        var rig = Start(Provider("alpha", "m1", KeyA1) + """
            gateway.queueWhenCooling { enabled = true, maxWait = 60s }
            gateway.failover.probeMargin = 0s
            """);
        _fake.Enqueue(FakeResponse.RateLimited());
        Assert.Equal(429, Failed(await rig.CompleteAsync("alpha/m1").WaitAsync(RunBound)).HttpStatus);
        Assert.Equal(TimeSpan.FromSeconds(90), await _clock.NextTimerAsync()); // that run's budget
        var until = await rig.AwaitCoolingAsync("alpha");
        Assert.Equal(1, _clock.ArmedTimers); // the first run armed its budget, nothing else

        var run = rig.CompleteAsync("alpha/m1");
        Assert.Equal(TimeSpan.FromSeconds(90), await _clock.NextTimerAsync()); // the failover budget

        // The key cools for the schedule's first step (30 s): the run waits exactly until then, without calling upstream.
        var wait = await _clock.NextTimerAsync();
        Assert.Equal(until - _clock.Time.GetUtcNow(), wait);
        Assert.Equal(TimeSpan.FromSeconds(30), wait);
        Assert.False(run.IsCompleted, "the run did not wait for the key");
        Assert.Equal(1, _fake.RequestCount);

        _clock.Advance(wait);
        var answer = Succeeded(await run.WaitAsync(RunBound));
        Assert.Equal(KeyA1, _fake.Requests[^1].ApiKey);
        Assert.Equal(2, _fake.RequestCount);
        Assert.Equal(1, answer.Attempts);
    }

    [Fact]
    public async Task Should_answer_429_with_the_soonest_recovery_when_it_is_past_the_queue_max_wait()
    {
        var rig = Start(Provider("alpha", "m1", KeyA1) + """
            gateway.queueWhenCooling { enabled = true, maxWait = 10s }
            gateway.failover.probeMargin = 0s
            """);
        _fake.Enqueue(FakeResponse.RateLimited());
        Assert.Equal(429, Failed(await rig.CompleteAsync("alpha/m1").WaitAsync(RunBound)).HttpStatus);
        await rig.AwaitCoolingAsync("alpha");

        var failure = Failed(await rig.CompleteAsync("alpha/m1").WaitAsync(RunBound));

        Assert.Equal(429, failure.HttpStatus);
        Assert.Equal("rate_limit", failure.Code);
        // Retry-After is the key's recovery (30 s away), not the queue's limit; the run never waited.
        Assert.InRange(failure.RetryAfter!.Value, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30));
        Assert.Equal(2, _clock.ArmedTimers); // each run its budget: the second never waited
        Assert.Equal(1, _fake.RequestCount);
    }

    [Fact]
    public async Task Should_stop_the_chain_on_a_context_overflow_without_failing_over()
    {
        var rig = Start(Provider("alpha", "m1", KeyA1) + Provider("beta", "m2", KeyB));
        _fake.Enqueue(FakeResponse.Error(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            code: "context_length_exceeded"));

        var failure = Failed(await rig.CompleteAsync("alpha/m1", "beta/m2").WaitAsync(RunBound));

        Assert.Equal(400, failure.HttpStatus);
        // The provider's own code stays (clients test for it); the gateway's classification goes beside it.
        Assert.Equal("context_length_exceeded", failure.Code);
        Assert.Equal("context_overflow", failure.Reason);
        Assert.StartsWith("Context overflow: prompt too large for the model.", failure.Message, StringComparison.Ordinal);
        Assert.Equal(FailoverReason.ContextOverflow, Assert.Single(failure.Attempts).Reason);
        Assert.Equal(["m1"], _fake.Requests.Select(r => r.Model));
        Assert.Equal(1, _clock.ArmedTimers); // the budget only
    }

    [Fact]
    public async Task Should_list_every_attempt_when_the_chain_is_exhausted()
    {
        var rig = Start(Provider("alpha", "m1", KeyA1, KeyA2) + Provider("beta", "m2", KeyB));
        _fake.Script = r => r.Model == "m1" ? FakeResponse.RateLimited(message: $"slow down {r.ApiKey![^4..]}")
            : FakeResponse.Error(402, "Insufficient credits on this account.");

        var failure = Failed(await rig.CompleteAsync("alpha/m1", "beta/m2").WaitAsync(RunBound));

        // Both keys of the first candidate (a rate limit rotates to the next key at once), then the fallback.
        Assert.Equal(["alpha/m1", "alpha/m1", "beta/m2"], failure.Attempts.Select(a => a.Model));
        Assert.Equal([FailoverReason.RateLimit, FailoverReason.RateLimit, FailoverReason.Billing], failure.Attempts.Select(a => a.Reason));
        Assert.Equal(3, failure.AttemptCount);
        Assert.Equal(3, _fake.RequestCount);
        Assert.Equal(new HashSet<string?> { KeyA1, KeyA2 }, _fake.Requests.Take(2).Select(r => r.ApiKey).ToHashSet());
        Assert.Equal(KeyB, _fake.Requests[2].ApiKey);
        Assert.StartsWith("All models failed (3): ", failure.Message, StringComparison.Ordinal);
        foreach (var attempt in failure.Attempts)
            Assert.Contains($"{attempt.Model}: {attempt.Message} ({attempt.Reason.ToWireName()})", failure.Message, StringComparison.Ordinal);
        Assert.Contains("slow down 1111", failure.Message, StringComparison.Ordinal);
        Assert.Contains("slow down 2222", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Insufficient credits", failure.Message, StringComparison.Ordinal);
        Assert.Equal("billing", failure.Code);
        Assert.Equal(1, _clock.ArmedTimers); // the budget only: a rate limit rotates keys without waiting
    }

    [Fact]
    public async Task Should_skip_a_candidate_whose_wire_cannot_carry_a_field_without_an_upstream_call_or_a_key()
    {
        var rig = Start(AnthropicProvider("ant", "claude", KeyA1) + Provider("beta", "m2", KeyB));

        var answer = Succeeded(await rig.CompleteAsync(Hello with { N = 2 }, "ant/claude", "beta/m2").WaitAsync(RunBound));

        Assert.Equal("beta/m2", answer.Model.ToString());
        Assert.Equal(2, answer.Attempts);
        Assert.Equal(["openai"], _fake.Requests.Select(r => r.Wire)); // nothing reached the Anthropic wire
        var states = await rig.Providers.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), TimeSpan.FromSeconds(3));
        var key = Assert.Single(states.Providers.Single(p => p.ProviderId == "ant").Keys);
        Assert.Equal(("ready", 0L), (key.State, key.Requests)); // the key was never leased nor blamed
        Assert.Equal(1, _clock.ArmedTimers); // the budget only
    }

    [Fact]
    public async Task Should_answer_400_naming_the_field_when_no_candidate_can_carry_it()
    {
        var rig = Start(AnthropicProvider("ant", "claude", KeyA1, KeyA2) + AnthropicProvider("ant2", "claude2", KeyB));

        var failure = Failed(await rig.CompleteAsync(Hello with { Logprobs = true }, "ant/claude", "ant2/claude2").WaitAsync(RunBound));

        Assert.Equal((400, "invalid_request_error", "unsupported_parameter", "logprobs"), (failure.HttpStatus, failure.Type, failure.Code, failure.Param));
        Assert.StartsWith("No model can carry this request (2): ant/claude: `logprobs` = true", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["ant/claude", "ant2/claude2"], failure.Attempts.Select(a => a.Model)); // one record each: no other key was tried
        Assert.All(failure.Attempts, a => Assert.Equal(((string?)null, "logprobs"), (a.KeyId, a.Unsupported))); // no key was leased
        Assert.Equal(0, _fake.RequestCount);
    }

    [Fact]
    public async Task Should_let_the_candidates_that_were_tried_decide_the_status_when_others_could_not_carry_the_request()
    {
        var rig = Start(AnthropicProvider("ant", "claude", KeyA1) + Provider("beta", "m2", KeyB));
        _fake.Script = _ => FakeResponse.RateLimited(retryAfter: "7");

        var failure = Failed(await rig.CompleteAsync(Hello with { Seed = 1 }, "ant/claude", "beta/m2").WaitAsync(RunBound));

        Assert.Equal((429, "rate_limit", (string?)null), (failure.HttpStatus, failure.Code, failure.Param));
        Assert.Contains("ant/claude: `seed` = 1", failure.Message, StringComparison.Ordinal);
        Assert.Contains("(unsupported_parameter)", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>An Anthropic-wire provider on the fake, with its keys from the config's <c>env</c> section.</summary>
    private static string AnthropicProvider(string id, string model, params string[] keys) => $$"""
        models { providers { {{id}} { baseUrl = "{fake-anthropic}", api = "anthropic-messages", models = [{ id = "{{model}}" }] } } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{string.Join(",", keys)}}" }

        """;

    /// <summary>A custom OpenAI-wire provider on the fake, with its keys from the config's <c>env</c> section.</summary>
    private static string Provider(string id, string model, params string[] keys) => $$"""
        models { providers { {{id}} { baseUrl = "{fake}", api = "openai-completions", models = [{ id = "{{model}}" }] } } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{string.Join(",", keys)}}" }

        """;

    /// <summary>
    /// The runner and everything it talks to, built as the host builds them (<c>DurarHostingExtensions</c>) but on this
    /// TestKit's actor system and the virtual clock. The one place to adapt when the provider and key actors change shape:
    /// it uses only their public Props and the runner's public constructor.
    /// </summary>
    private Rig Start(string hocon)
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon.Replace("{fake}", _fake.OpenAiBaseUrl).Replace("{fake-anthropic}", _fake.AnthropicBaseUrl)));
        var catalog = new ProviderCatalog(settings);
        var board = new KeyLeaseBoard();
        var providers = Sys.ActorOf(ProviderRegistryActor.Props(catalog, KeySources.FromEnvironment(settings.Env), settings, board: board));
        var runner = new ChatRunner(providers, new TransportRegistry(new UpstreamClients()), settings.Gateway, NullLogger<ChatRunner>.Instance,
            _clock.Time, board);
        return new Rig(this, runner, new ModelResolver(catalog, settings.Agents), providers);
    }

    private static CompletionRun Succeeded(RunResult<CompletionRun> result) =>
        result.Value ?? throw new Xunit.Sdk.XunitException($"the run failed: {result.Failure}");

    private static RunFailure Failed(RunResult<CompletionRun> result) =>
        result.Failure ?? throw new Xunit.Sdk.XunitException($"the run succeeded with {result.Value!.Model}");

    private sealed record Rig(ChatRunnerSpecs Spec, ChatRunner Runner, ModelResolver Resolver, IActorRef Providers)
    {
        public Task<RunResult<CompletionRun>> CompleteAsync(string model, params string[] fallbacks) => CompleteAsync(Hello, model, fallbacks);

        public Task<RunResult<CompletionRun>> CompleteAsync(ChatRequest request, string model, params string[] fallbacks) =>
            Runner.CompleteAsync(RunPlanner.Plan(Resolver, model, fallbacks.Length == 0 ? null : fallbacks), request, CancellationToken.None);

        /// <summary>Waits until the provider's only key shows as cooling (outcomes reach the key actor by Tell); returns until when.</summary>
        public async Task<DateTimeOffset> AwaitCoolingAsync(string providerId)
        {
            DateTimeOffset? until = null;
            await Spec.AwaitAssertAsync(async () =>
            {
                var states = await Providers.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), TimeSpan.FromSeconds(3));
                var key = Assert.Single(states.Providers.Single(p => p.ProviderId == providerId).Keys);
                Assert.Equal("cooling", key.State);
                until = key.Until;
            }, TimeSpan.FromSeconds(10));
            return until!.Value;
        }
    }

    /// <summary>One pooled handler for every upstream call, as the host's named client has.</summary>
    private sealed class UpstreamClients : IHttpClientFactory
    {
        private static readonly SocketsHttpHandler Handler = new() { ResponseDrainTimeout = TimeSpan.Zero, UseCookies = false };

        public HttpClient CreateClient(string name) => new(Handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
