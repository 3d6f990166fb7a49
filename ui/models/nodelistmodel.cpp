#include "nodelistmodel.h"

#include <QColor>
#include <QLocale>
#include <QVersionNumber>
#include <util/duration.h>

using lockscope::redis::BreakerState;
using lockscope::redis::BreakerStatus;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;
using lockscope::redis::RedisError;

namespace {

// A readable red on both light and dark row backgrounds.
const QColor DownTextColor(0xc0, 0x30, 0x2a);

qint64 versionKey(const QString &version)
{
    const QVersionNumber number = QVersionNumber::fromString(version);
    if (number.isNull())
        return -1;
    return qint64(number.majorVersion()) * 1'000'000 + qint64(number.minorVersion()) * 1'000 +
           qint64(number.microVersion());
}

QString roleText(const NodeStatus &status)
{
    if (status.mode.isEmpty() || status.mode == QLatin1String("standalone") || status.mode == status.role)
        return status.role;
    if (status.role.isEmpty())
        return status.mode;
    return status.role + QStringLiteral(" (") + status.mode + QLatin1Char(')');
}

} // namespace

NodeListModel::NodeListModel(QObject *parent) : QAbstractTableModel(parent) {}

void NodeListModel::setNodes(const QList<NodeConfig> &nodes)
{
    const bool extendsCurrent =
        nodes.size() > m_rows.size() &&
        std::equal(m_rows.cbegin(), m_rows.cend(), nodes.cbegin(),
                   [](const Row &row, const NodeConfig &config) { return row.config == config; });
    if (extendsCurrent) {
        // Nodes added to the end (e.g. demo nodes joining the ones given on the command line):
        // insert them, so that the selection, the sort and the known statuses stay.
        beginInsertRows({}, int(m_rows.size()), int(nodes.size()) - 1);
        for (qsizetype i = m_rows.size(); i < nodes.size(); ++i)
            m_rows.append(Row{nodes.at(i), std::nullopt, std::nullopt});
        endInsertRows();
        return;
    }

    // A node that stays keeps its last status until the next probe replaces it.
    QList<Row> rows;
    rows.reserve(nodes.size());
    for (const NodeConfig &config : nodes) {
        auto old = std::find_if(m_rows.cbegin(), m_rows.cend(),
                                [&](const Row &row) { return row.config == config; });
        // The breaker belongs to the monitor of the old configuration: the new one starts closed.
        rows.append(Row{config, old != m_rows.cend() ? old->status : std::nullopt, std::nullopt});
    }
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

int NodeListModel::rowOf(const NodeConfig &config) const
{
    const QString key = nodeKey(config);
    for (int row = 0; row < int(m_rows.size()); ++row) {
        if (nodeKey(m_rows.at(row).config) == key)
            return row;
    }
    return -1;
}

QString NodeListModel::nodeKey(const NodeConfig &config)
{
    return config.address() + QLatin1Char('/') + QString::number(config.db);
}

QString NodeListModel::serverDescription(const NodeStatus &status)
{
    QStringList parts;
    if (!status.version.isEmpty())
        parts << QStringLiteral("Redis ") + status.version;
    if (!status.role.isEmpty())
        parts << status.role;
    if (!status.mode.isEmpty() && status.mode != QLatin1String("standalone") && status.mode != status.role)
        parts << status.mode;
    return parts.join(QStringLiteral(", "));
}

QString NodeListModel::failureText(const NodeStatus &status)
{
    return status.error ? errorText(*status.error) : tr("no answer");
}

QList<NodeConfig> NodeListModel::nodes() const
{
    QList<NodeConfig> result;
    result.reserve(m_rows.size());
    for (const Row &row : m_rows)
        result.append(row.config);
    return result;
}

NodeConfig NodeListModel::node(int row) const
{
    Q_ASSERT(row >= 0 && row < m_rows.size());
    return m_rows.at(row).config;
}

void NodeListModel::updateStatus(int row, const NodeStatus &status)
{
    if (row < 0 || row >= m_rows.size())
        return;
    m_rows[row].status = status;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void NodeListModel::updateBreaker(int row, const BreakerStatus &breaker)
{
    if (row < 0 || row >= m_rows.size())
        return;
    std::optional<BreakerStatus> &old = m_rows[row].breaker;
    const bool changed = !old || old->state != breaker.state ||
                         old->consecutiveFailures != breaker.consecutiveFailures ||
                         old->openUntil != breaker.openUntil || old->lastFailureAt != breaker.lastFailureAt;
    old = breaker;
    if (changed)
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

std::optional<BreakerStatus> NodeListModel::breaker(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return std::nullopt;
    return m_rows.at(row).breaker;
}

QString NodeListModel::breakerMarker(const BreakerStatus &breaker)
{
    switch (breaker.state) {
    case BreakerState::Closed:
        return {};
    case BreakerState::Open:
        return tr("Breaker open until %1")
            .arg(QLocale().toString(breaker.openUntil.toLocalTime().time(), QStringLiteral("HH:mm:ss")));
    case BreakerState::HalfOpen:
        return tr("Breaker half-open");
    }
    return {};
}

QStringList NodeListModel::breakerToolTip(const BreakerStatus &breaker)
{
    const int threshold = lockscope::redis::BreakerOptions{}.failureThreshold;
    const int failures = breaker.consecutiveFailures;
    QString state;
    switch (breaker.state) {
    case BreakerState::Closed:
        state = failures > 0 ? tr("closed, %1 of %2 failures").arg(failures).arg(threshold) : tr("closed");
        break;
    case BreakerState::Open:
        state =
            (failures == 1 ? tr("open until %1 after 1 failure") : tr("open until %1 after %2 failures"))
                .arg(QLocale().toString(breaker.openUntil.toLocalTime().time(), QStringLiteral("HH:mm:ss")))
                .arg(failures);
        break;
    case BreakerState::HalfOpen:
        state = tr("half-open: the next probe decides");
        break;
    }
    QStringList lines{tr("Circuit breaker: %1").arg(state)};
    if (breaker.lastFailureAt.isValid() && !breaker.lastCause.isEmpty()) {
        QString cause = breaker.lastCause;
        cause[0] = cause[0].toUpper();
        lines << tr("Last failure (read %1): %2")
                     .arg(QLocale().toString(breaker.lastFailureAt.toLocalTime().time(),
                                             QStringLiteral("HH:mm:ss")),
                          cause);
    }
    return lines;
}

NodeListModel::State NodeListModel::state(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return State::Unknown;
    return stateOf(m_rows.at(row));
}

std::optional<NodeStatus> NodeListModel::status(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return std::nullopt;
    return m_rows.at(row).status;
}

int NodeListModel::upCount() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(),
                             [](const Row &row) { return stateOf(row) == State::Up; }));
}

