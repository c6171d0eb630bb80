using System.Globalization;
using Durar.Actors.Models;
using static Durar.Actors.Sessions.Directives.Directive;

namespace Durar.Actors.Sessions.Directives;

/// <summary>The effective values a status directive (<c>/think</c> alone) reports.</summary>
internal sealed record CurrentSettings(string Model, ThinkingLevel Thinking, FastMode Fast, ResponseUsageMode ResponseUsage, QueueMode Queue);

/// <summary>
/// The reply texts of directives: acknowledgements, status answers and error texts (reference items 76–78, 83).
/// A directive-only message replies with the acknowledgements of its directives joined with <c>"\n"</c> (<see cref="Join"/>).
/// </summary>
internal static class DirectiveReplies
{
    // ---- acknowledgements ----

    /// <summary><c>Thinking level set to high.</c>, <c>Thinking disabled.</c> (off), or <c>Thinking level reset to default.</c> (null).</summary>
    public static string Thinking(ThinkingLevel? level) => level switch
    {
        null => "Thinking level reset to default.",
        ThinkingLevel.Off => "Thinking disabled.",
        { } l => $"Thinking level set to {WireNames.ToWire(l)}.",
    };

    /// <summary><c>Fast mode enabled.</c> / <c>Fast mode disabled.</c> / <c>Fast mode set to auto.</c> / reset (null).</summary>
    public static string Fast(FastMode? mode) => mode switch
    {
        null => "Fast mode reset to default.",
        FastMode.On => "Fast mode enabled.",
        FastMode.Off => "Fast mode disabled.",
        { } m => $"Fast mode set to {WireNames.ToWire(m)}.",
    };

    /// <summary><c>Usage display set to tokens.</c> / <c>… full.</c> / <c>Usage display disabled.</c> / reset (null).</summary>
    public static string Usage(ResponseUsageMode? mode) => mode switch
    {
        null => "Usage display reset to default.",
        ResponseUsageMode.Off => "Usage display disabled.",
        { } m => $"Usage display set to {WireNames.ToWire(m)}.",
    };

    /// <summary>
    /// <c>Queue mode set to collect.</c>, with the given options <c>Queue mode set to collect (debounce 500 ms, cap 20, drop summarize).</c>;
    /// options only: <c>Queue options set (cap 25).</c>; clear: <c>Queue mode reset to default.</c>
    /// </summary>
    public static string Queue(QueueDirective directive)
    {
        if (directive.Clear) return "Queue mode reset to default.";
        var options = QueueOptions(directive.Debounce, directive.Cap, directive.Drop);
        var suffix = options.Length == 0 ? "" : $" ({options})";
        return directive.Mode is { } mode ? $"Queue mode set to {WireNames.ToWire(mode)}{suffix}." : $"Queue options set{suffix}.";
    }

    /// <summary><c>Model set to openai/gpt-5.4.</c> or <c>Model set to openai/gpt-5.4 (auth profile openai:me@x.com).</c></summary>
    public static string ModelSet(string modelRef, string? profileId = null) =>
        profileId is null ? $"Model set to {modelRef}." : $"Model set to {modelRef} (auth profile {profileId}).";

    /// <summary><c>Model reset to default (anthropic/claude-opus-4-6).</c></summary>
    public static string ModelReset(string primaryModel) => $"Model reset to default ({primaryModel}).";

    /// <summary><c>New session started.</c> (<c>/new</c>) or <c>Session reset.</c> (<c>/reset</c>).</summary>
    public static string NewSession(bool isReset) => isReset ? "Session reset." : "New session started.";

