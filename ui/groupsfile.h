#pragma once

#include "eventlogwidget.h"
#include "inspect/nodegroup.h"

#include <QList>
#include <QString>

class QWidget;

/// The app's side of the groups file (core's GroupConfig reads and writes it).
namespace groupsfile {

/// What saving did, as lines for the event log.
struct SaveReport
{
    bool ok = false;
    struct Line
    {
        EventLogWidget::Kind kind;
        QString text;
    };
    QList<Line> lines;
};

/// Saves `config` to `path`. A file there that cannot be read (LockScope started without groups
/// after saying so) is first set aside as <file>.unreadable-<time>, never overwritten: it may be
/// a hand-written file with one typo.
SaveReport save(const lockscope::inspect::GroupConfig &config, const QString &path);

/// Asks, when the groups file could not be read at start, whether to start without groups (true)
/// or quit. A GUI user started from a menu sees no stderr line.
bool askStartWithoutGroups(QWidget *parent, const QString &path, const QString &error);

} // namespace groupsfile
