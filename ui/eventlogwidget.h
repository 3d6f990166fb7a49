#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QTimer>
#include <QTreeWidget>

/// The event log: one line per event (time, node, text), newest at the bottom, with the whole
/// story (what to do, every node's error) in the line's tooltip. It keeps the most recent
/// MaxEntries lines only: an unattended window must not grow without bound while a flapping
/// node logs every transition.
class EventLogWidget : public QTreeWidget
{
    Q_OBJECT

public:
    enum class Kind
    {
        Info,
        Up,
        Down,
        Error,
        Audit
    };
    enum Column
    {
        TimeColumn,
        NodeColumn,
        EventColumn
    };
    static constexpr int MaxEntries = 2000;

    explicit EventLogWidget(QWidget *parent = nullptr);

    /// Appends a line. `node` may be empty; `at` defaults to now; `detail` goes in the tooltip.
    void log(Kind kind, const QString &node, const QString &text, const QDateTime &at = {},
             const QString &detail = {});
    /// What a node of `group` reports about itself (what its ACL user may not read, say), said
    /// once per group and text: the nodes that say the same within half a second share one
    /// line, and a slower node that says it later joins that line, updated in place.
    void notice(const QString &group, const QString &node, const QString &text, const QString &detail);

private:
    /// Updates the line logged with `key` while it is still in the log; else appends one.
    void logOrUpdate(const QString &key, Kind kind, const QString &node, const QString &text,
                     const QString &detail);
    void flushNotices();

    struct Notice
    {
        QString group;
        QString text;
        QString detail;
    };
    QHash<QString, QStringList> m_noticesSaid; ///< group + text -> nodes already said
    QList<Notice> m_noticesPending;
    QTimer m_noticeTimer;
};