    /// <summary>
    /// The acknowledgement of one applied directive. <paramref name="primaryModel"/> is named by <c>/model default</c>;
    /// <paramref name="resolvedModel"/> (the alias-resolved <c>provider/model</c>) replaces the typed ref when given.
    /// Status directives need <see cref="Status(StatusDirective, CurrentSettings)"/> and throw here.
    /// </summary>
    public static string Acknowledge(Directive directive, string primaryModel, string? resolvedModel = null) => directive switch
    {
        ThinkDirective t => Thinking(t.Clear ? null : t.Level),
        FastDirective f => Fast(f.Clear ? null : f.Mode),
        UsageDirective u => Usage(u.Clear ? null : u.Mode),
        QueueDirective q => Queue(q),
        ModelDirective { Default: true } => ModelReset(primaryModel),
        ModelDirective m => ModelSet(resolvedModel ?? m.Ref ?? "", m.ProfileId),
        NewSessionDirective n => NewSession(n.IsReset),
        StatusDirective => throw new ArgumentException("a status directive is answered with Status(...)", nameof(directive)),
        _ => throw new ArgumentOutOfRangeException(nameof(directive), directive, null),
    };

    /// <summary>Replies of a directive-only message, one per line.</summary>
    public static string Join(IEnumerable<string> replies) => string.Join("\n", replies);

    // ---- status (a directive typed without its argument) ----

    public static string ThinkingStatus(ThinkingLevel effective) => $"Current thinking level: {WireNames.ToWire(effective)}.";
    public static string FastStatus(FastMode effective) => $"Current fast mode: {WireNames.ToWire(effective)}.";
    public static string UsageStatus(ResponseUsageMode effective) => $"Current usage display: {WireNames.ToWire(effective)}.";
    public static string QueueStatus(QueueMode effective) => $"Current queue mode: {WireNames.ToWire(effective)}.";
    public static string ModelStatus(string effectiveModel) => $"Current model: {effectiveModel}.";

    public static string Status(StatusDirective directive, CurrentSettings current) => directive.Name switch
    {
        DirectiveParser.Names.Think => ThinkingStatus(current.Thinking),
        DirectiveParser.Names.Fast => FastStatus(current.Fast),
        DirectiveParser.Names.Usage => UsageStatus(current.ResponseUsage),
        DirectiveParser.Names.Queue => QueueStatus(current.Queue),
        DirectiveParser.Names.Model => ModelStatus(current.Model),
        _ => throw new ArgumentOutOfRangeException(nameof(directive), directive.Name, null),
    };

    // ---- errors ----

    public static string UnrecognizedThinkingLevel(string value) =>
        $"Unrecognized thinking level \"{value}\". Valid levels: off, minimal, low, medium, high, xhigh, adaptive, max, ultra, default.";

    public static string UnrecognizedFastMode(string value) =>
        $"Unrecognized fast mode \"{value}\". Valid modes: auto, on, off, default.";

    public static string UnrecognizedUsageMode(string value) =>
        $"Unrecognized usage mode \"{value}\". Valid modes: off, tokens, full, reset.";

    public static string UnrecognizedQueueMode(string value) =>
        $"Unrecognized queue mode \"{value}\". Valid modes: followup, collect, interrupt, default.";

    public static string InvalidQueueOption(string option) => $"Invalid queue option \"{option}\".";

    public static string InvalidModelRef(string value) => $"Invalid model ref \"{value}\".";

    /// <summary>The reference's allow-list rejection: <c>Model override "p/m" is not allowed by agents.defaults.modelPolicy.allow.</c></summary>
    public static string ModelNotAllowed(ModelRef model) => ModelPolicy.RejectionMessage(model);

    /// <summary>As <see cref="ModelNotAllowed(ModelRef)"/> for a typed ref (normalized when it parses as <c>provider/model</c>).</summary>
    public static string ModelNotAllowed(string modelRef) =>
        ModelRef.TryParse(modelRef, out var parsed)
            ? ModelPolicy.RejectionMessage(parsed)
            : $"Model override \"{modelRef}\" is not allowed by agents.defaults.modelPolicy.allow.";

    private static string QueueOptions(TimeSpan? debounce, int? cap, QueueDropPolicy? drop)
    {
        var parts = new List<string>(3);
        if (debounce is { } d) parts.Add($"debounce {Math.Round(d.TotalMilliseconds).ToString("0", CultureInfo.InvariantCulture)} ms");
        if (cap is { } c) parts.Add($"cap {c.ToString(CultureInfo.InvariantCulture)}");
        if (drop is { } p) parts.Add($"drop {WireNames.ToWire(p)}");
        return string.Join(", ", parts);
    }
}
