#pragma once

#include "lockctlcommand.h"

#include <QDialog>
#include <QList>
#include <optional>
#include <utility>

class QTextEdit;

/// "Open in lockctl": the equivalent lockctl command lines, read-only, each with a Copy button
/// and the notes that come with it.
class LockctlCommandDialog : public QDialog
{
    Q_OBJECT

public:
    /// One command and what it is for ("Show the key on every node").
    using Entry = std::pair<QString, LockctlCommand>;

    LockctlCommandDialog(const QString &title, const QList<Entry> &commands, QWidget *parent = nullptr);

    /// The commands an operator can run on `record`: show, list, force-release and (LockScope
    /// locks) extend by a minute; with a holder picked in Details (a reader, a permit), releasing
    /// that holder alone and setting its TTL to a minute instead of extending the whole lock.
    static QList<Entry> commandsForRecord(const LockctlTarget &target,
                                          const lockscope::inspect::LockRecord &record,
                                          const std::optional<lockscope::inspect::LockHolder> &holder = {});

    /// The command text of entry `index` as shown (what Copy puts on the clipboard).
    QString commandText(int index) const;

    /// Opens a non-modal dialog that deletes itself when closed.
    static LockctlCommandDialog *showCommands(QWidget *parent, const QString &title,
                                              const QList<Entry> &commands);

private:
    QList<QTextEdit *> m_editors;
};
