// LockTableModel, the rows: merging scan snapshots into them (in slices, so that the GUI thread
// never stalls), removing groups, access by row and key, and the countdown. What the rows show is
// in locktablepresentation.cpp.

#include "locktablemodel.h"

#include "locktablerow.h"
#include "locktext.h"

#include <QSet>
#include <algorithm>
#include <limits>

using lockscope::inspect::LockRecord;
namespace anomaly = lockscope::inspect::anomaly;

namespace {

constexpr auto DefaultTick = std::chrono::milliseconds(250);

} // namespace

LockTableModel::LockTableModel(QObject *parent)
    : QAbstractTableModel(parent), m_clock([] { return Clock::now(); })
{
    m_timer.setInterval(DefaultTick);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, &LockTableModel::tick);
    m_applyTimer.setSingleShot(true);
    m_applyTimer.setInterval(0);
    connect(&m_applyTimer, &QTimer::timeout, this, [this] { applyPending(std::size_t(m_chunkRows)); });
}

LockTableModel::~LockTableModel() = default;

// --- merge ------------------------------------------------------------------------------------

std::vector<int> LockTableModel::changedColumns(const Row &row, const LockRecord &next)
{
    const LockRecord &old = row.record;
    if (old.anomalies != next.anomalies || row.expired)
        return {Group, Key, Schema, Kind, Owner, Ttl, Held, Fence, Token, Age};
    std::vector<int> columns;
    if (old.schema != next.schema)
        columns.push_back(Schema);
    if (row.kind != lockscope::inspect::kindText(next))
        columns.push_back(Kind);
    // The owner text counts holders and waiters ("3 readers: ..."), which change under one token.
    if (row.owner != locktext::ownerText(next))
        columns.push_back(Owner);
    if (old.held != next.held || old.of != next.of || old.quorum != next.quorum)
        columns.push_back(Held);
    if (old.fence != next.fence)
        columns.push_back(Fence);
    if (old.token != next.token)
        columns.push_back(Token);
    return columns;
}

void LockTableModel::emitRangesChanged(std::vector<std::pair<int, int>> rowMasks)
{
    if (rowMasks.empty())
        return;
    auto columnSpan = [](int mask) {
        int first = 0;
        while (!(mask & (1 << first)))
            ++first;
        int last = ColumnCount - 1;
        while (!(mask & (1 << last)))
            --last;
        return std::pair{first, last};
    };
    // Many scattered changes (a whole group re-acquired): one bounding range is cheaper for the
    // views and the proxy than thousands of signals.
    if (rowMasks.size() > 64 && rowMasks.size() * 2 > m_rows.size()) {
        int mask = 0;
        for (const auto &[row, m] : rowMasks)
            mask |= m;
        const auto [first, last] = columnSpan(mask);
        emit dataChanged(index(rowMasks.front().first, first), index(rowMasks.back().first, last));
        return;
    }
    // Rows in a run with the same changed columns share a signal; each contiguous run of
    // changed columns gets its own, so unchanged cells between them are not repainted.
    std::size_t i = 0;
    while (i < rowMasks.size()) {
        std::size_t j = i + 1;
        while (j < rowMasks.size() && rowMasks[j].first == rowMasks[j - 1].first + 1 &&
               rowMasks[j].second == rowMasks[i].second)
            ++j;
        const int mask = rowMasks[i].second;
        int column = 0;
        while (column < ColumnCount) {
            if (!(mask & (1 << column))) {
                ++column;
                continue;
            }
            int last = column;
            while (last + 1 < ColumnCount && (mask & (1 << (last + 1))))
                ++last;
            emit dataChanged(index(rowMasks[i].first, column), index(rowMasks[j - 1].first, last));
            column = last + 1;
        }
        i = j;
    }
}

void LockTableModel::applyDelta(const QString &group, std::vector<LockRecord> upserts,
                                std::vector<QByteArray> removed, bool replaceAll, GroupRead read)
{
    m_pending.push_back(
        Pending{group, std::move(upserts), std::move(removed), replaceAll, 0, std::move(read)});
    applyPending(std::size_t(m_chunkRows));
}

void LockTableModel::finishApplying()
{
    applyPending(std::numeric_limits<std::size_t>::max(), false);
}

