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
/// <item>The cost is bounded whatever the message (it is parsed inside the session actor): directives are looked for only
/// in the first <see cref="ScanLimit"/> characters (cut back to a whitespace boundary), at most <see cref="MaxDirectives"/>
/// of them; the rest of the message is kept as written, copied once. Every step is linear in what it scans (no regex, no
/// rescans), so a message costs at most a fixed multiple of <see cref="ScanLimit"/> steps plus the copy
/// (<see cref="Parse(string, out int)"/> reports the steps).</item>
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

    /// <summary>Directives are looked for in this many leading characters of a message; the rest is kept as written.</summary>
    internal const int ScanLimit = 8192;

    /// <summary>At most this many directives are taken from one message; later ones stay in the text.</summary>
    internal const int MaxDirectives = 16;

    private readonly record struct Token(int Start, int End, string Text);

    /// <summary>Counts the parser's steps (characters and tokens examined), so specs can pin its cost without a clock.</summary>
    private sealed class Work
    {
        public int Steps;
    }

    /// <summary>The canonical name of a directive token (<c>/Thinking</c> → <c>think</c>), or null when it is not one.</summary>
    public static string? DirectiveName(string token) =>
        token.Length > 1 && token[0] == '/' && Known.TryGetValue(token[1..], out var name) ? name : null;

    public static ParsedMessage Parse(string message) => Parse(message, out _);

    /// <summary>As <see cref="Parse(string)"/>, reporting the steps taken (characters and tokens examined, not the final copy).</summary>
    internal static ParsedMessage Parse(string message, out int steps)
    {
        ArgumentNullException.ThrowIfNull(message);
        var work = new Work();
        var window = WindowEnd(message, work);
        var tokens = Tokenize(message, window, work);
        var removed = new bool[tokens.Count];
        var directives = ImmutableArray.CreateBuilder<Directive>();
        var errors = ImmutableArray.CreateBuilder<DirectiveError>();
        var found = 0;

        for (var i = 0; i < tokens.Count && found < MaxDirectives; i++)
        {
            work.Steps++;
            if (DirectiveName(tokens[i].Text) is not { } name) continue;
            found++;
            removed[i] = true;
            // Candidate arguments: the following tokens on the same line that do not start with '/' (each token is looked
            // at by one directive only: the scan stops at the next token starting with '/').
            var args = new List<int>();
            for (var j = i + 1; j < tokens.Count && IsArgument(message, tokens[j - 1], tokens[j], work); j++) args.Add(j);

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
                    (directive, error) = ParseModel(tokens[args[0]].Text, work);
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

        var text = Rebuild(message, window, tokens, removed, work);
        steps = work.Steps;
        return new ParsedMessage(directives.ToImmutable(), text, errors.ToImmutable());
    }

    /// <summary>
    /// Where the scanned part of <paramref name="message"/> ends: all of it up to <see cref="ScanLimit"/> characters, else
    /// <see cref="ScanLimit"/> moved back to the start of the token it falls in (so no token is cut in two).
    /// </summary>
    private static int WindowEnd(string message, Work work)
    {
        if (message.Length <= ScanLimit) return message.Length;
        var end = ScanLimit;
        if (char.IsWhiteSpace(message[end])) return end;
        while (end > 0 && !char.IsWhiteSpace(message[end - 1])) { end--; work.Steps++; }
        return end;
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
    private static (Directive?, DirectiveError?) ParseModel(string arg, Work work)
    {
        if (string.Equals(arg, "default", StringComparison.OrdinalIgnoreCase)) return (new ModelDirective(null, null, true), null);
        var invalid = new DirectiveError(Names.Model, DirectiveReplies.InvalidModelRef(arg));

        string refText = arg;
        string? profile = null;
        // One pass: after each '@', the provider runs to the first ':', and must hold no '@' or '/'; a scan that meets '@'
        // first goes on from that '@' (so every character is looked at once, however many '@' there are).
        var at = arg.IndexOf('@');
        while (at >= 0)
        {
            var c = at + 1;
            while (c < arg.Length && arg[c] is not (':' or '@' or '/')) { c++; work.Steps++; }
            if (c < arg.Length && arg[c] == ':' && c > at + 1)
            {
                refText = arg[..at];
                profile = arg[(at + 1)..];
                if (c == arg.Length - 1) return (null, invalid); // "provider:" with no id
                break;
            }
            if (c < arg.Length && arg[c] == '@') { at = c; continue; }
            // Stopped at '/' or ':' right after '@': the next '@' may still start a profile.
            at = c < arg.Length ? arg.IndexOf('@', c) : -1;
            if (at >= 0) work.Steps += at - c;
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

    private static bool IsArgument(string message, Token previous, Token next, Work work)
    {
        if (next.Text[0] == '/') return false;
        for (var c = previous.End; c < next.Start; c++)
        {
            work.Steps++;
            if (message[c] is '\n' or '\r') return false;
        }
        return true;
    }

    /// <summary>The whitespace-separated tokens of the first <paramref name="end"/> characters.</summary>
    private static List<Token> Tokenize(string message, int end, Work work)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < end)
        {
            while (i < end && char.IsWhiteSpace(message[i])) { i++; work.Steps++; }
            if (i >= end) break;
            var start = i;
            while (i < end && !char.IsWhiteSpace(message[i])) { i++; work.Steps++; }
            tokens.Add(new Token(start, i, message[start..i]));
        }
        return tokens;
    }

    /// <summary>
    /// The text without the removed tokens. The unscanned rest of the message (from <paramref name="window"/>) is one kept
    /// piece, copied as written: when directives stand just before it and it starts with whitespace, that whitespace
    /// separates it; when nothing before it is kept, its leading whitespace goes (as at the start of any text).
    /// </summary>
    private static string Rebuild(string message, int window, List<Token> tokens, bool[] removed, Work work)
    {
        if (Array.IndexOf(removed, true) < 0) return message;
        var sb = new StringBuilder(message.Length);
        Token? previousKept = null;
        var removedSince = false;
        var gaps = new List<string>(); // whitespace runs since the previous kept token
        var cursor = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            work.Steps++;
            var t = tokens[i];
            gaps.Add(message[cursor..t.Start]);
            cursor = t.End;
            if (removed[i]) { removedSince = true; continue; }

            if (previousKept is null) { if (!removedSince) sb.Append(gaps[0]); }
            else if (!removedSince) sb.Append(gaps[0]);
            else sb.Append(MergeWhitespace(gaps, work));
            sb.Append(t.Text);
            previousKept = t;
            removedSince = false;
            gaps.Clear();
        }
        if (window < message.Length)
        {
            var tail = message.AsSpan(window);
            gaps.Add(message[cursor..window]);
            if (previousKept is null && removedSince) tail = tail.TrimStart();
            else if (!removedSince) sb.Append(gaps[0]);
            else if (!char.IsWhiteSpace(tail[0])) sb.Append(MergeWhitespace(gaps, work));
            sb.Append(tail);
        }
        else if (previousKept is not null && !removedSince) sb.Append(message[cursor..]);
        return sb.ToString();
    }

    /// <summary>The gap with the most line breaks (the last on a tie, to keep the next line's indentation), or one space.</summary>
    private static string MergeWhitespace(List<string> gaps, Work work)
    {
        string? best = null;
        var bestBreaks = 0;
        foreach (var gap in gaps)
        {
            work.Steps += gap.Length + 1;
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
