using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>What a session actor needs from the node: the request run, model resolution and the settings.</summary>
internal sealed record SessionServices(ChatRunner Runner, ModelResolver Resolver, DurarSettings Settings)
{
    /// <summary>
    /// The client-token shard region the runs of a token's sessions are charged to (<see cref="Durar.Actors.ClientTokens.ClientTokenSessions"/>);
    /// nobody when the host runs no client tokens.
    /// </summary>
    public Akka.Actor.IActorRef ClientTokens { get; init; } = Akka.Actor.ActorRefs.Nobody;
}

/// <summary>A rejected directive or patch, mapped to an HTTP status and code.</summary>
internal readonly record struct SessionError(int Status, string Message, string Code);

/// <summary>
/// The session rules that need the node's model catalog: applying directives and patches to overrides (with the
/// allowlist), choosing the model chain and pinned key for a turn, and turning effective settings into request fields.
/// Pure functions over the session state; the actor persists what they return.
/// </summary>
internal static class SessionDirectives
{
    public static (SessionOverrides Overrides, SessionOverrides Inline, List<string> Replies, bool NewSession, SessionError? Error)
        Apply(ParsedMessage parsed, SessionOverrides current, SessionServices services, bool persistent)
    {
        var stored = current;
        var inline = SessionOverrides.None;
        var replies = new List<string>();
        var newSession = false;
        foreach (var directive in parsed.Directives)
        {
            var target = persistent ? stored : inline;
            switch (directive)
            {
                case Directive.ModelDirective { Default: true }:
                    target = target with { Model = null, ModelSource = null };
                    // /model default keeps a compatible auth pin and drops an incompatible one (reference item 31).
                    var primary = services.Resolver.Resolve(ModelResolver.DefaultTarget).Model;
                    if (target.AuthProfile is { } pin && primary is not null && !pin.StartsWith(primary.Provider.Id + ":", StringComparison.Ordinal))
                        target = target with { AuthProfile = null, AuthProfileSource = null, AuthProfileCompactionCount = null };
                    replies.Add(DirectiveReplies.ModelReset(primary?.ToString() ?? "none"));
                    break;
                case Directive.ModelDirective m:
                    var resolved = services.Resolver.Resolve(m.Ref);
                    if (!resolved.Success) return (current, inline, replies, false, new SessionError(400, resolved.Message!, "invalid_model"));
                    if (!services.Resolver.Policy.IsAllowed(resolved.Model!.Ref))
                        return (current, inline, replies, false, new SessionError(403, DirectiveReplies.ModelNotAllowed(resolved.Model.Ref), "model_not_allowed"));
                    target = target with { Model = resolved.Model.ToString(), ModelSource = OverrideSource.User };
                    if (m.ProfileId is { } profile)
                        target = target with { AuthProfile = profile, AuthProfileSource = OverrideSource.User, AuthProfileCompactionCount = null };
                    replies.Add(DirectiveReplies.ModelSet(resolved.Model.ToString(), m.ProfileId));
                    break;
                case Directive.ThinkDirective t:
                    target = target with { Thinking = t.Clear ? null : t.Level };
                    replies.Add(DirectiveReplies.Thinking(t.Clear ? null : t.Level));
                    break;
                case Directive.FastDirective f:
                    target = target with { Fast = f.Clear ? null : f.Mode };
                    replies.Add(DirectiveReplies.Fast(f.Clear ? null : f.Mode));
                    break;
                case Directive.UsageDirective u:
                    target = target with { ResponseUsage = u.Clear ? null : u.Mode };
                    replies.Add(DirectiveReplies.Usage(u.Clear ? null : u.Mode));
                    break;
                case Directive.QueueDirective q:
                    // A mode and options set what they name and keep the rest (options alone keep the mode); reset clears all.
                    target = q.Clear
                        ? target with { Queue = null, QueueDebounce = null, QueueCap = null, QueueDrop = null }
                        : target with
                        {
                            Queue = q.Mode ?? target.Queue,
                            QueueDebounce = q.Debounce ?? target.QueueDebounce,
                            QueueCap = q.Cap ?? target.QueueCap,
                            QueueDrop = q.Drop ?? target.QueueDrop,
                        };
                    replies.Add(DirectiveReplies.Queue(q));
                    break;
                case Directive.NewSessionDirective n:
                    newSession = true;
                    replies.Add(DirectiveReplies.NewSession(n.IsReset));
                    break;
                case Directive.StatusDirective s:
                    replies.Add(DirectiveReplies.Status(s, Current(stored, services)));
                    break;
            }
            if (persistent) stored = target; else inline = target;
        }
        return (stored, inline, replies, newSession, null);
    }

