using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using Akka.Util;

namespace Durar.Persistence;

/// <summary>
/// Akka.Persistence.Sql's journal with its writes on SQLite made by <see cref="SqliteJournalWriter"/> (same rows, one
/// writer, group commit without a stream in between); recovery, the highest sequence number, deletes and the query
/// journal are the plugin's. On PostgreSQL, or when the journal's data options carry no <see cref="SqlitePragmas"/> (a
/// host that built its own), every write is the plugin's as well.
/// </summary>
/// <param name="journalConfig">The plugin's configuration section (<c>akka.persistence.journal.sql</c>).</param>
internal sealed class DurarSqlWriteJournal(Config journalConfig) : SqlWriteJournal(journalConfig)
{
    private readonly SqliteJournalWriter? _writer = SqliteJournalWriter.ForPlugin(Context.System, DurarPersistence.JournalPluginId, journalConfig);
    private readonly string _insert = SqliteJournalWriter.JournalInsert(journalConfig.GetString("default.journal.table-name", "journal"));
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    private readonly Akka.Serialization.Serialization _serialization = Context.System.Serialization;

    /// <summary>The last write of each persistence id not yet answered (a highest-sequence-number read waits for it, as the plugin's does).</summary>
    private readonly ConcurrentDictionary<string, Task> _writing = new(StringComparer.Ordinal);

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_writer is null) return base.WriteMessagesAsync(messages, cancellationToken);
        var created = DateTime.UtcNow.Ticks;
        var writes = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        var rows = new List<SqliteJournalWriter.Row>();
        Exception?[]? rejected = null;
        for (var i = 0; i < writes.Count; i++)
        {
            var start = rows.Count;
            try
            {
                foreach (var message in (IImmutableList<IPersistentRepresentation>)writes[i].Payload) rows.Add(ToRow(message, created));
            }
            catch (Exception e)
            {
                // Refused, not failed (Akka's contract): this write's events are not written, the others are.
                rows.RemoveRange(start, rows.Count - start);
                (rejected ??= new Exception?[writes.Count])[i] = e;
            }
        }
        if (rows.Count == 0 && rejected is not null) return Task.FromResult(Results(rejected));
        var persistenceId = writes[0].PersistenceId;
        var write = _writer.WriteAsync(_insert, rows);
        _writing[persistenceId] = write;
        // One continuation, answered on the writer's thread once committed (no hop): the write is no longer in flight for
        // this persistence id, then its result (a failed transaction fails with its own exception).
        return write.ContinueWith(static (done, state) =>
        {
            var (writing, id, rejected) = ((ConcurrentDictionary<string, Task>, string, Exception?[]?))state!;
            writing.TryRemove(new KeyValuePair<string, Task>(id, done));
            done.GetAwaiter().GetResult();
            return rejected is null ? null! : Results(rejected);
        }, (_writing, persistenceId, rejected), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static IImmutableList<Exception> Results(Exception?[] rejected) => rejected.ToImmutableList()!;

    /// <summary>One event as Akka.Persistence.Sql's <c>ByteArrayJournalSerializer</c> writes it (default mapping, no tags).</summary>
    private SqliteJournalWriter.Row ToRow(IPersistentRepresentation message, long created)
    {
        if (message.Payload is Akka.Persistence.Journal.Tagged) throw new NotSupportedException("Tagged events are not written by Durar's SQLite journal.");
        var serializer = _serialization.FindSerializerFor(message.Payload);
        var manifest = serializer switch
        {
            SerializerWithStringManifest named => named.Manifest(message.Payload),
            { IncludeManifest: true } => message.Payload.GetType().TypeQualifiedName(),
            _ => string.Empty,
        };
        var bytes = Akka.Serialization.Serialization.WithTransport(_serialization.System, (serializer, message.Payload),
            static s => s.serializer.ToBinary(s.Payload));
        return new SqliteJournalWriter.Row(message.Timestamp == 0 ? created : message.Timestamp, message.PersistenceId,
            message.SequenceNr, bytes, manifest, serializer.Identifier, _writerUuid);
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_writing.TryGetValue(persistenceId, out var write))
        {
            try
            {
                await write.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Whether it committed or failed, it is over: what is in the table is the answer.
            }
        }
        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    protected override void PostStop()
    {
        _writer?.ReleaseAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        base.PostStop();
    }
}
