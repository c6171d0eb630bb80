using System.Collections.Immutable;

namespace Durar.Actors.Sessions.Directives;

/// <summary>
/// One chat directive typed inside a message (reference items 75–78, 81–83). A message that is only directives updates the
/// session; a directive inside a normal message applies to that message only. Each directive is one nested record.
/// </summary>
internal abstract record Directive
{
    private Directive() { }

    /// <summary>
    /// <c>/model provider/model[@profileId]</c>, <c>/model alias[@profileId]</c> or <c>/model default</c>.
    /// <see cref="Ref"/> is kept as typed (trimmed); the actor resolves aliases and normalizes the provider.
    /// </summary>
    public sealed record ModelDirective(string? Ref, string? ProfileId, bool Default) : Directive;

    /// <summary><c>/think &lt;level&gt;</c> (alias <c>/thinking</c>); <see cref="Clear"/> for <c>default|inherit|clear|reset|unpin</c>.</summary>
    public sealed record ThinkDirective(ThinkingLevel? Level, bool Clear) : Directive;

    /// <summary><c>/fast auto|on|off|default</c>.</summary>
    public sealed record FastDirective(FastMode? Mode, bool Clear) : Directive;

    /// <summary><c>/usage off|tokens|full|reset</c>; <c>off</c> is an explicit value, distinct from <see cref="Clear"/>.</summary>
    public sealed record UsageDirective(ResponseUsageMode? Mode, bool Clear) : Directive;

    /// <summary>
    /// <c>/queue &lt;mode&gt; [debounce:0.5s] [cap:25] [drop:old|new|summarize]</c> or <c>/queue default|reset</c>.
    /// <see cref="Mode"/> is null with options only (<c>/queue debounce:2s</c>) or when clearing.
    /// </summary>
    public sealed record QueueDirective(QueueMode? Mode, bool Clear, TimeSpan? Debounce, int? Cap, QueueDropPolicy? Drop) : Directive
    {
        public bool HasOptions => Debounce is not null || Cap is not null || Drop is not null;
    }

    /// <summary><c>/new</c> (<see cref="IsReset"/> false) or <c>/reset</c> (true).</summary>
    public sealed record NewSessionDirective(bool IsReset) : Directive;

    /// <summary>
    /// A directive that needs an argument but was typed without one (<c>/think</c> alone): asks for the current value.
    /// <see cref="Name"/> is the canonical directive name: <c>model</c>, <c>think</c>, <c>fast</c>, <c>usage</c> or <c>queue</c>.
    /// </summary>
    public sealed record StatusDirective(string Name) : Directive;
}

/// <summary>A directive with an invalid argument (not applied). <see cref="Directive"/> is the canonical name (<c>think</c>).</summary>
internal sealed record DirectiveError(string Directive, string Message);

/// <summary>A message split into its directives (in order), the remaining text, and the directive errors.</summary>
internal sealed record ParsedMessage(ImmutableArray<Directive> Directives, string Text, ImmutableArray<DirectiveError> Errors)
{
    /// <summary>At least one directive or error, and no other text: the message only updates the session.</summary>
    public bool IsDirectiveOnly => (Directives.Length > 0 || Errors.Length > 0) && string.IsNullOrWhiteSpace(Text);

    public bool HasErrors => Errors.Length > 0;
}
