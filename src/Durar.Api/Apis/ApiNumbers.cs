namespace Durar.Api.Apis;

/// <summary>Number formatting shared by the JSON writers.</summary>
internal static class ApiNumbers
{
    /// <summary>
    /// Drops trailing zeros of a decimal's scale (0.0 → 0, 0.01350 → 0.0135), so a value reads the same whether it was
    /// computed on this node or arrived from another one (remote messages can change a decimal's scale, not its value).
    /// </summary>
    public static decimal Normalize(decimal value) => value / 1.0000000000000000000000000000m;
}
