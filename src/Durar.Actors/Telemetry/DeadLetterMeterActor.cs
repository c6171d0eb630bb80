using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Durar.Actors.Telemetry;

/// <summary>
/// Counts the messages Akka could not deliver on this node (<c>akka.dead_letters</c>, by kind: dead letter, dropped,
/// unhandled). Akka publishes each of them on the event stream anyway; a subscriber is the cheap way to count them, and
/// costs nothing while none occur. Started by <c>WithDurarActors</c> when telemetry is registered.
/// </summary>
internal sealed class DeadLetterMeterActor : ReceiveActor
{
    public DeadLetterMeterActor(DurarTelemetry telemetry)
    {
        Receive<AllDeadLetters>(letter =>
        {
            if (!telemetry.DeadLetters.Enabled) return;
            var kind = letter switch
            {
                DeadLetter => "dead_letter",
                Dropped => "dropped",
                UnhandledMessage => "unhandled",
                _ => "suppressed",
            };
            telemetry.DeadLetters.Add(1, new TagList { { TelemetryNames.DeadLetterKind, kind } });
        });
    }

    public static Props Props(DurarTelemetry telemetry) => Akka.Actor.Props.Create(() => new DeadLetterMeterActor(telemetry));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(AllDeadLetters));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
