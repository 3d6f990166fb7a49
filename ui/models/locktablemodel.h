#pragma once

#include "inspect/lockrecord.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QTimer>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

/// The locks of every scanned node group, one row per (group, key).
///
/// applyDelta() merges a group's changes into the rows: unchanged rows stay, changed cells signal
/// dataChanged, vanished rows are removed and new rows appended, so that the selection, the sort
/// and the scroll position survive a refresh. The TTL column is a live
/// countdown from the snapshot's PTTL: one timer signals dataChanged for that column only, and
/// a row whose countdown runs out before the next refresh gets the `expired` anomaly.
class LockTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Group,
        Key,
        Schema,
        Kind, ///< mutex, read ×3, semaphore 2/5, ... (lockscope::inspect::kindText)
        Owner,
        Ttl,
        Held,
        Fence,
        Token,
        Age,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role
    {
        /// Unformatted, sortable value of the cell: qint64 for TTL (the steady-clock deadline in
        /// ms, so that the order does not change while counting down; no TTL sorts last), held,
        /// fence and age (ms); QString otherwise.
        SortRole = Qt::UserRole + 1,
        AnomaliesRole,    ///< QStringList of anomaly ids (lockscope::inspect::anomaly), every column
        GroupRole,        ///< QString, every column
        KeyRole,          ///< QByteArray, every column
        SchemaRole,       ///< QString schema id (empty when undecoded), every column
        NamespaceRole,    ///< QString: the key up to its last ':' ("jobs:lock" for "jobs:lock:nightly")
        TtlRemainingRole, ///< qint64 ms left on the countdown now; -1 without TTL (not clamped)
    };

    using Clock = std::chrono::steady_clock;

    /// The UI's anomaly id for a row the last scan could not confirm (see GroupRead::stale).
    static constexpr char StaleAnomaly[] = "stale";

    /// What a scan of a group says besides its records.
    struct GroupRead
    {
        QDateTime at; ///< when the scan started: every row of the group it confirmed was read then
        /// Rows the scan did not see while a node of the group could not be read: kept as last
        /// read and marked stale (not removed: "can't tell" is not "no lock").
        std::vector<QByteArray> stale;
        QString staleReason; ///< the nodes that could not be read, and why
    };

    explicit LockTableModel(QObject *parent = nullptr);
    ~LockTableModel() override;

    void removeGroup(const QString &group);
    /// Applies a change computed on a worker thread (LockMonitor): `upserts` are new or changed
    /// records of `group` (merged by key), `removed` the keys that vanished; with `replaceAll`,
    /// every row of the group not in `upserts` is removed too (a full snapshot). The one way rows
    /// come in, by merging, matched by key: vanished rows are removed (contiguous ranges),
    /// changed cells signal dataChanged (per row run and column run; one bounding range past 64
    /// changed rows), new keys are appended in one block; a key listed twice keeps its first
    /// record. No model reset. Large changes go in slices of at most chunkRows() rows, and about
    /// 8 ms by now(), per event-loop turn, so that the GUI thread never stalls on a big refresh;
    /// calls are applied in order. `read` (applied after the records) marks rows stale and dates
    /// the group's rows.
    void applyDelta(const QString &group, std::vector<lockscope::inspect::LockRecord> upserts,
                    std::vector<QByteArray> removed, bool replaceAll = false, GroupRead read = {});
    /// Applies every queued applyDelta() slice now, whatever their size: for a caller that needs
    /// the rows at once (tests).
    void finishApplying();
    /// Rows applied per event-loop turn by applyDelta() (default 500).
    void setChunkRows(int rows) { m_chunkRows = std::max(1, rows); }
    /// True while applyDelta() slices are still waiting.
    bool isApplying() const { return !m_pending.empty(); }
    void clear();

    const lockscope::inspect::LockRecord *record(const QModelIndex &index) const;
    const lockscope::inspect::LockRecord *record(int row) const;
    QString group(int row) const;
    QModelIndex indexFor(const QString &group, const QByteArray &key, int column = Key) const;
    QStringList groups() const;

    /// Rows with at least one anomaly (including `expired` added by the countdown).
    int anomalyCount() const { return m_anomalyRows; }
    int lockCount() const { return int(m_rows.size()); }
    int lockCount(const QString &group) const;

    /// The clock the countdown and applyDelta()'s time slices read (default steady_clock::now);
    /// tests inject a fake one (a clock that stands still slices by chunkRows() alone).
    void setClock(std::function<Clock::time_point()> clock);
    Clock::time_point now() const { return m_clock(); }
    /// Countdown interval (default 250 ms).
    void setTickInterval(std::chrono::milliseconds interval);
    bool isTicking() const { return m_timer.isActive(); }

    /// Milliseconds left on the row's countdown at `now`; -1 without TTL. May be negative.
    qint64 remainingMs(int row) const;
    /// How long the row's lock has been held now (counted on from its read); -1 when unknown.
    qint64 ageMs(int row) const;
    /// When the row's facts were last read from Redis: the latest scan of its group that saw it
    /// unchanged, or its own read when stale.
    QDateTime lastReadAt(int row) const;
    /// True when the last scan could not confirm the row (GroupRead::stale); why in staleReason().
    bool isStale(int row) const;
    QString staleReason(int row) const;

    /// Orders two rows by a column as SortRole does, without QVariants (for the proxy's lessThan).
    int compareRows(int left, int right, int column) const;
    /// The key and the token as text (cached, for filters).
    QString keyText(int row) const;
    /// The key's namespace (cached; see keyNamespace()).
    QString namespaceOf(int row) const;
    /// Rows per key namespace (keyNamespace(); "" for keys without one), kept as rows come and
    /// go, so that a namespace tree over 300,000 rows does not count them again.
    const QHash<QString, int> &namespaceCounts() const { return m_namespaceCounts; }
    QString tokenText(int row) const;

    /// The anomaly in words, for tooltips and the details pane.
    static QString anomalyText(const QString &id);
    /// A warning icon (red for a broken lock: quorum lost, tokens differ, expired; amber otherwise).
    static QIcon anomalyIcon(const QStringList &anomalies);
    /// "4.2 s" (tenths under 10 s), "37 s", "2m 05s", "1h 02m", "3d 4h"
    static QString formatCountdown(qint64 ms);
    /// "850 ms", "12 s", "3m 12s", "2h 05m", "3d 4h"; empty for a negative (unknown) age
    static QString formatAge(qint64 ms);
    /// The namespace of a key: everything before its last ':' (empty when it has none).
    static QString keyNamespace(const QByteArray &key);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

