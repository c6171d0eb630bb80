using System.Reflection;
using System.Text.RegularExpressions;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>Runs <see cref="ClassificationPatternRows"/> and guards the pattern catalogue itself.</summary>
public class ClassificationPatternSpecs
{
    [Theory]
    [MemberData(nameof(ClassificationPatternRows.MessageRows), MemberType = typeof(ClassificationPatternRows))]
    public void Should_match_its_table_and_classify_each_message_row(
        string table, string sample, FailoverReason expected, int? status, string? provider)
    {
        Assert.True(Table(table).IsMatch(sample), $"'{sample}' does not match any pattern of {table}.");

        var actual = status is null
            ? FailureClassifier.ClassifyMessage(sample, provider)
            : FailureClassifier.Classify(new UpstreamFailure(status, sample, ProviderId: provider));

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(ClassificationPatternRows.CodeRows), MemberType = typeof(ClassificationPatternRows))]
    public void Should_classify_each_error_code_row(string table, string code, FailoverReason expected)
    {
        Assert.True(Table(table).IsMatch(code), $"'{code}' does not match any pattern of {table}.");
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(null, null, Code: code)));
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(null, null, Code: $"  {code.ToLowerInvariant()} ")));
    }

    [Theory]
    [MemberData(nameof(ClassificationPatternRows.ErrorTypeRows), MemberType = typeof(ClassificationPatternRows))]
    public void Should_classify_each_error_type_row(string table, string errorType, FailoverReason expected)
    {
        Assert.True(Table(table).IsMatch(errorType), $"'{errorType}' does not match any pattern of {table}.");
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(null, null, ErrorType: errorType)));
    }

    [Theory]
    [MemberData(nameof(ClassificationPatternRows.LongWindowRows), MemberType = typeof(ClassificationPatternRows))]
    public void Should_see_long_window_evidence_in_each_long_window_row(string table, string sample)
    {
        Assert.True(Table(table).IsMatch(sample), $"'{sample}' does not match any pattern of {table}.");
        Assert.True(FailureClassifier.HasLongWindowEvidence(sample));
    }

    [Theory]
    [MemberData(nameof(ClassificationPatternRows.RateLimitCopyRows), MemberType = typeof(ClassificationPatternRows))]
    public void Should_quote_provider_rate_limit_text_for_each_copy_row(string table, string sample, string expectedCopy)
    {
        Assert.True(Table(table).IsMatch(expectedCopy), $"'{expectedCopy}' does not match any pattern of {table}.");
        var failure = new UpstreamFailure(429, sample);

        Assert.Equal(expectedCopy, FailureClassifier.UserMessage(FailoverReason.RateLimit, failure, "openai", "gpt-4o"));
    }

    [Fact]
    public void Should_cover_every_pattern_of_every_table_with_a_row_of_that_table()
    {
        var rows = AllRows().ToList();

        var uncovered = (
            from table in ClassificationPatterns.All
            from indexed in table.Patterns.Select((regex, index) => (regex, index))
            where !rows.Any(row => row.Table == table.Name && indexed.regex.IsMatch(row.Sample))
            select $"{table.Name}[{indexed.index}]: {indexed.regex}").ToList();

        Assert.True(uncovered.Count == 0, "Patterns without a test row:\n" + string.Join("\n", uncovered));
    }

    [Fact]
    public void Should_list_every_public_pattern_table_in_All_under_its_field_name()
    {
        var fields = typeof(ClassificationPatterns)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(PatternTable))
            .ToList();

        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            var table = (PatternTable)field.GetValue(null)!;
            Assert.Equal(field.Name, table.Name);
            Assert.Contains(table, ClassificationPatterns.All);
        }

        Assert.Equal(fields.Count, ClassificationPatterns.All.Count);
        Assert.Equal(ClassificationPatterns.All.Count, ClassificationPatterns.All.Select(t => t.Name).Distinct().Count());
    }

    [Fact]
    public void Should_compile_every_pattern_case_insensitive_culture_invariant_and_with_a_timeout()
    {
        var required = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled;

        foreach (var regex in ClassificationPatterns.All.SelectMany(t => t.Patterns))
        {
            Assert.Equal(required, regex.Options & required);
            Assert.Equal(PatternTable.MatchTimeout, regex.MatchTimeout);
        }
    }

    [Fact]
    public void Should_give_every_code_and_type_table_exactly_one_rule()
    {
        var codeTables = ClassificationPatterns.All.Where(t => t.Subject == PatternSubject.ErrorCode).ToList();
        var typeTables = ClassificationPatterns.All.Where(t => t.Subject == PatternSubject.ErrorType).ToList();

        Assert.Equal(codeTables.OrderBy(t => t.Name), ClassificationPatterns.CodeRules.Select(r => r.Table).OrderBy(t => t.Name));
        Assert.Equal(typeTables.OrderBy(t => t.Name), ClassificationPatterns.ErrorTypeRules.Select(r => r.Table).OrderBy(t => t.Name));
    }

    [Theory]
    [InlineData("Image dimensions exceed max allowed size for many-image requests: 8000 pixels")]
    [InlineData("image exceeds 5 MB maximum")]
    public void Should_report_no_reason_for_image_rejections(string message)
    {
        Assert.Null(FailureClassifier.ClassifyMessage(message));
    }

    [Theory]
    [InlineData("Key limit exceeded", null)]
    [InlineData("Key limit exceeded", "anthropic")]
    [InlineData("Provider returned error", "anthropic")]
    [InlineData("Provider returned error", null)]
    public void Should_ignore_openrouter_scoped_tables_for_other_providers(string message, string? provider)
    {
        Assert.Null(FailureClassifier.ClassifyMessage(message, provider));
    }

    [Theory]
    [InlineData("OpenRouter")]
    [InlineData("my-openrouter-proxy")]
    public void Should_apply_openrouter_scoped_tables_to_any_provider_id_containing_openrouter(string provider)
    {
        Assert.True(ClassificationPatterns.OpenRouterKeyLimit.AppliesTo(provider));
        Assert.Equal(FailoverReason.Billing, FailureClassifier.ClassifyMessage("Key limit exceeded", provider));
    }

    [Fact]
    public void Should_reject_a_table_without_patterns()
    {
        Assert.Throws<ArgumentException>(() => new PatternTable("Empty", PatternSubject.Message, null));
    }

    private static PatternTable Table(string name) => ClassificationPatterns.All.Single(t => t.Name == name);

    private static IEnumerable<(string Table, string Sample)> AllRows()
    {
        foreach (var row in ClassificationPatternRows.MessageRows)
        {
            yield return ((string)row[0], ((string)row[1]).Trim());
        }

        foreach (var row in ClassificationPatternRows.CodeRows)
        {
            yield return ((string)row[0], ((string)row[1]).Trim());
        }

        foreach (var row in ClassificationPatternRows.ErrorTypeRows)
        {
            yield return ((string)row[0], ((string)row[1]).Trim());
        }

        foreach (var row in ClassificationPatternRows.LongWindowRows)
        {
            yield return ((string)row[0], ((string)row[1]).Trim());
        }

        foreach (var row in ClassificationPatternRows.RateLimitCopyRows)
        {
            yield return ((string)row[0], ((string)row[2]).Trim());
        }
    }
}
