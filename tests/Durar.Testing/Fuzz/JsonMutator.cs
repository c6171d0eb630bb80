using System.Text;
using System.Text.Json.Nodes;

namespace Durar.Testing.Fuzz;

/// <summary>
/// Turns a valid JSON document into a broken or hostile one, deterministically from a case number: values of the wrong
/// kind or range, members removed or added, deep nesting, long strings, and at the byte level truncation, invalid UTF-8,
/// lone surrogate escapes and stray bytes. It exists for the fuzzing specs of every parser that reads JSON from outside
/// (client bodies of every dialect, upstream answers and stream frames, configuration): starting from a valid input keeps
/// most cases deep inside the parser instead of failing at its first check. The same case number always gives the same
/// bytes, so a failing case is replayed from the number alone.
/// </summary>
public static class JsonMutator
{
    private static readonly string[] Keys =
    [
        "model", "messages", "role", "content", "type", "text", "stream", "tools", "tool_choice", "n", "fallbacks",
        "response_format", "max_tokens", "input", "system", "choices", "delta", "usage", "error", "id", "index", "x",
        "", "\u00e9\u00e8", "__proto__",
    ];

    /// <summary>The mutated bytes of case <paramref name="caseNumber"/> for <paramref name="seedJson"/>.</summary>
    public static byte[] Mutate(string seedJson, int caseNumber)
    {
        var random = new Random(caseNumber);
        var root = JsonNode.Parse(seedJson);
        var treeMutations = random.Next(0, 4);
        for (var i = 0; i < treeMutations; i++) root = MutateTree(root, random);
        var bytes = Encoding.UTF8.GetBytes(root?.ToJsonString() ?? "null");
        var rawMutations = random.Next(0, 10) < 3 ? random.Next(1, 3) : 0;
        for (var i = 0; i < rawMutations; i++) bytes = MutateBytes(bytes, random);
        return bytes;
    }

    /// <summary>The same case as text (invalid UTF-8 decoded with replacement characters), for parsers that take strings.</summary>
    public static string MutateText(string seedJson, int caseNumber) => Encoding.UTF8.GetString(Mutate(seedJson, caseNumber));

    private static JsonNode? MutateTree(JsonNode? root, Random random)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        if (nodes.Count == 0 || random.Next(20) == 0) return RandomValue(random, depth: 0);
        var target = nodes[random.Next(nodes.Count)];
        switch (random.Next(6))
        {
            case 0 when target.Parent is JsonObject parent:
                parent.Remove(target.GetPropertyName());
                break;
            case 1 when target is JsonObject obj:
                obj[Keys[random.Next(Keys.Length)]] = RandomValue(random, depth: 0);
                break;
            case 2 when target is JsonArray array:
                array.Add(RandomValue(random, depth: 0));
                break;
            case 3:
                Replace(root, target, new JsonArray(target.DeepClone()));
                break;
            default:
                return Replace(root, target, RandomValue(random, depth: 0));
        }
        return root;
    }

    private static JsonNode? Replace(JsonNode? root, JsonNode target, JsonNode? replacement)
    {
        switch (target.Parent)
        {
            case JsonObject parent:
                parent[target.GetPropertyName()] = replacement;
                return root;
            case JsonArray array:
                array[target.GetElementIndex()] = replacement;
                return root;
            default:
                return replacement; // the root itself
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null) return;
        into.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj) Collect(child, into);
                break;
            case JsonArray array:
                foreach (var child in array) Collect(child, into);
                break;
        }
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 2 ? 14 : 17) switch
    {
        0 => null,
        1 => JsonValue.Create(true),
        2 => JsonValue.Create(false),
        3 => JsonValue.Create(0),
        4 => JsonValue.Create(-1),
        5 => JsonValue.Create((long)int.MaxValue + 1),
        6 => JsonValue.Create(long.MinValue),
        7 => JsonValue.Create(1e308),
        8 => JsonValue.Create(0.5),
        9 => JsonValue.Create(""),
        10 => JsonValue.Create("x"),
        11 => JsonValue.Create(new string('w', random.Next(1_000, 20_000))),
        12 => JsonValue.Create("\u0000\u001f\u2028\ud83d\ude00 <script>"),
        13 => JsonValue.Create(random.Next(2) == 0 ? "user" : "assistant"),
        14 => new JsonObject(),
        15 => new JsonArray(RandomValue(random, depth + 1), RandomValue(random, depth + 1)),
        _ => Nest(random.Next(2) == 0 ? 40 : 200),
    };

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 0; i < depth; i++) node = new JsonArray(node);
        return node;
    }

    private static byte[] MutateBytes(byte[] bytes, Random random)
    {
        if (bytes.Length == 0) return [(byte)'{'];
        var at = random.Next(bytes.Length);
        return random.Next(5) switch
        {
            0 => bytes[..at], // truncated
            1 => [.. bytes[..at], 0xC3, 0x28, .. bytes[at..]], // invalid UTF-8
            2 => InsertAfterQuote(bytes, at, "\\ud800"u8), // a lone surrogate escape inside a string
            3 => [.. bytes[..at], (byte)random.Next(256), .. bytes[(at + 1)..]], // one byte changed
            _ => [.. bytes[..at], .. "\"\":"u8, .. bytes[at..]], // stray syntax
        };
    }

    private static byte[] InsertAfterQuote(byte[] bytes, int from, ReadOnlySpan<byte> insert)
    {
        var quote = bytes.AsSpan(from).IndexOf((byte)'"');
        if (quote < 0) quote = bytes.AsSpan().IndexOf((byte)'"') - from;
        if (quote + from < 0) return bytes;
        var at = from + quote + 1;
        return [.. bytes[..at], .. insert, .. bytes[at..]];
    }
}