public slots:
    /// One countdown step: rows whose countdown ran out get `expired` (dataChanged for those
    /// rows); for the others only the TTL text moved, which countdownTicked() announces instead
    /// of a dataChanged over every counting row (that would make a sorting proxy revisit 100,000
    /// rows four times a second). Called by the timer; public for tests.
    void tick();

signals:
    /// Row or anomaly counts changed (after a merge, a removal or an expiry).
    void countsChanged();
    /// Emitted once after a merge, a removal, a clear or an expiry changed rows (not on plain
    /// countdown ticks): LockFilterProxy re-filters and re-sorts on it.
    void recordsChanged();
    /// The countdown moved: the TTL column's text (and colour) changed, nothing else. Views
    /// repaint that column (its data() is computed from the clock at paint time).
    void countdownTicked();

private:
    struct Row;

    QVariant displayData(const Row &row, int column) const;
    QVariant sortData(const Row &row, int column) const;
    static qint64 sortNumber(const Row &row, int column);
    QVariant toolTip(const Row &row, int column) const;
    QVariant foreground(const Row &row, int column) const;
    static std::vector<int> changedColumns(const Row &row, const lockscope::inspect::LockRecord &next);
    /// New rows for `records[fresh...]` of `group`, in that order, at the end: one insert.
    void appendRows(const QString &group, QHash<QByteArray, Row *> &keys,
                    std::vector<lockscope::inspect::LockRecord> &records,
                    const std::vector<std::size_t> &fresh);
    void removeRowList(const std::vector<int> &sortedRows);
    void renumber() const;
    void updateTimer();
    void emitRangesChanged(std::vector<std::pair<int, int>> rowMasks);
    bool isCounting(const Row &row) const;
    qint64 remainingOf(const Row &row) const;

    struct Pending
    {
        QString group;
        std::vector<lockscope::inspect::LockRecord> upserts;
        std::vector<QByteArray> removed;
        bool replaceAll = false;
        std::size_t next = 0; ///< upserts applied so far
        GroupRead read;
    };
    /// After a group's delta: its read time, and its stale rows marked.
    void finishGroupRead(const QString &group, GroupRead &read);
    QDateTime lastReadOf(const Row &row) const;
    /// Applies queued deltas for at most `budget` rows (and, when `timed`, about 8 ms); re-arms
    /// m_applyTimer when some remain.
    void applyPending(std::size_t budget, bool timed = true);
    void removeKeys(const QString &group, const std::vector<QByteArray> &keys);
    /// Merges records[begin, end) of `group`: changed rows signal their cells, new rows are
    /// appended in one block.
    void upsert(const QString &group, std::vector<lockscope::inspect::LockRecord> &records, std::size_t begin,
                std::size_t end);

    std::deque<Pending> m_pending;
    QTimer m_applyTimer;
    int m_chunkRows = 500;
    std::vector<std::unique_ptr<Row>> m_rows;
    QHash<QString, QHash<QByteArray, Row *>> m_index; ///< group -> key -> row
    mutable bool m_rowNumbersDirty = false;
    int m_anomalyRows = 0;
    QHash<QString, int> m_namespaceCounts;
    QHash<QString, QDateTime> m_groupReadAt; ///< the start of each group's latest scan
    std::function<Clock::time_point()> m_clock;
    QTimer m_timer;
};
