using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// A compaction a run made before (or while) answering its turn: what the session journals as
/// <see cref="Messages.SessionEvents.Compacted"/> with the run's outcome, whatever that outcome is.
/// </summary>
/// <param name="KeepFromSeq">The user message the conversation sent resumes at.</param>
/// <param name="Summary">The summary, without its header.</param>
/// <param name="Model">The model that wrote it.</param>
/// <param name="TokensBefore">The input's tokens before the compaction.</param>
/// <param name="TokensAfter">The input's tokens after it.</param>
internal sealed record CompactionResult(long KeepFromSeq, string Summary, string Model, int TokensBefore, int TokensAfter, TokenUsage? Usage, decimal Cost);
