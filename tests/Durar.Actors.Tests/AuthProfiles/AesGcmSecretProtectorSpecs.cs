using System.Security.Cryptography;
using System.Text;
using Akka.Configuration;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.AuthProfiles;

/// <summary>
/// The shared-key protector every node of a cluster uses (<c>gateway.secrets.key</c>): round trips, tamper detection, a
/// clear error for another node's key, dispatch to Data Protection by prefix, and start-up errors for a malformed key.
/// </summary>
public sealed class AesGcmSecretProtectorSpecs : IDisposable
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly string _dataDir = Directory.CreateTempSubdirectory("durar-aesgcm-").FullName;

    [Theory]
    [InlineData("sk-live-1234")]
    [InlineData("")]
    [InlineData("ünïcode ✓ key with \"quotes\" and a very long tail ...................................................")]
    public void Should_round_trip_a_secret_on_another_instance_with_the_same_key(string secret)
    {
        var writer = new AesGcmSecretProtector(Key);
        var reader = new AesGcmSecretProtector(Key.ToArray());

        var sealedText = writer.Protect(secret);

        Assert.StartsWith(AesGcmSecretProtector.Prefix, sealedText, StringComparison.Ordinal);
        Assert.Equal(secret, reader.Unprotect(sealedText));
        if (secret.Length > 0) Assert.DoesNotContain(secret, sealedText, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_use_a_fresh_nonce_for_every_secret()
    {
        var protector = new AesGcmSecretProtector(Key);

        var texts = Enumerable.Range(0, 50).Select(_ => protector.Protect("same-secret")).ToList();

        Assert.Equal(50, texts.Distinct(StringComparer.Ordinal).Count());
        Assert.All(texts, t => Assert.Equal("same-secret", protector.Unprotect(t)));
    }

    [Fact]
    public void Should_detect_every_modified_byte()
    {
        var protector = new AesGcmSecretProtector(Key);
        var sealedText = protector.Protect("sk-tamper-5678");
        var bytes = Convert.FromBase64String(sealedText[AesGcmSecretProtector.Prefix.Length..]);

        // Past the 4-byte key id: nonce, tag and ciphertext are all authenticated.
        for (var i = 4; i < bytes.Length; i++)
        {
            var tampered = bytes.ToArray();
            tampered[i] ^= 0x01;
            var e = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(AesGcmSecretProtector.Prefix + Convert.ToBase64String(tampered)));
            Assert.Contains("failed authentication", e.Message, StringComparison.Ordinal);
        }
        var truncated = Assert.ThrowsAny<CryptographicException>(() =>
            protector.Unprotect(AesGcmSecretProtector.Prefix + Convert.ToBase64String(bytes[..20])));
        Assert.Contains("truncated", truncated.Message, StringComparison.Ordinal);
        var notBase64 = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(AesGcmSecretProtector.Prefix + "%%%"));
        Assert.Contains("not valid base64", notBase64.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_name_both_key_ids_when_another_key_wrote_the_secret()
    {
        var otherKey = Key.Select(b => (byte)(b ^ 0xFF)).ToArray();
        var writer = new AesGcmSecretProtector(otherKey);
        var reader = new AesGcmSecretProtector(Key);

        var e = Assert.ThrowsAny<CryptographicException>(() => reader.Unprotect(writer.Protect("sk-other-node-9999")));

        Assert.Contains("another gateway.secrets.key", e.Message, StringComparison.Ordinal);
        Assert.Contains(writer.KeyId, e.Message, StringComparison.Ordinal);
        Assert.Contains(reader.KeyId, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-other-node", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Key), e.Message, StringComparison.Ordinal);
        Assert.NotEqual(writer.KeyId, reader.KeyId);
    }

    [Fact]
    public void Should_decrypt_data_protection_ciphertext_through_the_legacy_protector_by_prefix()
    {
        var legacy = DataProtectionSecretProtector.ForDataDirectory(_dataDir);
        var written = legacy.Protect("sk-written-before-the-key-0001");
        var protector = new AesGcmSecretProtector(Key, new Lazy<ISecretProtector>(() => legacy));

        var fresh = protector.Protect("sk-written-after-the-key-0002");

        Assert.False(written.StartsWith(AesGcmSecretProtector.Prefix, StringComparison.Ordinal));
        Assert.Equal("sk-written-before-the-key-0001", protector.Unprotect(written));
        Assert.Equal("sk-written-after-the-key-0002", protector.Unprotect(fresh));
        // The Data Protection ring never sees the new format.
        Assert.ThrowsAny<CryptographicException>(() => legacy.Unprotect(fresh));
    }

    [Fact]
    public void Should_not_touch_the_data_protection_key_ring_while_every_secret_has_the_prefix()
    {
        var touched = false;
        var protector = new AesGcmSecretProtector(Key, new Lazy<ISecretProtector>(() =>
        {
            touched = true;
            return DataProtectionSecretProtector.ForDataDirectory(_dataDir);
        }));

        Assert.Equal("sk-x-1111", protector.Unprotect(protector.Protect("sk-x-1111")));

        Assert.False(touched);
    }

    [Fact]
    public void Should_refuse_legacy_ciphertext_without_a_legacy_protector_and_unknown_versions()
    {
        var protector = new AesGcmSecretProtector(Key);
        var legacy = DataProtectionSecretProtector.ForDataDirectory(_dataDir).Protect("sk-legacy-3333");

        var noRing = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(legacy));
        var future = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect("aesgcm.v9:AAAA"));

        Assert.Contains("Data Protection", noRing.Message, StringComparison.Ordinal);
        Assert.Contains("aesgcm.v9", future.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_read_the_key_from_config_and_let_the_environment_win()
    {
        var configured = Convert.ToBase64String(Key);
        var fromEnv = Convert.ToBase64String(Key.Reverse().ToArray());
        var config = ConfigurationFactory.ParseString($"gateway.secrets.key = \"{configured}\"").WithFallback(DurarSettingsLoader.Defaults);

        Assert.Equal(Key, SecretsOptions.FromConfig(config, environmentKey: null).Key);
        Assert.Equal(Key.Reverse().ToArray(), SecretsOptions.FromConfig(config, fromEnv).Key);
        Assert.Null(SecretsOptions.FromConfig(DurarSettingsLoader.Defaults, environmentKey: "").Key);
        Assert.DoesNotContain(configured, SecretsOptions.FromConfig(config, null).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64!", "not valid base64")]
    [InlineData("c2hvcnQ=", "decodes to 5 bytes")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj", "decodes to 36 bytes")]
    public void Should_fail_at_start_up_naming_the_key_path_for_a_malformed_key(string value, string problem)
    {
        var config = ConfigurationFactory.ParseString($"gateway.secrets.key = \"{value}\"").WithFallback(DurarSettingsLoader.Defaults);

        var fromConfig = Assert.Throws<DurarConfigException>(() => SecretsOptions.FromConfig(config, null));
        var fromEnv = Assert.Throws<DurarConfigException>(() => SecretsOptions.FromConfig(DurarSettingsLoader.Defaults, value));

        Assert.Equal("gateway.secrets.key", fromConfig.Path);
        Assert.Contains(problem, fromConfig.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, fromConfig.Message, StringComparison.Ordinal);
        Assert.Equal("gateway.secrets.key", fromEnv.Path);
        Assert.Contains(SecretsOptions.EnvironmentVariable, fromEnv.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_bind_the_ciphertext_to_the_auth_profile_purpose()
    {
        var protector = new AesGcmSecretProtector(Key);
        var bytes = Convert.FromBase64String(protector.Protect("sk-purpose-4444")[AesGcmSecretProtector.Prefix.Length..]);

        // The same key and nonce without the purpose as associated data does not authenticate.
        var plain = new byte[bytes.Length - 32];
        using var aes = new AesGcm(Key, 16);
        Assert.ThrowsAny<CryptographicException>(() => aes.Decrypt(bytes.AsSpan(4, 12), bytes.AsSpan(32), bytes.AsSpan(16, 16), plain, []));
        aes.Decrypt(bytes.AsSpan(4, 12), bytes.AsSpan(32), bytes.AsSpan(16, 16), plain, Encoding.UTF8.GetBytes(DataProtectionSecretProtector.Purpose));
        Assert.Equal("sk-purpose-4444", Encoding.UTF8.GetString(plain));
    }

    [Fact]
    public void Should_not_decrypt_a_secret_moved_to_another_profile_or_field()
    {
        var protector = new AesGcmSecretProtector(Key);
        var sealedText = protector.Protect("sk-bound-5555", SecretBinding.Of("openai:a", "key"));

        Assert.StartsWith(AesGcmSecretProtector.BoundPrefix, sealedText, StringComparison.Ordinal);
        Assert.Equal("sk-bound-5555", protector.Unprotect(sealedText, SecretBinding.Of("openai:a", "key")));
        var otherProfile = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedText, SecretBinding.Of("openai:b", "key")));
        var otherField = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedText, SecretBinding.Of("openai:a", "refresh")));
        var unbound = Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedText));

        Assert.Contains("another profile or field", otherProfile.Message, StringComparison.Ordinal);
        Assert.Contains("another profile or field", otherField.Message, StringComparison.Ordinal);
        Assert.Contains("binding", unbound.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_still_read_unbound_secrets_of_a_store_written_before_binding()
    {
        var protector = new AesGcmSecretProtector(Key, new Lazy<ISecretProtector>(() => DataProtectionSecretProtector.ForDataDirectory(_dataDir)));
        var oldAesGcm = protector.Protect("sk-v1-6666");
        var oldDataProtection = DataProtectionSecretProtector.ForDataDirectory(_dataDir).Protect("sk-dp-7777");

        Assert.Equal("sk-v1-6666", protector.Unprotect(oldAesGcm, SecretBinding.Of("openai:a", "key")));
        Assert.Equal("sk-dp-7777", protector.Unprotect(oldDataProtection, SecretBinding.Of("openai:a", "key")));
    }

    [Fact]
    public void Should_bind_data_protection_ciphertext_to_its_profile_and_field_as_well()
    {
        var protector = DataProtectionSecretProtector.ForDataDirectory(_dataDir);
        var sealedText = protector.Protect("sk-dp-bound-8888", SecretBinding.Of("openai:a", "key"));

        Assert.StartsWith(DataProtectionSecretProtector.BoundPrefix, sealedText, StringComparison.Ordinal);
        Assert.Equal("sk-dp-bound-8888", protector.Unprotect(sealedText, SecretBinding.Of("openai:a", "key")));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedText, SecretBinding.Of("openai:b", "key")));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedText, SecretBinding.Of("openai:a", "token")));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
