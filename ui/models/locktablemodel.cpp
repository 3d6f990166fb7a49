#include "locktablemodel.h"

#include "locktext.h"
#include "themecolors.h"
#include "util/displaytext.h"
#include "util/quorum.h"

#include <QGuiApplication>
#include <QIcon>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>
#include <QSet>
#include <algorithm>
#include <limits>

using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
namespace anomaly = lockscope::inspect::anomaly;

struct LockTableModel::Row
{
    QString group;
    LockRecord record;
    QString keyText; ///< the key for people: invalid UTF-8 and control bytes escaped (\xff)
    QString ns;
    QString label;           ///< the majority holder's label
    QString owner;           ///< locktext::ownerText() (cached: sorted and filtered on)
    QDateTime acquiredAt;    ///< the majority holder's, when the format records it
    qint64 ageAtReadMs = -1; ///< acquiredAt to the snapshot's read time; the Age column counts on
    QString tokenText;
    /// When LockRecord::expiredAt() turns true (computed once, so a tick is one comparison).
    std::optional<Clock::time_point> expiresAt;
    bool expired = false; ///< the countdown ran out after the snapshot (anomaly::Expired added)
    /// The last scan could not confirm the row (a node of the group was unreachable and the key
    /// was not seen elsewhere): shown as last read, marked stale, until a complete scan decides.
    bool stale = false;
    QString staleReason;
    int row = -1;

    void assign(LockRecord next)
    {
        record = std::move(next);
        keyText = locktext::shortText(record.key, 1024);
        ns = LockTableModel::keyNamespace(record.key);
        label = locktext::labelOf(record);
        owner = locktext::ownerText(record);
        acquiredAt = {};
        if (const NodeEntry *entry = lockscope::inspect::majorityEntry(record); entry && entry->decoded)
            acquiredAt = entry->decoded->acquiredAt;
        ageAtReadMs = acquiredAt.isValid() && record.readAt.isValid()
                          ? std::max<qint64>(0, acquiredAt.msecsTo(record.readAt))
                          : -1;
        tokenText = locktext::shortText(record.token);
        expired = false;
        stale = false;
        staleReason.clear();
        // expiredAt() holds from the longest holder's TTL on; try each node's deadline in order
        // so that the rule stays core's (which nodes count as holders).
        expiresAt.reset();
        std::vector<qint64> ttls;
        for (const NodeEntry &entry : record.nodes) {
            if (entry.present() && entry.raw.pttlMs >= 0)
                ttls.push_back(entry.raw.pttlMs);
        }
        std::sort(ttls.begin(), ttls.end());
        for (const qint64 ttl : ttls) {
            const Clock::time_point at = record.readAtSteady + std::chrono::milliseconds(ttl);
            if (record.expiredAt(at)) {
                expiresAt = at;
                break;
            }
        }
    }

    /// How long the lock has been held at `now`: the age when read, counted on since.
    qint64 ageAt(Clock::time_point now) const
    {
        if (ageAtReadMs < 0)
            return -1;
        return ageAtReadMs +
               std::max<qint64>(
                   0,
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - record.readAtSteady).count());
    }

    bool hasTtl() const { return record.held > 0 && record.minPttlMs >= 0; }
    bool noTtl() const { return record.held > 0 && record.minPttlMs < 0; }
};

