// LockTableModel, what the rows show: display and sort data per column, tooltips, colours, the
// anomaly texts and icons, and the countdown and age formats. Merging snapshots into the rows
// and the countdown timer are in locktablemodel.cpp.

#include "locktablemodel.h"
#include "locktablerow.h"
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

namespace {

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

/// The Kind cell's tooltip: the kind in a sentence, with who holds it and who waits.
QString kindToolTip(const LockRecord &record)
{
    const NodeEntry *entry = lockscope::inspect::majorityEntry(record);
    if (!entry || !entry->decoded)
        return LockTableModel::tr("Not decoded: the kind of lock is unknown");
    const lockscope::inspect::DecodedLock &decoded = *entry->decoded;
    namespace kind = lockscope::inspect::lockKind;
    const auto n = qint64(decoded.holders.size());
    QString text;
    if (decoded.kind == QLatin1String(kind::Read))
        text = locktext::counted(n, LockTableModel::tr("Read/write lock held by %1 reader"),
                                 LockTableModel::tr("Read/write lock held by %1 readers")) +
               LockTableModel::tr(", each with its own TTL; a writer waits until all are gone");
    else if (decoded.kind == QLatin1String(kind::Write))
        text = LockTableModel::tr("Read/write lock held by a writer: readers and other writers wait");
    else if (decoded.kind == QLatin1String(kind::Semaphore))
        text = decoded.permits >= 0
                   ? LockTableModel::tr("Counting semaphore: %1 of %2 permits in use, each with its own TTL")
                         .arg(n)
                         .arg(decoded.permits)
                   : LockTableModel::tr("Counting semaphore: %1 permits in use (the limit is not recorded)")
                         .arg(n);
    else if (decoded.kind == QLatin1String(kind::Reentrant))
        text = LockTableModel::tr("Reentrant lock: its owner may take it again; hold count %1")
                   .arg(record.holdCount >= 0 ? QString::number(record.holdCount) : QStringLiteral("?"));
    else if (decoded.kind == QLatin1String(kind::Fair))
        text = locktext::counted(qint64(decoded.queue.size()),
                                 LockTableModel::tr("Fair lock: served in arrival order; %1 waiter queued"),
                                 LockTableModel::tr("Fair lock: served in arrival order; %1 waiters queued"));
    else
        text = LockTableModel::tr("Mutex: one holder at a time");
    if (n > 1 || !decoded.queue.empty())
        text += QLatin1Char('\n') + LockTableModel::tr("Details lists every holder and waiter");
    return text;
}

} // namespace

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
    if (id == QLatin1String(anomaly::ClusterRedirect))
        return tr("Cluster redirect: a node is a Redis Cluster node that serves this key's slot elsewhere "
                  "(LockScope does not follow cluster redirects yet)");
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
    case Kind:
        return row.kind;
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
    case Kind:
        return row.kind;
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
    case Kind:
        return a.kind.compare(b.kind, Qt::CaseInsensitive);
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
        return tr("Group %1: %2").arg(row.group).arg(locktext::counted(r.of, tr("%1 node"), tr("%1 nodes")));
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
    case Kind:
        return kindToolTip(r);
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
        case Kind:
            return tr("Kind");
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
        case Kind:
            return tr("The kind of lock: mutex, read ×N (N readers share it), write, semaphore used/N "
                      "permits, reentrant ×holds, fair (and how many wait). Details lists every holder");
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
