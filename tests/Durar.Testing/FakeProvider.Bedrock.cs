using Microsoft.AspNetCore.Builder;

namespace Durar.Testing;

/// <summary>Amazon Bedrock's side of the fake (Converse and ConverseStream).</summary>
public sealed partial class FakeProvider
{
    private void MapBedrock(WebApplication app)
    {
    }
}
