#pragma once

#include <QDateTime>
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
    /// A line that says the same thing again as more nodes report it: the line logged with this
    /// `key` is updated in place (text and tooltip) while it is still in the log; else appended.
    void logOrUpdate(const QString &key, Kind kind, const QString &node, const QString &text,
                     const QString &detail);
};
