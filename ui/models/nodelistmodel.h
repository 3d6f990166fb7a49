#pragma once

#include "redis/circuitbreaker.h"
#include "redis/nodeconfig.h"
#include "redis/nodeprobe.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>
#include <optional>

/// The configured Redis nodes and the last status probed for each, one row per node.
///
/// Rows are fixed by setNodes(); updateStatus() changes one row and signals dataChanged for
/// that row only, so that a refresh keeps selection, sorting and scroll position.
class NodeListModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        NodeColumn,
        AddressColumn,
        StatusColumn,
        LatencyColumn,
        VersionColumn,
        RoleColumn,
        CheckedColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum class State
    {
        Unknown,
        Up,
        Down
    };
    Q_ENUM(State)

    enum Role
    {
        /// Unformatted value of the cell, for sorting: QString, qint64 or QDateTime.
        RawValueRole = Qt::UserRole + 1,
        /// The node's State as an int, the same in every column of the row.
        StateRole,
    };

    explicit NodeListModel(QObject *parent = nullptr);

    void setNodes(const QList<lockscope::redis::NodeConfig> &nodes);
    QList<lockscope::redis::NodeConfig> nodes() const;
    lockscope::redis::NodeConfig node(int row) const;

    void updateStatus(int row, const lockscope::redis::NodeStatus &status);
    State state(int row) const;
    std::optional<lockscope::redis::NodeStatus> status(int row) const;
    /// The node's circuit breaker as NodeMonitor last reported it; signals dataChanged only when
    /// what the row shows of it changed.
    void updateBreaker(int row, const lockscope::redis::BreakerStatus &breaker);
    std::optional<lockscope::redis::BreakerStatus> breaker(int row) const;
    /// Nodes whose last probe succeeded.
    int upCount() const;
    /// Time of the most recent probe of any node; null before the first one.
    QDateTime lastChecked() const;

    /// The row of the node `config` names (same address and database), or -1.
    int rowOf(const lockscope::redis::NodeConfig &config) const;
    /// What makes two configured nodes the same node: address and database.
    static QString nodeKey(const lockscope::redis::NodeConfig &config);
    /// "Redis 7.2.4, master" (the mode too when it says more than the role).
    static QString serverDescription(const lockscope::redis::NodeStatus &status);
    /// Why a probe failed ("no answer" when it did not say).
    static QString failureText(const lockscope::redis::NodeStatus &status);
    /// The cause of a failed probe without the node label (the row already names it).
    static QString errorText(const lockscope::redis::RedisError &error);
    /// "Warning: Fence counters can be evicted (maxmemory-policy allkeys-lru)" for a node whose
    /// eviction policy can evict fence counters; empty otherwise.
    static QString fenceWarningText(const lockscope::redis::NodeStatus &status);
    /// "Breaker open until 18:42:05", "Breaker half-open"; empty while closed (the normal case
    /// says nothing).
    static QString breakerMarker(const lockscope::redis::BreakerStatus &breaker);
    /// The tooltip lines: "Circuit breaker: open until 18:42:05 after 3 failures" and "Last
    /// failure (read 18:41:59): Connection refused: ..."; a closed breaker that counted failures
    /// says "closed, 1 of 3 failures".
    static QStringList breakerToolTip(const lockscope::redis::BreakerStatus &breaker);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        lockscope::redis::NodeConfig config;
        std::optional<lockscope::redis::NodeStatus> status;
        std::optional<lockscope::redis::BreakerStatus> breaker;
    };

    QVariant displayData(const Row &row, int column) const;
    QVariant rawData(const Row &row, int column) const;
    QString toolTip(const Row &row) const;
    static State stateOf(const Row &row);

    QList<Row> m_rows;
};