    private static CurrentSettings Current(SessionOverrides o, SessionServices s)
    {
        var model = o.Model ?? s.Resolver.Resolve(ModelResolver.DefaultTarget).Model?.ToString() ?? "none";
        var reasoning = s.Resolver.Resolve(model).Model?.Model.Reasoning ?? false;
        return new CurrentSettings(
            model,
            EffectiveSettings.Thinking(null, o.Thinking, AgentThinking(s), null, reasoning),
            EffectiveSettings.Fast(null, o.Fast, AgentFast(s), null),
            EffectiveSettings.ResponseUsage(null, o.ResponseUsage, AgentUsage(s)),
            EffectiveSettings.Queue(null, o.Queue, DefaultQueueMode(s)));
    }

    public static QueueMode DefaultQueueMode(SessionServices s) =>
        WireNames.TryParseQueue(s.Settings.Gateway.Sessions.QueueMode, out var mode) ? mode : QueueMode.Followup;

    /// <summary><c>gateway.sessions.queueDrop</c> (validated at start-up).</summary>
    public static QueueDropPolicy DropPolicy(SessionServices s) =>
        WireNames.TryParseQueueDrop(s.Settings.Gateway.Sessions.QueueDrop, out var policy) ? policy : QueueDropPolicy.Summarize;

    /// <summary>The session's <c>/queue drop:</c>, else <c>gateway.sessions.queueDrop</c>.</summary>
    public static QueueDropPolicy DropPolicy(SessionOverrides o, SessionServices s) => o.QueueDrop ?? DropPolicy(s);

    /// <summary>The session's <c>/queue cap:</c>, else <c>gateway.sessions.queueCap</c>.</summary>
    public static int QueueCap(SessionOverrides o, SessionServices s) => o.QueueCap ?? s.Settings.Gateway.Sessions.QueueCap;

    /// <summary>The session's <c>/queue debounce:</c>, else <c>gateway.sessions.queueDebounce</c>.</summary>
    public static TimeSpan QueueDebounce(SessionOverrides o, SessionServices s) => o.QueueDebounce ?? s.Settings.Gateway.Sessions.QueueDebounce;

    private static ThinkingLevel? AgentThinking(SessionServices s) => EffectiveSettings.AgentThinking(s.Settings.Agents);

    private static FastMode? AgentFast(SessionServices s) => EffectiveSettings.AgentFast(s.Settings.Agents);

    private static ResponseUsageMode? AgentUsage(SessionServices s) =>
        WireNames.TryParseResponseUsage(s.Settings.Agents.ResponseUsageDefault, out var v) ? v : null;

    public static ResponseUsageMode UsageMode(SessionOverrides inline, SessionOverrides session, SessionServices s) =>
        EffectiveSettings.ResponseUsage(inline.ResponseUsage, session.ResponseUsage, AgentUsage(s));

    /// <summary>The model this turn is aimed at (for thinking defaults and request shaping).</summary>
    public static ResolvedModel? TargetModel(PendingTurnView turn, SessionState state, SessionServices s)
    {
        var name = turn.Inline.Model ?? state.Overrides.Model ?? (ModelResolver.IsDefaultTarget(turn.RequestModel) ? null : turn.RequestModel)
            ?? ModelResolver.DefaultTarget;
        return s.Resolver.Resolve(name).Model;
    }

