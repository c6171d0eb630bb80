using System.Collections.Frozen;
using System.Text.Json;

namespace Durar.Actors.Transports;

/// <summary>
/// A field of the request that a wire cannot carry to one model, found before any upstream call
/// (<see cref="IChatTransport.Unsupported"/>). It exists so a request is never sent with a field silently dropped: the run skips
/// that candidate without leasing a key, and when no candidate can carry the request the client gets a 400
/// <c>unsupported_parameter</c> naming <see cref="Param"/>.
/// </summary>
/// <param name="Param">The field as the client wrote it, as a path (<c>n</c>, <c>messages[2].content[0]</c>).</param>
/// <param name="Message">What cannot cross and why, naming the field and the model.</param>
internal sealed record UnsupportedField(string Param, string Message)
{
    /// <summary>The error <c>code</c> of a request refused for such a field (OpenAI's own code for it).</summary>
    public const string Code = "unsupported_parameter";

    /// <summary>
    /// The first member of <paramref name="o"/> that is neither in <paramref name="known"/> nor null, as a path
    /// (<c>path.name</c>); null when there is none or <paramref name="o"/> is not an object. Every wire's field table refuses
    /// such a member with its own words.
    /// </summary>
    public static string? UnknownMember(JsonElement o, FrozenSet<string> known, string path)
    {
        if (o.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in o.EnumerateObject())
            if (!known.Contains(p.Name) && p.Value.ValueKind != JsonValueKind.Null)
                return $"{path}.{p.Name}";
        return null;
    }

    /// <summary>Whether <paramref name="v"/> is the number <paramref name="expected"/> (a field sent at its neutral value).</summary>
    public static bool IsNumber(JsonElement v, double expected) => v.ValueKind == JsonValueKind.Number && v.GetDouble() == expected;
}