namespace {

constexpr auto DefaultTick = std::chrono::milliseconds(250);

bool isSevere(const QString &id)
{
    return id == QLatin1String(anomaly::QuorumLost) || id == QLatin1String(anomaly::TokensDiffer) ||
           id == QLatin1String(anomaly::Expired);
}

QPixmap renderWarning(const QColor &color, int size, qreal dpr)
{
    QPixmap pixmap(QSize(size, size) * dpr);
    pixmap.setDevicePixelRatio(dpr);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    const qreal m = size * 0.1;
    QPainterPath triangle;
    triangle.moveTo(size / 2.0, m);
    triangle.lineTo(size - m, size - m * 1.2);
    triangle.lineTo(m, size - m * 1.2);
    triangle.closeSubpath();
    painter.setPen(QPen(color.darker(130), 1.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(color);
    painter.drawPath(triangle);
    painter.setPen(QPen(Qt::white, size / 9.0, Qt::SolidLine, Qt::RoundCap));
    painter.drawLine(QPointF(size / 2.0, size * 0.38), QPointF(size / 2.0, size * 0.62));
    painter.drawPoint(QPointF(size / 2.0, size * 0.76));
    return pixmap;
}

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
        return {Group, Key, Schema, Owner, Ttl, Held, Fence, Token, Age};
    std::vector<int> columns;
    if (old.schema != next.schema)
        columns.push_back(Schema);
    if (old.owner != next.owner || row.label != locktext::labelOf(next) || old.schema != next.schema)
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

// --- presentation -----------------------------------------------------------------------------

QString LockTableModel::anomalyText(const QString &id)
{
    if (id == QLatin1String(anomaly::NoTtl))
        return tr("No TTL: a node holds the key without expiry, so it stays until someone deletes it");
    if (id == QLatin1String(anomaly::TokensDiffer))
        return tr("Tokens differ: the nodes hold different owners' tokens");
    if (id == QLatin1String(anomaly::QuorumLost))
        return tr("Quorum lost: fewer than a majority of the nodes hold the lock");
    if (id == QLatin1String(anomaly::NodeUnreachable))
        return tr("Node unreachable: a node of the group could not be read");
    if (id == QLatin1String(anomaly::Expired))
        return tr("Expired while shown: the TTL ran out after the last refresh");
    if (id == QLatin1String(anomaly::Undecoded))
        return tr("Undecoded: no lock schema recognises the value (shown raw)");
    if (id == QLatin1String(StaleAnomaly))
        return tr("Stale: the last refresh could not read it (a node is unreachable); shown as last read");
    return id;
}

QIcon LockTableModel::anomalyIcon(const QStringList &anomalies)
{
    if (anomalies.isEmpty())
        return {};
    const bool severe = std::any_of(anomalies.cbegin(), anomalies.cend(), isSevere);
    // GUI thread only; two icons.
    static QIcon icons[2];
    QIcon &icon = icons[severe ? 1 : 0];
    if (icon.isNull()) {
        const QColor color = severe ? QColor(0xd9, 0x3f, 0x3a) : QColor(0xe0, 0x9b, 0x1a);
        for (const int size : {16, 20, 24})
            for (const qreal dpr : {1.0, 2.0})
                icon.addPixmap(renderWarning(color, size, dpr));
    }
    return icon;
}

namespace {

/// "42 s", "3m 05s", "2h 07m", "1d 4h": a duration of a second or more, to the unit that matters.
QString wholeSeconds(qint64 s)
{
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1m %2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86'400)
        return QStringLiteral("%1h %2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1d %2h").arg(s / 86'400).arg((s % 86'400) / 3600);
}

} // namespace

QString LockTableModel::formatCountdown(qint64 ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 10'000)
        return QLocale().toString(double(ms) / 1000.0, 'f', 1) + QStringLiteral(" s");
    return wholeSeconds(ms / 1000);
}

QString LockTableModel::formatAge(qint64 ms)
{
    if (ms < 0)
        return {};
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    return wholeSeconds(ms / 1000);
}

QString LockTableModel::keyNamespace(const QByteArray &key)
{
    const qsizetype colon = key.lastIndexOf(':');
    return colon > 0 ? lockscope::displayText(key.left(colon)) : QString();
}

int LockTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LockTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LockTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = *m_rows[std::size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, column);
    case SortRole:
        return sortData(row, column);
    case Qt::ToolTipRole:
        return toolTip(row, column);
    case Qt::ForegroundRole:
        return foreground(row, column);
    case Qt::FontRole:
        if (row.stale) {
            QFont font;
            font.setItalic(true);
            return font;
        }
        return {};
    case Qt::DecorationRole:
        if (column == Key && !row.record.anomalies.isEmpty())
            return anomalyIcon(row.record.anomalies);
        return {};
    case Qt::TextAlignmentRole:
        if (column == Ttl || column == Held || column == Fence || column == Age)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case AnomaliesRole:
        return row.record.anomalies;
    case GroupRole:
        return row.group;
    case KeyRole:
        return row.record.key;
    case SchemaRole:
        return row.record.schema;
    case NamespaceRole:
        return row.ns;
    case TtlRemainingRole:
        return remainingOf(row);
    default:
        return {};
    }
}

