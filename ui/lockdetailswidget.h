#pragma once

#include "inspect/lockrecord.h"

#include <QDateTime>
#include <QWidget>
#include <optional>

class QFormLayout;
class RawValueView;
class QLabel;
class QLineEdit;
class QScrollArea;
class QStackedWidget;
class QTableWidget;
class QTimer;

/// The details of one lock: key, schema, owner, token, fencing, holds, acquired-at and
/// anomalies; what every node of the group holds (present / missing / unreachable, PTTL, type,
/// value); and the raw bytes of the selected node's value as a hex dump.
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

    /// True while the raw view shows a hex dump instead of the text.
    bool showsHex() const;
    void setShowsHex(bool hex);

signals:
    void selectedNodeChanged(int node);

protected:
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void showRecord();
    /// The TTL and age lines as they stand now (a timer calls it every second).
    void updateClockTexts();
    void fitHeights();
    void fillNodes();
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
    RawValueView *m_rawView = nullptr; ///< the selected node's value, byte for byte
};
