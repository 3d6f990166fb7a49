#pragma once

#include <QList>
#include <QString>

class QAction;
class QWidget;

/// The Help menu's windows. Each is a child of `parent`, made once and shown again on the next
/// call (not modal: the operator reads it beside the table).
namespace helpdialogs {

/// The shortcuts the getting-started guide names, as the actions have them.
struct GuideKeys
{
    QString connections;
    QString extend;
    QString forceRelease;
    QString simulator;
    QString lockctl;
};

/// "Getting started": connect, read the table, filter, act, simulate, script it.
void showGettingStarted(QWidget *parent, const GuideKeys &keys);
/// Every shortcut of `actions` (those with text and a shortcut) and the view's own keys.
void showShortcuts(QWidget *parent, const QList<QAction *> &actions);
/// Version, the libraries whose locks are read, the audit log's path, Qt versions.
void showAbout(QWidget *parent, const QString &auditPath);

} // namespace helpdialogs
