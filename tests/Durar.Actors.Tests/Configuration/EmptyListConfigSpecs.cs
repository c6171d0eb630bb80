using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Every empty list loads, wherever it stands and however it is written (issue 13: a plain JSON config whose object ends in
/// an empty list was refused with "expected a list", an Akka.Hocon quirk the loader handled only in some layouts). One
/// configuration is generated per case: the string lists of the settings (fallbacks, the allowlist, seed nodes,
/// discovery endpoints) and a list inside free-form <c>params</c>, each present or not, empty and spelled <c>[]</c>,
/// <c>[ ]</c> or across lines, first, in the middle or last of its object; written as JSON, JSON5 (unquoted keys, a
/// trailing comma after every last member, comments) or HOCON, on one line or many, with or without the root braces. Each must load with its lists empty and its other values intact. CsCheck prints the
/// seed of a failing case (replay it with <c>CsCheck_Seed</c>).
/// </summary>
public sealed class EmptyListConfigSpecs
{
    private abstract record Node;
    private sealed record Obj(IReadOnlyList<(string Key, Node Value)> Members) : Node;
    private sealed record Str(string Value) : Node;
    private sealed record EmptyList(string Spelling) : Node;
    private sealed record ListOfObj(Obj Item) : Node;

    private sealed record Case(bool Json, bool Multiline, bool RootBraces, bool[] Present, int[] Spelling, int Order, bool Json5 = false);

    private static readonly string[] Spellings = ["[]", "[ ]", "[\n]", "[\n  \n]", "[\t]"];

    private static readonly Gen<Case> Cases =
        from json in Gen.Bool
        from multiline in Gen.Bool
        from rootBraces in Gen.Bool
        from present in Gen.Bool.Array[5]
        from spelling in Gen.Int[0, Spellings.Length - 1].Array[5]
        from order in Gen.Int
        from json5 in Gen.Bool
        select new Case(json, multiline, rootBraces, present, spelling, order, json && json5);

    [Fact]
    public void Should_load_a_plain_json_config_whose_object_ends_in_an_empty_list() =>
        Check(new Case(Json: true, Multiline: false, RootBraces: true, [true, false, false, false, false], [0, 0, 0, 0, 0], Order: 0));

    [Fact]
    public void Should_keep_the_items_of_a_json_list_that_ends_its_object()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            """{ "agents": { "defaults": { "model": { "primary": "a/b", "fallbacks": ["c/d", "e/f"] } } } }"""));
        Assert.Equal(new[] { "c/d", "e/f" }, settings.Agents.Fallbacks.ToArray());
    }

    [Fact]
    public void Should_load_every_empty_list_in_every_position_and_syntax() =>
        Cases.Sample(Check, iter: 2000);

    private static void Check(Case c)
    {
        var text = Render(Tree(c), c, root: true, depth: 0);
        DurarSettings settings;
        try
        {
            settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(text));
        }
        catch (DurarConfigException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- config ---\n{text}");
        }
        var agents = settings.Agents;
        Assert.True(agents.Primary == "fake/m", text);
        Assert.True(agents.Fallbacks.IsEmpty, text);
        Assert.True(agents.Allow.IsEmpty, text);
        Assert.True(settings.Gateway.Cluster.SeedNodes.IsEmpty, text);
        var entry = agents.Models["fake/m"];
        Assert.True(entry.Alias == "M", text);
        if (c.Present[4]) Assert.True(entry.Params["stop"] is JsonArray { Count: 0 }, text);
    }

    /// <summary>The configuration of a case: the five lists where <see cref="Case.Present"/> says, members in a shuffled order.</summary>
    private static Obj Tree(Case c)
    {
        var random = new Random(c.Order);
        Node List(int i) => new EmptyList(Spellings[c.Spelling[i]]);
        Obj O(params (string Key, Node? Value)[] members) =>
            new([.. members.Where(m => m.Value is not null).Select(m => (m.Key, m.Value!)).OrderBy(_ => random.Next())]);
        (string Key, Node? Value) If(int i, string key) => (key, c.Present[i] ? List(i) : null);

        var model = O(("primary", new Str("fake/m")), If(0, "fallbacks"));
        var policy = O(If(1, "allow"), ("mode", new Str("x")));
        var entry = O(("alias", new Str("M")), ("params", O(If(4, "stop"), ("temperature", new Str("0.5")))));
        var agents = O(("defaults", O(("model", model), ("modelPolicy", policy), ("models", O(("fake/m", entry))))));
        var provider = O(("baseUrl", new Str("http://127.0.0.1:9")), ("api", new Str("openai-completions")),
            ("apiKey", new Str("sk-empty-list-0001")), ("models", new ListOfObj(O(("id", new Str("m"))))));
        var models = O(("providers", O(("fake", provider))));
        var discovery = O(If(3, "endpoints"), ("serviceName", new Str("durar")));
        var gateway = O(("cluster", O(If(2, "seedNodes"), ("hostname", new Str("127.0.0.1")), ("discovery", discovery))));
        return O(("agents", agents), ("models", models), ("gateway", gateway));
    }

    private static string Render(Node node, Case c, bool root, int depth)
    {
        var nl = c.Multiline ? "\n" + new string(' ', 2 * (depth + 1)) : " ";
        var end = c.Multiline ? "\n" + new string(' ', 2 * depth) : " ";
        switch (node)
        {
            case Str s:
                return "\"" + s.Value + "\"";
            case EmptyList l:
                return l.Spelling;
            case ListOfObj l:
                return "[" + Render(l.Item, c, false, depth + 1) + "]";
            case Obj o:
            {
                var b = new StringBuilder();
                var braces = !root || c.Json || c.RootBraces;
                if (braces) b.Append('{');
                if (c.Json5 && c.Multiline) b.Append(nl).Append("// a JSON5 comment");
                for (var i = 0; i < o.Members.Count; i++)
                {
                    var (key, value) = o.Members[i];
                    // Members of a root without braces go on their own lines (Akka.Hocon reads no commas there).
                    if (braces || i > 0) b.Append(braces ? nl : "\n");
                    b.Append((c.Json && !c.Json5) || key.Contains('/') ? "\"" + key + "\"" : key);
                    // Akka.Hocon reads no comma after "key { ... }" on one line: there an object gets "key = { ... }".
                    b.Append(c.Json ? ": " : value is Obj && c.Multiline ? " " : " = ");
                    b.Append(Render(value, c, false, depth + 1));
                    if (i < o.Members.Count - 1 && braces && (c.Json || !c.Multiline)) b.Append(',');
                    else if (c.Json5 && braces) b.Append(','); // JSON5's trailing comma
                }
                if (braces) b.Append(end).Append('}');
                return b.ToString();
            }
            default:
                throw new InvalidOperationException(node.GetType().Name);
        }
    }
}
