using System.Globalization;

namespace Durar.Testing;

/// <summary>What one exchange answers with, resolved from a <see cref="FakeResponse"/> and the request.</summary>
internal sealed class Reply
{
    private const string EchoPrefix = "Hello from fake: ";

    private Reply(string text, FakeToolCall? toolCall, IReadOnlyList<string> pieces, int promptTokens, int completionTokens)
    {
        Text = text;
        ToolCall = toolCall;
        Pieces = pieces;
        PromptTokens = promptTokens;
        CompletionTokens = completionTokens;
    }

    /// <summary>Reply text (empty for a tool call).</summary>
    public string Text { get; }

    public FakeToolCall? ToolCall { get; }

    /// <summary>Streamed content pieces: text pieces, or argument fragments of the tool call.</summary>
    public IReadOnlyList<string> Pieces { get; }

    public int PromptTokens { get; }

    public int CompletionTokens { get; }

    public static Reply Create(FakeResponse response, string lastUserText, int promptWords)
    {
        var promptTokens = response.PromptTokens ?? Math.Max(1, promptWords);
        if (response.ToolCall is { } call)
        {
            var fragments = Split(call.ArgumentsJson, response.Chunks);
            return new Reply("", call, fragments, promptTokens, response.CompletionTokens ?? Math.Max(1, fragments.Count));
        }

        var text = response.Text ?? EchoPrefix + lastUserText;
        var pieces = Split(text, response.Chunks);
        return new Reply(text, null, pieces, promptTokens, response.CompletionTokens ?? pieces.Count);
    }

    /// <summary>Splits so that concatenating the pieces gives back <paramref name="text"/> exactly.</summary>
    public static IReadOnlyList<string> Split(string text, int? count) =>
        count is { } n ? SplitEvenly(text, n) : SplitOnSpaces(text);

    /// <summary>Counts whitespace-separated words.</summary>
    public static int CountWords(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>A new piece starts at every space that follows a non-space, so spaces travel with the next word.</summary>
    private static List<string> SplitOnSpaces(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == ' ' && text[i - 1] != ' ')
            {
                pieces.Add(text[start..i]);
                start = i;
            }
        }

        if (text.Length > 0)
        {
            pieces.Add(text[start..]);
        }

        return pieces;
    }

    /// <summary>Roughly equal pieces measured in text elements, so surrogate pairs and graphemes are never torn.</summary>
    private static List<string> SplitEvenly(string text, int count)
    {
        var starts = new List<int>();
        for (var i = 0; i < text.Length; i += StringInfo.GetNextTextElementLength(text.AsSpan(i)))
        {
            starts.Add(i);
        }

        var pieces = new List<string>();
        if (starts.Count == 0)
        {
            return pieces;
        }

        var n = Math.Clamp(count, 1, starts.Count);
        for (var k = 0; k < n; k++)
        {
            var from = starts[k * starts.Count / n];
            var to = k + 1 == n ? text.Length : starts[(k + 1) * starts.Count / n];
            pieces.Add(text[from..to]);
        }

        return pieces;
    }
}