QDateTime NodeListModel::lastChecked() const
{
    QDateTime latest;
    for (const Row &row : m_rows) {
        if (row.status && (latest.isNull() || row.status->checkedAt > latest))
            latest = row.status->checkedAt;
    }
    return latest;
}

QString NodeListModel::errorText(const RedisError &error)
{
    const QString kind = RedisError::kindName(error.kind);
    QString text;
    // Core messages often start with the kind already ("cannot resolve host ...").
    const QString firstWords = kind.section(QLatin1Char(' '), 0, 1);
    if (error.message.isEmpty())
        text = kind;
    else if (error.message.startsWith(firstWords, Qt::CaseInsensitive))
        text = error.message;
    else
        text = kind + QStringLiteral(": ") + error.message;
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    return text;
}

QString NodeListModel::fenceWarningText(const NodeStatus &status)
{
    if (!status.fenceCountersEvictable())
        return {};
    QString text = status.fenceWarning();
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    return tr("Warning: %1").arg(text);
}

int NodeListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int NodeListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodeListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, column);
    case RawValueRole:
        return rawData(row, column);
    case StateRole:
        return int(stateOf(row));
    case Qt::ToolTipRole:
        return toolTip(row);
    case Qt::ForegroundRole:
        if (column == StatusColumn &&
            (stateOf(row) == State::Down || (row.breaker && row.breaker->state != BreakerState::Closed)))
            return DownTextColor;
        return {};
    case Qt::TextAlignmentRole:
        if (column == LatencyColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    default:
        return {};
    }
}

QVariant NodeListModel::displayData(const Row &row, int column) const
{
    const std::optional<NodeStatus> &status = row.status;
    const bool up = stateOf(row) == State::Up;
    switch (column) {
    case NodeColumn:
        return row.config.label();
    case AddressColumn:
        return row.config.address();
    case StatusColumn: {
        if (!status)
            return tr("Checking…");
        const QString text = up ? tr("Up") : status->error ? errorText(*status->error) : tr("Down");
        // The marker first: it is what a narrow column must not cut off.
        const QString marker = row.breaker ? breakerMarker(*row.breaker) : QString();
        return marker.isEmpty() ? text : marker + QStringLiteral(" — ") + text;
    }
    case LatencyColumn:
        return up ? lockscope::formatLatency(status->latency, QLocale()) : QString();
    case VersionColumn:
        return up ? status->version : QString();
    case RoleColumn:
        return up ? roleText(*status) : QString();
    case CheckedColumn:
        return status ? QLocale().toString(status->checkedAt.toLocalTime().time(), QStringLiteral("HH:mm:ss"))
                      : QString();
    default:
        return {};
    }
}

QVariant NodeListModel::rawData(const Row &row, int column) const
{
    const std::optional<NodeStatus> &status = row.status;
    const bool up = stateOf(row) == State::Up;
    switch (column) {
    case NodeColumn:
        return row.config.label();
    case AddressColumn:
        return row.config.address();
    case StatusColumn:
        return int(stateOf(row));
    case LatencyColumn:
        return qint64(up ? status->latency.count() : -1);
    case VersionColumn:
        return up ? versionKey(status->version) : qint64(-1);
    case RoleColumn:
        return up ? roleText(*status) : QString();
    case CheckedColumn:
        return status ? status->checkedAt : QDateTime();
    default:
        return {};
    }
}

QString NodeListModel::toolTip(const Row &row) const
{
    QString text = row.config.toUrl();
    if (row.status && row.status->error)
        text += QLatin1Char('\n') + row.status->error->toString();
    if (row.status && row.status->reachable && row.status->fenceCountersEvictable())
        text += QLatin1Char('\n') + fenceWarningText(*row.status);
    if (row.breaker && (row.breaker->state != BreakerState::Closed || row.breaker->consecutiveFailures > 0))
        text += QLatin1Char('\n') + breakerToolTip(*row.breaker).join(QLatin1Char('\n'));
    return text;
}

NodeListModel::State NodeListModel::stateOf(const Row &row)
{
    if (!row.status)
        return State::Unknown;
    return row.status->reachable ? State::Up : State::Down;
}

QVariant NodeListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::TextAlignmentRole)
        return QVariant::fromValue((section == LatencyColumn ? Qt::AlignRight : Qt::AlignLeft) |
                                   Qt::AlignVCenter);
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NodeColumn:
        return tr("Node");
    case AddressColumn:
        return tr("Address");
    case StatusColumn:
        return tr("Status");
    case LatencyColumn:
        return tr("Latency");
    case VersionColumn:
        return tr("Version");
    case RoleColumn:
        return tr("Role");
    case CheckedColumn:
        return tr("Last Checked");
    default:
        return {};
    }
}
