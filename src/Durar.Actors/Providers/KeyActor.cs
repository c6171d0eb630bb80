using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// One API key (or auth profile) of one provider. It serves leases for its key and owns the key's health: every attempt's
/// outcome comes back here, and the key's state is pushed to the parent provider whenever it changes, so the provider can
/// order its keys without asking.
/// </summary>
public sealed class KeyActor : ReceiveActor
{
    private readonly ApiKeyCredential _key;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _requests;
    private long _failures;
    private DateTimeOffset? _lastUsed;

    public KeyActor(ApiKeyCredential key)
    {
        _key = key;
        Receive<ProviderCommands.AcquireKey>(_ =>
        {
            _requests++;
            _lastUsed = DateTimeOffset.UtcNow;
            Sender.Tell(new KeyLease(_key.Id, _key.Secret, Self));
        });
        Receive<KeyCommands.ReportOutcome>(OnOutcome);
    }

    public static Props Props(ApiKeyCredential key) => Akka.Actor.Props.Create(() => new KeyActor(key));

    protected override void PreStart() => PublishState();

    private void OnOutcome(KeyCommands.ReportOutcome report)
    {
        switch (report.Outcome)
        {
            case AttemptOutcome.Failed failed:
                _failures++;
                _log.Info("Key [{KeyId}] failed on model [{ModelId}]: {Reason}", _key.Id, report.ModelId, failed.Reason);
                break;
        }
        PublishState();
    }

    private void PublishState() => Context.Parent.Tell(new KeyStateChanged(View()));

    private KeyStateView View() => new(_key.Id, _key.Masked, _key.Source, "ready", null, null, 0,
        ImmutableDictionary<string, int>.Empty, _lastUsed, _requests, _failures);
}

/// <summary>A key's state changed; sent by the key actor to its provider.</summary>
internal sealed record KeyStateChanged(KeyStateView View);
