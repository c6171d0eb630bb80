using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durar.Actors.Tests.Hosting;

/// <summary>
/// The cluster bootstrap as a host runs it: the remoting frame comes from <c>gateway.cluster.maximumFrameSize</c>, the
/// node carries the gateway's role, and a node with no seeds and no discovery forms a single-node cluster by itself.
/// </summary>
public sealed class ClusterHostingSpecs
{
    [Fact]
    public async Task Should_configure_the_frame_and_role_and_join_itself_without_seeds()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("gateway.cluster.maximumFrameSize = 40000000"));
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("cluster-hosting-spec", builder => builder.WithDurarCluster(settings)))
            .Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(40_000_000L, system.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
            var cluster = Cluster.Get(system);
            Assert.Contains(ActorNames.NodeRole, cluster.SelfRoles);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(cluster.SelfAddress, Assert.Single(cluster.State.Members).Address);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
