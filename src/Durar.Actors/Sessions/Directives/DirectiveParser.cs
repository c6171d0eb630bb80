using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Durar.Actors.Models;
using static Durar.Actors.Sessions.Directives.Directive;

namespace Durar.Actors.Sessions.Directives;

/// <summary>
/// Finds chat directives in a message (reference items 75–78, 83).
/// <list type="bullet">
/// <item>A directive is a whitespace-separated token <c>/name</c> (name case-insensitive) whose name is one of <c>model</c>,
/// <c>think</c>, <c>thinking</c>, <c>fast</c>, <c>usage</c>, <c>queue</c>, <c>new</c>, <c>reset</c>. Anything else
/// (<c>/usr/bin/env</c>, <c>a/b</c>, URLs, <c>/foo</c>, <c>/think,</c>) stays in the text untouched.</item>
/// <item>Arguments are the following tokens on the <b>same line</b> that do not start with <c>/</c>: one for model/think/fast/usage
/// (plus an optional <c>-s</c>/<c>--session</c> after the model ref, accepted and ignored: Durar's <c>/model</c> is always
/// session-only), the mode and then any <c>debounce:|cap:|drop:</c> options for queue. A directive that needs an argument and
/// has none is a <see cref="StatusDirective"/>.</item>
/// <item>Recognized directives and their arguments (valid or not) are removed; the whitespace where they stood collapses to one
/// space, or to the whitespace run with the most line breaks around them (so removing a whole line removes that line), and
/// disappears at the start and end of the text. Text that had nothing removed is returned exactly as given.</item>
/// <item>An invalid argument gives a <see cref="DirectiveError"/> with the reference's text, and no directive.</item>
/// </list>
/// </summary>
internal static class DirectiveParser
{
    /// <summary>Canonical directive names (as used in <see cref="StatusDirective.Name"/> and <see cref="DirectiveError.Directive"/>).</summary>
    public static class Names
    {
        public const string Model = "model";
        public const string Think = "think";
        public const string Fast = "fast";
        public const string Usage = "usage";
        public const string Queue = "queue";
        public const string New = "new";
        public const string Reset = "reset";
    }

