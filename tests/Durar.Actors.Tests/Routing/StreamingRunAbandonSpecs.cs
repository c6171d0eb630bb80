using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;

namespace Durar.Actors.Tests.Routing;

/// <summary>
/// A committed stream whose answer cannot be started (issue 13: a failed header write) is released, not left holding the
/// upstream response: <see cref="StreamingRun.AbandonAsync"/> runs the stream's cleanup without reading past what the run
/// already holds.
/// </summary>
public sealed class StreamingRunAbandonSpecs
{
    private static readonly ResolvedModel Model =
        new(new ProviderDefinition { Id = "p", Name = "p", Api = "openai-completions", Auth = "api-key" },
            new ModelDefinition("m", "m", false, ["text"], ModelCost.Zero, 1000, null, 100, null), null);

    private sealed class Upstream
    {
        public bool Released { get; private set; }
        public int Read { get; private set; }

        public async IAsyncEnumerable<ChatEvent> Events()
        {
            try
            {
                Read++;
                yield return new TextDelta("held");
                await Task.Delay(TimeSpan.FromMinutes(5)); // an upstream that would not answer again for a long time
                Read++;
                yield return new TextDelta("never");
            }
            finally
            {
                Released = true;
            }
        }
    }

    [Fact]
    public async Task Should_release_the_upstream_of_a_committed_stream_that_is_abandoned_before_it_is_read()
    {
        var upstream = new Upstream();
        var run = new StreamingRun(upstream.Events(), Model, 1);

        await run.AbandonAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(upstream.Released);
        Assert.Equal(1, upstream.Read);
    }

    [Fact]
    public async Task Should_release_a_committed_stream_whose_first_step_fails()
    {
        var released = false;
        async IAsyncEnumerable<ChatEvent> Failing()
        {
            try
            {
                await Task.Yield();
                if (Reset()) throw new IOException("connection reset");
                yield return new TextDelta("never");
            }
            finally
            {
                released = true;
            }
        }

        static bool Reset() => true; // the upstream always resets here
        await new StreamingRun(Failing(), Model, 1).AbandonAsync();

        Assert.True(released);
    }
}