void LockTableModel::finishGroupRead(const QString &group, GroupRead &read)
{
    if (read.at.isValid())
        m_groupReadAt.insert(group, read.at);
    if (read.stale.empty())
        return;
    renumber();
    const auto keys = m_index.constFind(group);
    if (keys == m_index.cend())
        return;
    std::vector<std::pair<int, int>> changed;
    for (const QByteArray &key : read.stale) {
        Row *row = keys->value(key);
        if (!row)
            continue;
        const bool hadAnomaly = !row->record.anomalies.isEmpty();
        row->staleReason = read.staleReason;
        if (!row->stale) {
            row->stale = true;
            // The time it was last read stays the record's own: from here on nothing confirms it.
            for (const char *id : {StaleAnomaly, anomaly::NodeUnreachable}) {
                if (!row->record.anomalies.contains(QLatin1String(id)))
                    row->record.anomalies.append(QLatin1String(id));
            }
            changed.emplace_back(row->row, (1 << ColumnCount) - 1);
        }
        m_anomalyRows += int(!hadAnomaly);
    }
    std::sort(changed.begin(), changed.end());
    emitRangesChanged(std::move(changed));
}

void LockTableModel::applyPending(std::size_t budget, bool timed)
{
    // At most `budget` rows, and no more once a turn has taken kTurnBudget: in a big table a
    // row costs more (a sorting proxy places every new row, and the view follows), so a
    // fixed row count alone would stall the GUI longer the more rows there are. Timed by the
    // model's clock, so that a test's clock that stands still makes the slices depend on rows
    // alone, as its assertions on signals need.
    constexpr auto kTurnBudget = std::chrono::milliseconds(8);
    constexpr std::size_t kStep = 16;
    const Clock::time_point turnStart = now();
    const auto outOfTime = [&] {
        return timed && now() - turnStart >= kTurnBudget;
    };
    bool changed = false;
    while (!m_pending.empty() && budget > 0 && !(changed && outOfTime())) {
        Pending &pending = m_pending.front();
        if (pending.replaceAll && !m_index.contains(pending.group)) {
            pending.replaceAll = false; // nothing of the group shown yet: nothing to remove
        } else if (pending.replaceAll) {
            // The group's first snapshot: rows it no longer has go (one pass over the group).
            pending.replaceAll = false;
            QSet<QByteArray> incoming;
            incoming.reserve(qsizetype(pending.upserts.size()));
            for (const LockRecord &record : pending.upserts)
                incoming.insert(record.key);
            if (auto it = m_index.constFind(pending.group); it != m_index.cend()) {
                for (auto row = it->cbegin(); row != it->cend(); ++row) {
                    if (!incoming.contains(row.key()))
                        pending.removed.push_back(row.key());
                }
            }
        }
        if (!pending.removed.empty()) {
            removeKeys(pending.group, pending.removed);
            pending.removed.clear();
            changed = true;
        }
        // (budget may be SIZE_MAX: no next + budget, which would wrap.)
        const std::size_t end =
            pending.next + std::min({pending.upserts.size() - pending.next, budget, kStep});
        if (pending.next < end) {
            upsert(pending.group, pending.upserts, pending.next, end);
            budget -= end - pending.next;
            pending.next = end;
            changed = true;
        }
        if (pending.next >= pending.upserts.size()) {
            if (!pending.read.stale.empty())
                changed = true;
            finishGroupRead(pending.group, pending.read);
            m_pending.pop_front();
        }
    }
    if (!m_pending.empty())
        m_applyTimer.start();
    if (changed) {
        updateTimer();
        emit countsChanged();
        emit recordsChanged();
    }
}

