#pragma once

#include "inspect/lockrecord.h"

#include <QDateTime>
#include <QList>
#include <QWidget>
#include <optional>

class QAction;
class QFormLayout;
class RawValueView;
class QLabel;
class QLineEdit;
class QScrollArea;
class QStackedWidget;
class QTableWidget;
class QTimer;

/// The details of one lock: key, schema, owner, token, fencing, holds, acquired-at and
/// anomalies; for a lock of several holders (a read/write lock, a semaphore, a fair lock's
/// queue) every holder and waiter with its own TTL, as the selected node holds them, with the
/// per-holder actions under them; what every node of the group holds (present / missing /
/// unreachable, PTTL, type, value); and the raw bytes of the selected node's value as a hex dump.
///
/// The widget keeps a copy of the record, so the caller may refresh its model freely. Setting
/// the same group and key again (a refresh) keeps the selected node.
class LockDetailsWidget : public QWidget
{
    Q_OBJECT

public:
    enum NodeColumn
    {
        NodeNameColumn,
        NodeStateColumn,
        NodePttlColumn,
        NodeTypeColumn,
        NodeValueColumn,
        NodeColumnCount
    };
    enum HolderColumn
    {
        HolderWhoColumn, ///< "reader", "writer", "permit", "waiting 1"
        HolderOwnerColumn,
        HolderTtlColumn,
        HolderTokenColumn,
        HolderColumnCount
    };

    explicit LockDetailsWidget(QWidget *parent = nullptr);
    ~LockDetailsWidget() override;

    /// Shows `record` of `group`; nullptr shows the placeholder.
    void setRecord(const QString &group, const lockscope::inspect::LockRecord *record);
    /// When the record's facts were last read (a later refresh that found it unchanged), and
    /// whether the last refresh could not confirm it (a node unreachable: `why`). The TTL and
    /// the age are counted on from the read, every second, and say when they were read.
    void setReadState(const QDateTime &lastRead, bool stale = false, const QString &why = {});
    bool hasRecord() const { return m_record.has_value(); }
    QString group() const { return m_group; }
    /// The key shown (empty without a record).
    QByteArray key() const;

    /// Index into the record's nodes of the node whose value the raw view shows; -1 without one.
    int selectedNode() const { return m_selectedNode; }
    void selectNode(int node);
    /// The selected node's label.
    QString selectedNodeName() const;
    /// The selected node's value: a string's bytes, or a hash as "field value" lines (empty when
    /// the node does not hold the key).
    QByteArray selectedNodeValue() const;

    /// True when the lock has several holders or a queue, and the Holders list shows them.
    bool showsHolders() const;
    /// The holder picked in the Holders list (not a waiter); nullopt when none is.
    std::optional<lockscope::inspect::LockHolder> selectedHolder() const;
    /// Picks the holder in row `row` of the Holders list (a holder, not a waiter); false when
    /// there is none.
    bool selectHolder(int row);
    /// Buttons for these actions under the Holders list (release, extend one holder).
    void setHolderActions(const QList<QAction *> &actions);

    /// True while the raw view shows a hex dump instead of the text.
    bool showsHex() const;
    void setShowsHex(bool hex);

signals:
    void selectedNodeChanged(int node);
    /// The holder picked in the Holders list changed (or the list did, after a refresh).
    void selectedHolderChanged();

protected:
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void showRecord();
    /// The TTL and age lines as they stand now (a timer calls it every second).
    void updateClockTexts();
    void fitHeights();
    void fillNodes();
    /// The Holders list for the selected node, keeping the picked holder by its token.
    void fillHolders();
    /// The holders' TTL cells, counted down from the read.
    void updateHolderTtls();
    void showRawValue();

    QString m_group;
    std::optional<lockscope::inspect::LockRecord> m_record;
    int m_selectedNode = -1;
    QDateTime m_lastRead;
    bool m_stale = false;
    QString m_staleReason;
    QTimer *m_clock = nullptr;

    QStackedWidget *m_stack = nullptr;
    QScrollArea *m_summaryScroll = nullptr;
    QLabel *m_placeholder = nullptr;
    QLineEdit *m_key = nullptr;
    QFormLayout *m_form = nullptr;
    QLabel *m_groupLabel = nullptr;
    QLabel *m_schema = nullptr;
    QLabel *m_owner = nullptr;
    QLineEdit *m_token = nullptr;
    QLabel *m_fence = nullptr;
    QLabel *m_holds = nullptr;
    QLabel *m_acquired = nullptr;
    QLabel *m_held = nullptr;
    QLabel *m_ttl = nullptr;
    QLabel *m_anomalies = nullptr;
    QLabel *m_details = nullptr;
    QTableWidget *m_nodes = nullptr;
    QWidget *m_holdersBox = nullptr;
    QLabel *m_holdersTitle = nullptr;
    QTableWidget *m_holders = nullptr;
    QWidget *m_holderButtons = nullptr;
    /// What the Holders list shows: the holders, then the waiters (fair locks), in order.
    std::vector<lockscope::inspect::LockHolder> m_holderRows;
    int m_holderCount = 0;             ///< rows of m_holderRows that hold (the rest wait)
    RawValueView *m_rawView = nullptr; ///< the selected node's value, byte for byte
};