QVariant LockTableModel::displayData(const Row &row, int column) const
{
    const LockRecord &r = row.record;
    switch (column) {
    case Group:
        return row.group;
    case Key:
        return row.keyText;
    case Schema:
        if (r.schema.isEmpty())
            return tr("raw");
        // A format that is only a guess says so (as lockctl list does).
        return r.confidence == lockscope::inspect::Confidence::Guess ? r.schema + QLatin1Char('?') : r.schema;
    case Owner:
        return row.owner;
    case Ttl:
        if (r.held == 0)
            return QString();
        if (row.expired)
            return row.stale ? tr("expired?") : tr("expired");
        if (row.noTtl())
            return tr("no TTL");
        // Stale: what the countdown from the last read says, with a question mark.
        return formatCountdown(remainingOf(row)) + (row.stale ? QStringLiteral("?") : QString());
    case Held:
        if (r.of <= 1)
            return QStringLiteral("%1/%2").arg(r.held).arg(r.of);
        return QStringLiteral("%1/%2 %3")
            .arg(r.held)
            .arg(r.of)
            .arg(r.quorum ? QStringLiteral("✓") : QStringLiteral("✗"));
    case Fence:
        return r.fence >= 0 ? QLocale().toString(r.fence) : QString();
    case Token:
        return row.tokenText.size() > 9 ? row.tokenText.left(8) + QStringLiteral("…") : row.tokenText;
    case Age:
        return formatAge(row.ageAt(m_clock()));
    default:
        return {};
    }
}

QVariant LockTableModel::sortData(const Row &row, int column) const
{
    switch (column) {
    case Group:
        return row.group;
    case Key:
        return row.keyText;
    case Schema:
        return row.record.schema;
    case Owner:
        return row.owner;
    case Token:
        return row.tokenText;
    default:
        return sortNumber(row, column);
    }
}

qint64 LockTableModel::sortNumber(const Row &row, int column)
{
    const LockRecord &r = row.record;
    switch (column) {
    case Ttl: {
        // The deadline on the steady clock: orders like the remaining time but stays constant
        // between refreshes. No TTL (forever) sorts after every countdown.
        if (!row.hasTtl())
            return std::numeric_limits<qint64>::max();
        const auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
            r.readAtSteady.time_since_epoch() + std::chrono::milliseconds(r.minPttlMs));
        return qint64(deadline.count());
    }
    case Held:
        return qint64(r.held) * 1000 + r.of;
    case Fence:
        return r.fence;
    case Age: {
        // The age at the read minus the read's steady time: orders like the age now, and stays
        // constant while the ages count on. Unknown sorts first.
        if (row.ageAtReadMs < 0)
            return std::numeric_limits<qint64>::min();
        return row.ageAtReadMs -
               std::chrono::duration_cast<std::chrono::milliseconds>(r.readAtSteady.time_since_epoch())
                   .count();
    }
    default:
        return 0;
    }
}

