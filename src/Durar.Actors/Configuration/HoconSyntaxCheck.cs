namespace Durar.Actors.Configuration;

/// <summary>
/// Akka's HOCON parser silently accepts unbalanced input (<c>a { b = 1</c>, <c>a = [1,</c>) and drops what it cannot
/// read. This pass catches unbalanced braces and brackets and unterminated strings first, so a typo in a config file
/// stops the gateway with its line number instead of running with half a configuration. It also refuses a backslash
/// outside a quoted string (HOCON allows escapes only inside one): Akka's parser loops forever on some of them
/// (<c>a = ["x"\n]</c>, found by the config fuzzing specs), so a typo would hang start-up instead of failing it; for the
/// same reason it refuses a key inside a list (<c>a = ["k": 1]</c>).
/// </summary>
internal static class HoconSyntaxCheck
{
    public static string? FindProblem(string text)
    {
        var stack = new Stack<(char Open, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    break;
                case '#':
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    break;
                case '"' when i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"':
                {
                    var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0) return $"line {line}: unterminated \"\"\" string";
                    line += text.AsSpan(i, end - i).Count('\n');
                    i = end + 2;
                    break;
                }
                case '"':
                {
                    var start = line;
                    i++;
                    while (i < text.Length && text[i] != '"' && text[i] != '\n')
                    {
                        if (text[i] == '\\') i++;
                        i++;
                    }
                    if (i >= text.Length || text[i] != '"') return $"line {start}: unterminated string";
                    break;
                }
                case ':' or '=' when stack.Count > 0 && stack.Peek().Open == '[':
                    // Akka's parser never returns on a key inside a list (a = ["k": 1], found by the config fuzzing specs).
                    return $"line {line}: '{c}' inside a list: a list holds values (write {{ key = value }} for an object)";
                case '\\':
                    return $"line {line}: a backslash outside a quoted string (escapes belong inside \"...\")";
                case '{' or '[':
                    stack.Push((c, line));
                    break;
                case '}' or ']':
                    var expected = c == '}' ? '{' : '[';
                    if (stack.Count == 0) return $"line {line}: unexpected '{c}'";
                    var (open, openLine) = stack.Pop();
                    if (open != expected) return $"line {line}: '{c}' closes the '{open}' opened at line {openLine}";
                    break;
            }
        }
        return stack.Count > 0 ? $"line {stack.Peek().Line}: '{stack.Peek().Open}' is never closed" : null;
    }
}
