namespace Durar.Actors;

/// <summary>Actor names and registry keys in one place (kebab-case), so paths are predictable in logs and tests.</summary>
public static class ActorNames
{
    public const string Providers = "providers";

    public const string AuthProfiles = "auth-profiles";

    public static string Provider(string providerId) => "provider-" + Uri.EscapeDataString(providerId);

    public static string Key(string keyId) => "key-" + Uri.EscapeDataString(keyId);
}