int LockTableModel::compareRows(int left, int right, int column) const
{
    const Row &a = *m_rows[std::size_t(left)];
    const Row &b = *m_rows[std::size_t(right)];
    switch (column) {
    case Group:
        return a.group.compare(b.group, Qt::CaseInsensitive);
    case Key:
        return a.keyText.compare(b.keyText, Qt::CaseInsensitive);
    case Schema:
        return a.record.schema.compare(b.record.schema, Qt::CaseInsensitive);
    case Owner:
        return a.owner.compare(b.owner, Qt::CaseInsensitive);
    case Token:
        return a.tokenText.compare(b.tokenText, Qt::CaseInsensitive);
    default: {
        const qint64 x = sortNumber(a, column);
        const qint64 y = sortNumber(b, column);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    }
}

QString LockTableModel::namespaceOf(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return {};
    return m_rows[std::size_t(row)]->ns;
}

QString LockTableModel::keyText(int row) const
{
    return row >= 0 && std::size_t(row) < m_rows.size() ? m_rows[std::size_t(row)]->keyText : QString();
}

qint64 LockTableModel::ageMs(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return -1;
    return m_rows[std::size_t(row)]->ageAt(m_clock());
}

QDateTime LockTableModel::lastReadOf(const Row &row) const
{
    if (row.stale)
        return row.record.readAt;
    const QDateTime group = m_groupReadAt.value(row.group);
    return group.isValid() && group > row.record.readAt ? group : row.record.readAt;
}

QDateTime LockTableModel::lastReadAt(int row) const
{
    if (row < 0 || std::size_t(row) >= m_rows.size())
        return {};
    return lastReadOf(*m_rows[std::size_t(row)]);
}

bool LockTableModel::isStale(int row) const
{
    return row >= 0 && std::size_t(row) < m_rows.size() && m_rows[std::size_t(row)]->stale;
}

QString LockTableModel::staleReason(int row) const
{
    return row >= 0 && std::size_t(row) < m_rows.size() ? m_rows[std::size_t(row)]->staleReason : QString();
}

QString LockTableModel::tokenText(int row) const
{
    return row >= 0 && std::size_t(row) < m_rows.size() ? m_rows[std::size_t(row)]->tokenText : QString();
}

QVariant LockTableModel::toolTip(const Row &row, int column) const
{
    const LockRecord &r = row.record;
    switch (column) {
    case Group:
        return tr("Group %1: %2").arg(row.group).arg(locktext::counted(r.of, tr("node"), tr("nodes")));
    case Key: {
        QString text = row.keyText.toHtmlEscaped();
        if (row.stale)
            text += QStringLiteral("<br><b>") +
                    tr("Not confirmed since %1: %2. Shown as last read; it may have been released or "
                       "extended since.")
                        .arg(locktext::clockTime(r.readAt), row.staleReason)
                        .toHtmlEscaped() +
                    QStringLiteral("</b>");
        if (!r.anomalies.isEmpty()) {
            text += QStringLiteral("<ul style=\"margin-left:12px; -qt-list-indent:0\">");
            for (const QString &id : r.anomalies)
                text += QStringLiteral("<li>") + anomalyText(id).toHtmlEscaped() + QStringLiteral("</li>");
            text += QStringLiteral("</ul>");
        }
        return QStringLiteral("<p style=\"white-space:pre\">") + text + QStringLiteral("</p>");
    }
    case Schema: {
        if (r.schema.isEmpty())
            return anomalyText(QLatin1String(anomaly::Undecoded));
        if (!r.confidence)
            return r.schema;
        QString text = tr("%1 (%2)").arg(r.schema, lockscope::inspect::confidenceText(*r.confidence));
        if (!r.confidenceReason.isEmpty())
            text += QStringLiteral(": ") + r.confidenceReason;
        if (*r.confidence == lockscope::inspect::Confidence::Guess)
            text += QLatin1Char('\n') + tr("Force Release and Extend ask you to confirm that it is a lock.");
        return text;
    }
    case Owner:
        return row.owner;
    case Ttl: {
        const QString read = locktext::readAt(lastReadOf(row));
        if (row.expired)
            return anomalyText(QLatin1String(anomaly::Expired)) + QLatin1Char('\n') +
                   tr("Ran out at %1 (%2)").arg(locktext::clockTime(locktext::expiresAt(r)), read);
        if (row.noTtl())
            return anomalyText(QLatin1String(anomaly::NoTtl)) + QLatin1Char('\n') + read;
        if (row.hasTtl()) {
            QString text =
                tr("Expires at %1 (%2 left); PTTL %3 ms, %4")
                    .arg(locktext::clockTime(locktext::expiresAt(r)), formatCountdown(remainingOf(row)),
                         QLocale().toString(r.minPttlMs), locktext::readAt(r.readAt));
            if (row.stale)
                text += QLatin1Char('\n') + tr("Not confirmed since (%1): unless someone extended or "
                                               "released it, it expires then")
                                                .arg(row.staleReason);
            else if (lastReadOf(row) != r.readAt)
                text += QLatin1Char('\n') + tr("Unchanged at the last refresh, %1").arg(read);
            return text;
        }
        return {};
    }
    case Held: {
        QString text = tr("Held on %1 of %2 nodes").arg(r.held).arg(r.of);
        if (r.of > 1)
            text += r.quorum ? tr("; quorum (%1) reached").arg(lockscope::quorumOf(r.of))
                             : tr("; quorum (%1) lost").arg(lockscope::quorumOf(r.of));
        QStringList others;
        for (const NodeEntry &entry : r.nodes) {
            if (!entry.reachable)
                others << tr("%1: unreachable").arg(entry.node);
            else if (!entry.present())
                others << tr("%1: missing").arg(entry.node);
        }
        if (!others.isEmpty())
            text += QLatin1Char('\n') + others.join(QLatin1Char('\n'));
        return text;
    }
    case Fence:
        return r.fence >= 0 ? tr("Fencing token %1").arg(r.fence)
                            : tr("This lock format has no fencing token");
    case Token:
        return row.tokenText;
    case Age:
        if (!row.acquiredAt.isValid())
            return tr("The lock format does not record when it was acquired");
        return tr("Acquired at %1; held for %2 now")
            .arg(QLocale().toString(row.acquiredAt.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")),
                 formatAge(row.ageAt(m_clock())));
    default:
        return {};
    }
}

QVariant LockTableModel::foreground(const Row &row, int column) const
{
    const LockRecord &r = row.record;
    if (row.stale)
        return QGuiApplication::palette().color(QPalette::PlaceholderText);
    switch (column) {
    case Ttl: {
        if (row.expired || row.noTtl())
            return theme::danger();
        if (!row.hasTtl())
            return {};
        const qint64 left = remainingOf(row);
        if (left < 1000)
            return theme::danger();
        if (left < 5000)
            return theme::warning();
        return {};
    }
    case Held:
        return r.of > 1 && !r.quorum ? QVariant(theme::danger()) : QVariant();
    case Schema:
        return r.schema.isEmpty() ? QVariant(QGuiApplication::palette().color(QPalette::PlaceholderText))
                                  : QVariant();
    default:
        return {};
    }
}

QVariant LockTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue((section == Ttl || section == Held || section == Fence || section == Age
                                        ? Qt::AlignRight
                                        : Qt::AlignLeft) |
                                   Qt::AlignVCenter);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Group:
            return tr("Group");
        case Key:
            return tr("Key");
        case Schema:
            return tr("Schema");
        case Owner:
            return tr("Owner");
        case Ttl:
            return tr("TTL");
        case Held:
            return tr("Held");
        case Fence:
            return tr("Fence");
        case Token:
            return tr("Token");
        case Age:
            return tr("Age");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Group:
            return tr("The node group the lock was read from");
        case Key:
            return tr("The lock's Redis key; a warning sign marks anomalies");
        case Schema:
            return tr("The lock library whose format the value matches (raw: none does)");
        case Owner:
            return tr("Who holds the lock, as the value records it, and the holder's label");
        case Ttl:
            return tr("Time left before the lock expires: counting down live, re-synced from the server at "
                      "every refresh (the smallest TTL among the holders); the tooltip says until when. "
                      "A question mark: not confirmed by the last refresh");
        case Held:
            return tr(
                "Nodes holding the majority token, of the group's nodes; ✓ quorum reached, ✗ quorum lost");
        case Fence:
            return tr(
                "Fencing token: increases with every acquisition, for storage that rejects stale writers");
        case Token:
            return tr("The holder's token (abbreviated; the tooltip shows it in full)");
        case Age:
            return tr("How long the lock has been held, when the format records when it was acquired");
        default:
            return {};
        }
    }
    return {};
}
