using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Snapshot;
using Akka.Serialization;
using Akka.Util;

namespace Durar.Persistence;

/// <summary>
/// Akka.Persistence.Sql's snapshot store with its saves on SQLite made by the database's <see cref="SqliteJournalWriter"/>,
/// the journal's own writer: a save shares the journal's group-commit transactions instead of contending with them for
/// SQLite's one write lock on a connection of its own, and is one prepared statement instead of a linq2db query built
/// per save. The row is the plugin's (<c>snapshot</c> table, default mapping, serialized as its
/// <c>ByteArrayLongSnapshotSerializer</c> does) and replaces one of the same persistence id and sequence number, as the
/// plugin's <c>InsertOrReplace</c> does. Deletes by criteria (a session's older snapshots, after each save) are the same
/// writer's; loads and the delete of one snapshot are the plugin's; on PostgreSQL, or when the data options carry no
/// <see cref="SqlitePragmas"/>, saves and deletes are the plugin's as well.
/// </summary>
/// <param name="snapshotConfig">The plugin's configuration section (<c>akka.persistence.snapshot-store.sql</c>).</param>
internal sealed class DurarSqlSnapshotStore(Config snapshotConfig) : SqlSnapshotStore(snapshotConfig)
{
    private readonly SqliteJournalWriter? _writer = SqliteJournalWriter.ForPlugin(Context.System, DurarPersistence.SnapshotPluginId, snapshotConfig);
    private readonly string _upsert = SqliteJournalWriter.SnapshotUpsert(snapshotConfig.GetString("default.snapshot.table-name", "snapshot"));
    private readonly string _delete = SqliteJournalWriter.SnapshotDelete(snapshotConfig.GetString("default.snapshot.table-name", "snapshot"));

    /// <summary>The plugin's <c>serializer</c> setting: the serializer for a type no binding names (null: Akka's default).</summary>
    private readonly string? _defaultSerializer = snapshotConfig.GetString("serializer", null);

    private readonly Akka.Serialization.Serialization _serialization = Context.System.Serialization;

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        if (_writer is null) return base.SaveAsync(metadata, snapshot, cancellationToken);
        SqliteJournalWriter.SnapshotRow row;
        try
        {
            row = ToRow(metadata, snapshot);
        }
        catch (Exception e)
        {
            // A snapshot that cannot be serialized fails its save (SaveSnapshotFailure), nothing else.
            return Task.FromException(e);
        }
        return _writer.SaveSnapshotAsync(_upsert, row);
    }

    /// <summary>
    /// Deletes the snapshots <paramref name="criteria"/> select (up to its sequence number and time; its lower bounds, which
    /// the plugin ignores too, are not read) in the writer's next transaction: a session deletes its older snapshots after
    /// each save, and the plugin's delete built a linq2db query and a transaction of its own each time.
    /// </summary>
    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        _writer is null
            ? base.DeleteAsync(persistenceId, criteria, cancellationToken)
            : _writer.DeleteSnapshotsAsync(_delete, new SqliteJournalWriter.SnapshotDeletion(persistenceId, criteria.MaxSequenceNr, criteria.MaxTimeStamp.Ticks));

    /// <summary>One snapshot as the plugin's <c>ByteArrayLongSnapshotSerializer.ToSnapshotEntry</c> writes it.</summary>
    private SqliteJournalWriter.SnapshotRow ToRow(SnapshotMetadata metadata, object snapshot)
    {
        var type = snapshot.GetType();
        var serializer = _serialization.FindSerializerForType(type, _defaultSerializer);
        var bytes = Akka.Serialization.Serialization.WithTransport(_serialization.System, (serializer, snapshot),
            static s => s.serializer.ToBinary(s.snapshot));
        var manifest = serializer switch
        {
            SerializerWithStringManifest named => named.Manifest(snapshot),
            { IncludeManifest: true } => type.TypeQualifiedName(),
            _ => string.Empty,
        };
        return new SqliteJournalWriter.SnapshotRow(metadata.PersistenceId, metadata.SequenceNr, metadata.Timestamp.Ticks, bytes,
            manifest, serializer.Identifier);
    }

    protected override void PostStop()
    {
        _writer?.ReleaseAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        base.PostStop();
    }
}