void LockTableModel::removeKeys(const QString &group, const std::vector<QByteArray> &keys)
{
    renumber();
    auto it = m_index.constFind(group);
    if (it == m_index.cend())
        return;
    std::vector<int> rows;
    rows.reserve(keys.size());
    for (const QByteArray &key : keys) {
        if (const Row *row = it->value(key))
            rows.push_back(row->row);
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    removeRowList(rows);
    renumber();
    if (auto left = m_index.constFind(group); left != m_index.cend() && left->isEmpty())
        m_index.remove(group);
}

void LockTableModel::upsert(const QString &group, std::vector<LockRecord> &records, std::size_t begin,
                            std::size_t end)
{
    renumber();
    QHash<QByteArray, Row *> &keys = m_index[group];
    std::vector<std::pair<int, int>> changed; // row -> column bit mask
    std::vector<std::size_t> fresh;
    QSet<QByteArray> freshKeys;
    for (std::size_t i = begin; i < end; ++i) {
        LockRecord &next = records[i];
        Row *row = keys.value(next.key);
        if (!row) {
            // A key listed twice keeps its first record.
            if (!freshKeys.contains(next.key)) {
                freshKeys.insert(next.key);
                fresh.push_back(i);
            }
            continue;
        }
        int mask = 0;
        for (int column : changedColumns(*row, next))
            mask |= 1 << column;
        // The worker sends a record whose TTL moved, or whose content changed: the countdown
        // restarts from this snapshot either way.
        if (row->hasTtl() || row->expired || next.minPttlMs >= 0)
            mask |= 1 << Ttl;
        const bool hadAnomaly = !row->record.anomalies.isEmpty() || row->expired;
        const qint64 oldAge = row->ageAtReadMs;
        if (row->stale)
            mask = (1 << ColumnCount) - 1; // confirmed again: every cell loses its stale look
        row->assign(std::move(next));
        const bool hasAnomaly = !row->record.anomalies.isEmpty();
        m_anomalyRows += int(hasAnomaly) - int(hadAnomaly);
        if (row->ageAtReadMs != oldAge)
            mask |= 1 << Age;
        if (mask)
            changed.emplace_back(row->row, mask);
    }
    std::sort(changed.begin(), changed.end());
    emitRangesChanged(std::move(changed));

    appendRows(group, keys, records, fresh);
    if (keys.isEmpty())
        m_index.remove(group);
}

void LockTableModel::appendRows(const QString &group, QHash<QByteArray, Row *> &keys,
                                std::vector<LockRecord> &records, const std::vector<std::size_t> &fresh)
{
    if (fresh.empty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    // No exact reserve: deltas arrive in slices of a few rows, and growing to the exact size
    // each time would copy the whole row vector per slice.
    for (std::size_t i : fresh) {
        auto row = std::make_unique<Row>();
        row->group = group;
        row->assign(std::move(records[i]));
        row->row = int(m_rows.size());
        if (!row->record.anomalies.isEmpty())
            ++m_anomalyRows;
        ++m_namespaceCounts[row->ns];
        keys.insert(row->record.key, row.get());
        m_rows.push_back(std::move(row));
    }
    endInsertRows();
}

void LockTableModel::removeRowList(const std::vector<int> &sortedRows)
{
    // Contiguous ranges, the last first, so that earlier row numbers stay valid.
    std::size_t end = sortedRows.size();
    while (end > 0) {
        std::size_t begin = end - 1;
        while (begin > 0 && sortedRows[begin - 1] == sortedRows[begin] - 1)
            --begin;
        const int first = sortedRows[begin];
        const int last = sortedRows[end - 1];
        beginRemoveRows({}, first, last);
        for (int r = first; r <= last; ++r) {
            const Row &row = *m_rows[std::size_t(r)];
            if (!row.record.anomalies.isEmpty())
                --m_anomalyRows;
            if (auto ns = m_namespaceCounts.find(row.ns); ns != m_namespaceCounts.end() && --*ns == 0)
                m_namespaceCounts.erase(ns);
            auto groupIt = m_index.find(row.group);
            if (groupIt != m_index.end())
                groupIt->remove(row.record.key);
        }
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        m_rowNumbersDirty = true;
        endRemoveRows();
        end = begin;
    }
}

void LockTableModel::renumber() const
{
    if (!m_rowNumbersDirty)
        return;
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        m_rows[i]->row = int(i);
    m_rowNumbersDirty = false;
}

void LockTableModel::removeGroup(const QString &group)
{
    renumber();
    auto it = m_index.constFind(group);
    if (it == m_index.cend())
        return;
    std::vector<int> rows;
    rows.reserve(std::size_t(it->size()));
    for (const Row *row : *it)
        rows.push_back(row->row);
    std::sort(rows.begin(), rows.end());
    removeRowList(rows);
    m_index.remove(group);
    m_groupReadAt.remove(group);
    renumber();
    updateTimer();
    emit countsChanged();
    emit recordsChanged();
}

void LockTableModel::clear()
{
    m_groupReadAt.clear();
    if (m_rows.empty())
        return;
    beginResetModel();
    m_rows.clear();
    m_index.clear();
    m_anomalyRows = 0;
    m_namespaceCounts.clear();
    m_rowNumbersDirty = false;
    endResetModel();
    updateTimer();
    emit countsChanged();
    emit recordsChanged();
}

// --- access -----------------------------------------------------------------------------------

const LockRecord *LockTableModel::record(const QModelIndex &index) const
{
    if (!index.isValid() || index.model() != this)
        return nullptr;
    return record(index.row());
}

const LockRecord *LockTableModel::record(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return nullptr;
    return &m_rows[std::size_t(row)]->record;
}

QString LockTableModel::group(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return {};
    return m_rows[std::size_t(row)]->group;
}

QModelIndex LockTableModel::indexFor(const QString &group, const QByteArray &key, int column) const
{
    const auto groupIt = m_index.constFind(group);
    if (groupIt == m_index.cend())
        return {};
    const Row *row = groupIt->value(key);
    if (!row)
        return {};
    renumber();
    return index(row->row, column);
}

QStringList LockTableModel::groups() const
{
    QStringList names = m_index.keys();
    names.sort();
    return names;
}

int LockTableModel::lockCount(const QString &group) const
{
    const auto it = m_index.constFind(group);
    return it == m_index.cend() ? 0 : int(it->size());
}

// --- countdown --------------------------------------------------------------------------------

void LockTableModel::setClock(std::function<Clock::time_point()> clock)
{
    m_clock = clock ? std::move(clock) : [] {
        return Clock::now();
    };
    updateTimer();
}

void LockTableModel::setTickInterval(std::chrono::milliseconds interval)
{
    m_timer.setInterval(interval);
}

bool LockTableModel::isCounting(const Row &row) const
{
    return row.hasTtl() && !row.expired;
}

qint64 LockTableModel::remainingMs(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return -1;
    return remainingOf(*m_rows[std::size_t(row)]);
}

qint64 LockTableModel::remainingOf(const Row &row) const
{
    if (!row.hasTtl())
        return -1;
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(m_clock() - row.record.readAtSteady);
    return row.record.minPttlMs - elapsed.count();
}

void LockTableModel::tick()
{
    const Clock::time_point now = m_clock();
    renumber();
    bool counting = false;
    std::vector<std::pair<int, int>> expired; // row -> every column
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        Row &row = *m_rows[i];
        if (row.ageAtReadMs >= 0)
            counting = true; // the age counts on
        if (!isCounting(row))
            continue;
        const int r = int(i);
        counting = true;
        // Expired on every holder (a Redlock holder with a longer TTL still holds the key).
        if (row.expiresAt && now >= *row.expiresAt) {
            row.expired = true;
            if (row.record.anomalies.isEmpty())
                ++m_anomalyRows;
            if (!row.record.anomalies.contains(QLatin1String(anomaly::Expired)))
                row.record.anomalies.append(QLatin1String(anomaly::Expired));
            expired.emplace_back(r, (1 << ColumnCount) - 1);
        }
    }
    if (!counting) {
        updateTimer();
        return;
    }
    // Only the countdown moved: the sort value (the deadline) and the filtered roles did not, so
    // a proxy has nothing to re-sort or re-filter; views repaint the column.
    emit countdownTicked();
    if (!expired.empty()) {
        // Row by row (a sorting proxy then revisits only these), unless most rows expired.
        emitRangesChanged(std::move(expired));
        emit countsChanged();
        emit recordsChanged();
        updateTimer();
    }
}

void LockTableModel::updateTimer()
{
    const bool counting = std::any_of(m_rows.cbegin(), m_rows.cend(), [this](const auto &row) {
        return isCounting(*row) || row->ageAtReadMs >= 0;
    });
    if (counting && !m_timer.isActive())
        m_timer.start();
    else if (!counting && m_timer.isActive())
        m_timer.stop();
}
