namespace Durar.Api.Cli;

/// <summary>
/// What a <c>durar</c> exit code means, so a script can tell a refused request from a typo from a gateway that is down.
/// Stated in every command's <c>--help</c> and in the README.
/// </summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The gateway answered with an error (<c>{"error":{...}}</c>: unknown key, bad token, invalid profile, ...).</summary>
    public const int GatewayError = 1;

    /// <summary>The command line or the configuration is wrong (nothing was sent).</summary>
    public const int Usage = 2;

    /// <summary>No answer from the gateway (not running, wrong <c>--url</c>, timed out).</summary>
    public const int Unreachable = 3;

    /// <summary>The gateway has no API for this yet (no command answers it today: <c>durar sessions list</c> has its route now; the code stays documented).</summary>
    public const int NotSupported = 4;

    /// <summary>A provider's sign-in did not end with a token (<c>durar auth login</c>: denied, expired, timed out, state mismatch).</summary>
    public const int LoginFailed = 5;

    /// <summary>The help section listing them.</summary>
    public const string Help = """
        Exit codes:
          0  ok
          1  the gateway answered with an error
          2  usage or configuration error
          3  cannot reach the gateway
          4  not supported by the gateway yet
          5  the provider's sign-in failed (denied, expired, timed out)
        """;
}