    /// <summary>
    /// The candidate chain for a turn: an inline or session user override is strict (no fallback); an explicit request
    /// model is strict; otherwise the configured primary with its fallbacks. The session's auth pin is preferred.
    /// </summary>
    public static RunPlan? Plan(PendingTurnView turn, SessionState state, SessionServices s, out SessionRunError? error)
    {
        error = null;
        var explicitModel = turn.Inline.Model ?? state.Overrides.Model
            ?? (turn.RequestModel is { } m && !ModelResolver.IsDefaultTarget(m) ? m : null);
        var candidates = ImmutableArray.CreateBuilder<ResolvedModel>();
        foreach (var name in explicitModel is not null ? [explicitModel] : s.Resolver.ConfiguredFallbacks.Prepend(ModelResolver.DefaultTarget))
        {
            var r = s.Resolver.Resolve(name);
            if (!r.Success)
            {
                error = new SessionRunError(r.Failure == ResolveFailure.Malformed ? 400 : 404, r.Message!, "invalid_request_error", "model_not_found");
                return null;
            }
            // A request's own model is client-chosen: the allowlist applies (the gateway refuses it before the turn; this
            // covers every other sender of SendMessage). Overrides were checked when they were set.
            if (turn.Inline.Model is null && state.Overrides.Model is null && explicitModel is not null && !s.Resolver.Policy.IsAllowed(r.Model!.Ref))
            {
                error = new SessionRunError(403, ModelPolicy.RejectionMessage(r.Model.Ref), "permission_error", "model_not_allowed");
                return null;
            }
            if (RunPlanner.Refusal(r.Model!, ModelKind.Chat) is { } refused)
            {
                if (explicitModel is null) continue; // the configured chain keeps what can chat
                error = new SessionRunError(400, refused, "invalid_request_error", "unsupported_model");
                return null;
            }
            if (!candidates.Any(c => c.Ref == r.Model!.Ref)) candidates.Add(r.Model!);
        }
        if (candidates.Count == 0)
        {
            error = new SessionRunError(400, "No configured model can chat: agents.defaults.model names only embedding models.",
                "invalid_request_error", "unsupported_model");
            return null;
        }
        var pin = state.Overrides.AuthProfile;
        // An auto pin moves on after a compaction (reference item 30); a user pin sticks.
        if (state.Overrides.AuthProfileSource == OverrideSource.Auto && state.Overrides.AuthProfileCompactionCount != state.CompactionCount) pin = null;
        return new RunPlan(candidates.ToImmutable()) { PreferredKeyId = turn.Inline.AuthProfile ?? pin };
    }

    /// <summary>Thinking and fast mode, resolved inline → session → agents.defaults → model params → provider default.</summary>
    public static ChatRequest WithSettings(ChatRequest request, SessionOverrides inline, SessionOverrides session, SessionServices s, ResolvedModel? target,
        DateTimeOffset runStart) =>
        target is null ? request : EffectiveSettings.ApplyTo(request, inline, session, s.Settings.Agents, target, runStart);

    public static (SessionOverrides Overrides, SessionError? Error) Patch(SessionCommands.PatchSession patch, SessionOverrides current, SessionServices s)
    {
        var o = current;
        if (patch.Model is { } model)
        {
            var resolved = s.Resolver.Resolve(model);
            if (!resolved.Success) return (current, new SessionError(resolved.Failure == ResolveFailure.Malformed ? 400 : 404, resolved.Message!, "invalid_model"));
            if (!s.Resolver.Policy.IsAllowed(resolved.Model!.Ref))
                return (current, new SessionError(403, ModelPolicy.RejectionMessage(resolved.Model.Ref), "model_not_allowed"));
            o = o with { Model = resolved.Model.ToString(), ModelSource = OverrideSource.User };
        }
        if (patch.AuthProfile is { } profile) o = o with { AuthProfile = profile, AuthProfileSource = OverrideSource.User, AuthProfileCompactionCount = null };
        if (patch.Thinking is { } t) o = o with { Thinking = t };
        if (patch.Fast is { } f) o = o with { Fast = f };
        if (patch.ResponseUsage is { } u) o = o with { ResponseUsage = u };
        if (patch.Queue is { } q) o = o with { Queue = q };
        foreach (var field in patch.ClearFields)
            o = field switch
            {
                "model" => o with { Model = null, ModelSource = null },
                "authProfile" => o with { AuthProfile = null, AuthProfileSource = null, AuthProfileCompactionCount = null },
                "thinkingLevel" => o with { Thinking = null },
                "fastMode" => o with { Fast = null },
                "responseUsage" => o with { ResponseUsage = null },
                "queueMode" => o with { Queue = null },
                _ => o,
            };
        return (o, null);
    }
}

/// <summary>The parts of a pending turn the rules need.</summary>
internal readonly record struct PendingTurnView(SessionOverrides Inline, string? RequestModel);
