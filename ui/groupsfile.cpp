#include "groupsfile.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>

using lockscope::inspect::GroupConfig;
using Kind = EventLogWidget::Kind;

namespace groupsfile {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("GroupsFile", text);
}

} // namespace

SaveReport save(const GroupConfig &config, const QString &path)
{
    SaveReport report;
    if (QFileInfo::exists(path) && !GroupConfig::load(path)) {
        const QString kept = path + QStringLiteral(".unreadable-") +
                             QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        if (!QFile::rename(path, kept)) {
            report.lines.append(
                {Kind::Error, tr("Could not save the groups: the unreadable %1 could not be set aside as %2")
                                  .arg(path, kept)});
            return report;
        }
        report.lines.append({Kind::Info, tr("The unreadable groups file was kept as %1").arg(kept)});
    }
    if (auto saved = config.save(path); !saved) {
        report.lines.append({Kind::Error, tr("Could not save the groups: %1").arg(saved.error())});
        return report;
    }
    report.lines.append({Kind::Info, tr("Saved the groups to %1").arg(path)});
    report.ok = true;
    return report;
}

bool askStartWithoutGroups(QWidget *parent, const QString &path, const QString &error)
{
    QMessageBox box(QMessageBox::Critical, tr("LockScope"), tr("The groups file could not be read."),
                    QMessageBox::NoButton, parent);
    box.setObjectName(QStringLiteral("unreadableGroupsBox"));
    box.setInformativeText(tr("%1\n\nLockScope can start without groups. The file stays as it is; if you "
                              "save groups from Connections, it is first kept beside as "
                              "%2.unreadable-<time>.")
                               .arg(error, QFileInfo(path).fileName()));
    QPushButton *start = box.addButton(tr("Start without groups"), QMessageBox::AcceptRole);
    start->setObjectName(QStringLiteral("startWithoutGroups"));
    QPushButton *quit = box.addButton(tr("Quit"), QMessageBox::RejectRole);
    quit->setObjectName(QStringLiteral("quit"));
    box.setDefaultButton(start);
    box.exec();
    return box.clickedButton() == start;
}

} // namespace groupsfile
