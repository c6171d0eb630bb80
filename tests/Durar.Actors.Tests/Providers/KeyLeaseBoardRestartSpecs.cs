using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// A restarted provider actor starts from the board's newest stamped change: before that fix it published views at epoch 0,
/// below what the board required for its id, so the board declined every lease of that provider from then on.
/// </summary>
public sealed class KeyLeaseBoardRestartSpecs() : Akka.TestKit.Xunit2.TestKit(VirtualTime.Config, nameof(KeyLeaseBoardRestartSpecs))
{
    [Fact]
    public void Should_serve_from_the_board_again_after_the_provider_actor_restarts()
    {
        var board = new KeyLeaseBoard();
        board.Open();
        var a = ApiKeyCredential.For("p", "secret-a", "A");
        var definition = new ProviderDefinition { Id = "p", Name = "p", Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key" };
        var provider = Sys.ActorOf(ProviderActor.Props(definition, [a], [], KeySettings.Default,
            DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover, board: board));
        provider.Tell(board.Stamp(new ProviderCommands.SetOrder("p", [a.Id])));
        provider.Tell(new ProviderCommands.GetProviderState("p"));
        ExpectMsg<ProviderStateView>();
        Assert.Equal(a.Id, board.TryLease("p", "m", [], null)?.KeyId);

        ((IInternalActorRef)provider).Restart(new InvalidOperationException("a bug in a handler")); // as its supervisor would
        AwaitAssert(() =>
        {
            provider.Tell(new ProviderCommands.GetProviderState("p"));
            ExpectMsg<ProviderStateView>(); // the new incarnation is Active and has published
            Assert.Equal(a.Id, board.TryLease("p", "m", [], null)?.KeyId);
        }, TimeSpan.FromSeconds(5));
    }
}
