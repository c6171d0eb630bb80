namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// The providers the fidelity specs run against: <c>nativeoai</c> is native OpenAI by the production rule (its base URL's
/// host is <c>api.openai.com</c>, whose connections the harness makes to the fake), <c>proxyoai</c> an OpenAI-compatible
/// proxy (the fake on 127.0.0.1) with a plain and a reasoning model.
/// </summary>
internal static class FidelityConfig
{
    public const string Providers = """
        models {
          providers {
            nativeoai { baseUrl = "{fake-openai-native}", apiKey = "sk-native-1", api = "openai-completions", models = [{ id = "gpt-native", reasoning = true, input = ["text", "image"] }] }
            proxyoai {
              baseUrl = "{fake-openai}", apiKey = "sk-proxy-1", api = "openai-completions"
              models = [{ id = "proxy-model", input = ["text", "image"] }, { id = "proxy-reasoner", reasoning = true, input = ["text", "image"] }]
            }
          }
        }
        agents { defaults { model { primary = "proxyoai/proxy-model" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;
}