    private static readonly ImmutableDictionary<string, string> Known = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["model"] = Names.Model,
        ["think"] = Names.Think,
        ["thinking"] = Names.Think,
        ["fast"] = Names.Fast,
        ["usage"] = Names.Usage,
        ["queue"] = Names.Queue,
        ["new"] = Names.New,
        ["reset"] = Names.Reset,
    }.ToImmutableDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly record struct Token(int Start, int End, string Text);

    /// <summary>The canonical name of a directive token (<c>/Thinking</c> → <c>think</c>), or null when it is not one.</summary>
    public static string? DirectiveName(string token) =>
        token.Length > 1 && token[0] == '/' && Known.TryGetValue(token[1..], out var name) ? name : null;

    public static ParsedMessage Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var tokens = Tokenize(message);
        var removed = new bool[tokens.Count];
        var directives = ImmutableArray.CreateBuilder<Directive>();
        var errors = ImmutableArray.CreateBuilder<DirectiveError>();

        for (var i = 0; i < tokens.Count; i++)
        {
            if (DirectiveName(tokens[i].Text) is not { } name) continue;
            removed[i] = true;
            // Candidate arguments: the following tokens on the same line that do not start with '/'.
            var args = new List<int>();
            for (var j = i + 1; j < tokens.Count && IsArgument(message, tokens[j - 1], tokens[j]); j++) args.Add(j);

            var consumed = 0;
            Directive? directive = null;
            DirectiveError? error = null;
            switch (name)
            {
                case Names.New:
                case Names.Reset:
                    directive = new NewSessionDirective(name == Names.Reset);
                    break;
                case Names.Think:
                case Names.Fast:
                case Names.Usage:
                    if (args.Count == 0) { directive = new StatusDirective(name); break; }
                    consumed = 1;
                    (directive, error) = ParseSimple(name, tokens[args[0]].Text);
                    break;
                case Names.Model:
                    if (args.Count == 0) { directive = new StatusDirective(name); break; }
                    consumed = 1;
                    if (args.Count > 1 && tokens[args[1]].Text is "-s" or "--session") consumed = 2;
                    (directive, error) = ParseModel(tokens[args[0]].Text);
                    break;
                case Names.Queue:
                    if (args.Count == 0) { directive = new StatusDirective(name); break; }
                    (directive, error, consumed) = ParseQueue(args.Select(a => tokens[a].Text).ToList());
                    break;
            }
            for (var k = 0; k < consumed; k++) removed[args[k]] = true;
            if (directive is not null) directives.Add(directive);
            if (error is not null) errors.Add(error);
            i += consumed;
        }

        return new ParsedMessage(directives.ToImmutable(), Rebuild(message, tokens, removed), errors.ToImmutable());
    }

    private static (Directive?, DirectiveError?) ParseSimple(string name, string arg)
    {
        var clear = WireNames.IsClearWord(arg);
        switch (name)
        {
            case Names.Think:
                if (clear) return (new ThinkDirective(null, true), null);
                return WireNames.TryParseThinking(arg, out var level)
                    ? (new ThinkDirective(level, false), null)
                    : (null, new DirectiveError(name, DirectiveReplies.UnrecognizedThinkingLevel(arg)));
            case Names.Fast:
                if (clear) return (new FastDirective(null, true), null);
                return WireNames.TryParseFast(arg, out var fast)
                    ? (new FastDirective(fast, false), null)
                    : (null, new DirectiveError(name, DirectiveReplies.UnrecognizedFastMode(arg)));
            default:
                if (clear) return (new UsageDirective(null, true), null);
                return WireNames.TryParseResponseUsage(arg, out var usage)
                    ? (new UsageDirective(usage, false), null)
                    : (null, new DirectiveError(name, DirectiveReplies.UnrecognizedUsageMode(arg)));
        }
    }

    /// <summary>
    /// <c>ref[@profile]</c> or <c>default</c>. The profile starts at the first <c>@</c> followed by <c>provider:rest</c> with no
    /// <c>@</c> or <c>/</c> in <c>provider</c>, so e-mail profile ids (<c>openai:me@x.com</c>) and <c>@</c> inside model ids
    /// (<c>vertex/claude@2025@anthropic:default</c>) both split correctly.
    /// </summary>
    private static (Directive?, DirectiveError?) ParseModel(string arg)
    {
        if (string.Equals(arg, "default", StringComparison.OrdinalIgnoreCase)) return (new ModelDirective(null, null, true), null);
        var invalid = new DirectiveError(Names.Model, DirectiveReplies.InvalidModelRef(arg));

        string refText = arg;
        string? profile = null;
        for (var at = arg.IndexOf('@'); at >= 0; at = arg.IndexOf('@', at + 1))
        {
            var rest = arg[(at + 1)..];
            var colon = rest.IndexOf(':');
            if (colon <= 0 || rest.AsSpan(0, colon).IndexOfAny('@', '/') >= 0) continue;
            refText = arg[..at];
            profile = rest;
            if (colon == rest.Length - 1) return (null, invalid); // "provider:" with no id
            break;
        }

        var validRef = refText.Contains('/') ? ModelRef.TryParse(refText, out _) : ModelRef.IsValidBareName(refText);
        if (!validRef || string.Equals(refText, "default", StringComparison.OrdinalIgnoreCase)) return (null, invalid);
        return (new ModelDirective(refText, profile, false), null);
    }

    /// <summary><c>mode [debounce:&lt;n&gt;(ms|s|m)] [cap:&lt;n≥1&gt;] [drop:old|new|summarize]</c>, or options only.</summary>
    private static (Directive?, DirectiveError?, int Consumed) ParseQueue(List<string> args)
    {
        QueueMode? mode = null;
        var clear = false;
        DirectiveError? error = null;
        var index = 0;
        if (!IsQueueOption(args[0]))
        {
            index = 1;
            if (WireNames.IsClearWord(args[0])) clear = true;
            else if (WireNames.TryParseQueue(args[0], out var m)) mode = m;
            else error = new DirectiveError(Names.Queue, DirectiveReplies.UnrecognizedQueueMode(args[0]));
        }

        TimeSpan? debounce = null;
        int? cap = null;
        QueueDropPolicy? drop = null;
        for (; index < args.Count && IsQueueOption(args[index]); index++)
        {
            var option = args[index];
            var colon = option.IndexOf(':');
            var key = option[..colon].ToLowerInvariant();
            var value = option[(colon + 1)..];
            var ok = false;
            if (key == "debounce" && TryParseDuration(value, out var d)) { debounce = d; ok = true; }
            else if (key == "cap" && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c >= 1) { cap = c; ok = true; }
            else if (key == "drop" && WireNames.TryParseQueueDrop(value, out var p)) { drop = p; ok = true; }
            if (!ok) error ??= new DirectiveError(Names.Queue, DirectiveReplies.InvalidQueueOption(option));
        }

        return error is not null ? (null, error, index) : (new QueueDirective(mode, clear, debounce, cap, drop), null, index);
    }

    private static bool IsQueueOption(string token)
    {
        var colon = token.IndexOf(':');
        if (colon <= 0) return false;
        var key = token[..colon];
        return key.Equals("debounce", StringComparison.OrdinalIgnoreCase)
            || key.Equals("cap", StringComparison.OrdinalIgnoreCase)
            || key.Equals("drop", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>500</c> / <c>500ms</c> (milliseconds), <c>0.5s</c>, <c>1m</c>; non-negative, at most one hour.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var unit = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? "ms"
            : text.EndsWith('s') || text.EndsWith('S') ? "s"
            : text.EndsWith('m') || text.EndsWith('M') ? "m"
            : "";
        var number = text[..^unit.Length];
        if (number.Length == 0 || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        var ms = unit switch { "s" => n * 1000m, "m" => n * 60_000m, _ => n };
        if (ms > 3_600_000m) return false;
        value = TimeSpan.FromTicks((long)decimal.Round(ms * TimeSpan.TicksPerMillisecond));
        return true;
    }

    private static bool IsArgument(string message, Token previous, Token next)
    {
        if (next.Text[0] == '/') return false;
        for (var c = previous.End; c < next.Start; c++)
            if (message[c] is '\n' or '\r') return false;
        return true;
    }

    private static List<Token> Tokenize(string message)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < message.Length)
        {
            while (i < message.Length && char.IsWhiteSpace(message[i])) i++;
            if (i >= message.Length) break;
            var start = i;
            while (i < message.Length && !char.IsWhiteSpace(message[i])) i++;
            tokens.Add(new Token(start, i, message[start..i]));
        }
        return tokens;
    }

    private static string Rebuild(string message, List<Token> tokens, bool[] removed)
    {
        if (!removed.Contains(true)) return message;
        var sb = new StringBuilder(message.Length);
        Token? previousKept = null;
        var removedSince = false;
        var gaps = new List<string>(); // whitespace runs since the previous kept token
        var cursor = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            gaps.Add(message[cursor..t.Start]);
            cursor = t.End;
            if (removed[i]) { removedSince = true; continue; }

            if (previousKept is null) { if (!removedSince) sb.Append(gaps[0]); }
            else if (!removedSince) sb.Append(gaps[0]);
            else sb.Append(MergeWhitespace(gaps));
            sb.Append(t.Text);
            previousKept = t;
            removedSince = false;
            gaps.Clear();
        }
        if (previousKept is not null && !removedSince) sb.Append(message[cursor..]);
        return sb.ToString();
    }

    /// <summary>The gap with the most line breaks (the last on a tie, to keep the next line's indentation), or one space.</summary>
    private static string MergeWhitespace(List<string> gaps)
    {
        string? best = null;
        var bestBreaks = 0;
        foreach (var gap in gaps)
        {
            var breaks = LineBreaks(gap);
            if (breaks > 0 && breaks >= bestBreaks) { best = gap; bestBreaks = breaks; }
        }
        return best ?? " ";
    }

    private static int LineBreaks(string s)
    {
        var n = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\n') n++;
            else if (s[i] == '\r' && (i + 1 >= s.Length || s[i + 1] != '\n')) n++;
        }
        return n;
    }
}
