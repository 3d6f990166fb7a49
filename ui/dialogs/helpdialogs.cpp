#include "helpdialogs.h"

#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QMessageBox>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace helpdialogs {

void showGettingStarted(QWidget *parent, const GuideKeys &keys)
{
    auto *dialog = parent->findChild<QDialog *>(QStringLiteral("gettingStartedDialog"));
    if (!dialog) {
        dialog = new QDialog(parent);
        dialog->setObjectName(QStringLiteral("gettingStartedDialog"));
        dialog->setWindowTitle(QObject::tr("Getting Started with LockScope"));
        auto *layout = new QVBoxLayout(dialog);
        auto *text = new QTextBrowser(dialog);
        text->setObjectName(QStringLiteral("gettingStartedText"));
        text->setOpenExternalLinks(false);
        text->setHtml(
            QObject::tr(
                "<h3>Getting started</h3>"
                "<ol>"
                "<li><b>Connect.</b> File &gt; Connections (%1) lists your node groups: one node, or the N "
                "independent nodes of a Redlock set. Mark production nodes (writes ask for the key to be "
                "typed) "
                "and read-only nodes (no write of any kind is sent). Passwords go to the keychain.</li>"
                "<li><b>Read the table.</b> Every lock key of every group, whichever library wrote it: "
                "owner, "
                "TTL counting down (hover it for the time it expires), nodes holding it and its fencing "
                "token. "
                "A warning sign marks anomalies; hover the key to read them. A <i>?</i> after the schema "
                "means "
                "the format is only a guess; a <i>?</i> after the TTL and grey italics mean the last refresh "
                "could not read the lock (a node is unreachable): it is shown as last read.</li>"
                "<li><b>Filter.</b> Type a glob (<code>jobs:*</code>) or words; pick a namespace on the "
                "left, "
                "or "
                "a schema. Undecoded lock-like keys appear under <i>Unrecognised keys</i>.</li>"
                "<li><b>Act.</b> Click a lock, then Extend (%2) or Force Release (%3). Both act only where "
                "the "
                "key still holds the value you saw, and every write goes to the audit log.</li>"
                "<li><b>Simulate.</b> Lock &gt; Simulator (%4) runs workers against a group or local nodes, "
                "injects faults and checks that no two workers ever held the lock at once.</li>"
                "<li><b>Script it.</b> Open in lockctl (%5) shows the same operation as a command.</li>"
                "</ol>"
                "<p>Help &gt; Keyboard Shortcuts lists every shortcut. View &gt; Reset Layout puts the "
                "panels "
                "back.</p>")
                .arg(keys.connections, keys.extend, keys.forceRelease, keys.simulator, keys.lockctl));
        layout->addWidget(text);
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
        QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
        layout->addWidget(buttons);
        const int em = parent->fontMetrics().horizontalAdvance(QLatin1Char('m'));
        dialog->resize(44 * em, 30 * parent->fontMetrics().lineSpacing());
    }
    dialog->show();
    dialog->raise();
}

void showShortcuts(QWidget *parent, const QList<QAction *> &actions)
{
    auto *dialog = parent->findChild<QDialog *>(QStringLiteral("shortcutsDialog"));
    if (!dialog) {
        dialog = new QDialog(parent);
        dialog->setObjectName(QStringLiteral("shortcutsDialog"));
        dialog->setWindowTitle(QObject::tr("Keyboard Shortcuts"));
        auto *layout = new QVBoxLayout(dialog);
        auto *list = new QTreeWidget(dialog);
        list->setObjectName(QStringLiteral("shortcutList"));
        list->setHeaderLabels({QObject::tr("Action"), QObject::tr("Shortcut")});
        list->setRootIsDecorated(false);
        // From the actions themselves, so the list never disagrees with the keys.
        for (QAction *action : actions) {
            if (action->shortcut().isEmpty() || action->text().isEmpty())
                continue;
            auto *item = new QTreeWidgetItem(list);
            item->setText(0, action->text().remove(QLatin1Char('&')).remove(QStringLiteral("…")));
            item->setText(1, action->shortcut().toString(QKeySequence::NativeText));
        }
        for (const auto &[what, keys] :
             {std::pair{QObject::tr("Lock context menu"), QObject::tr("Right click, or the Menu key")},
              std::pair{QObject::tr("Select the next / previous lock"), QObject::tr("Down / Up")}}) {
            auto *item = new QTreeWidgetItem(list);
            item->setText(0, what);
            item->setText(1, keys);
        }
        list->sortItems(0, Qt::AscendingOrder);
        list->resizeColumnToContents(0);
        layout->addWidget(list);
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
        QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
        layout->addWidget(buttons);
        dialog->resize(parent->fontMetrics().horizontalAdvance(QLatin1Char('m')) * 32,
                       22 * parent->fontMetrics().lineSpacing());
    }
    dialog->show();
    dialog->raise();
}

void showAbout(QWidget *parent, const QString &auditPath)
{
    QMessageBox::about(
        parent, QObject::tr("About LockScope"),
        QObject::tr("<h3>LockScope %1</h3>"
                    "<p>Inspect, operate and simulate distributed locks on Redis: LockScope's own, "
                    "and those of redis-py, node-redlock, go-redsync, bsm/redislock, Redisson, "
                    "ShedLock and python-redis-lock.</p>"
                    "<p>Audit log: <code>%2</code></p>"
                    "<p>Built with Qt %3, running on Qt %4.</p>")
            .arg(QApplication::applicationVersion(), auditPath.toHtmlEscaped(),
                 QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion())));
}

} // namespace helpdialogs
