#pragma once

#include "connectionsdraft.h"

#include <QDialog>
#include <inspect/nodegroup.h>
#include <inspect/secretstore.h>
#include <optional>

class ConnectionTester;
class NodeEditor;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QThreadPool;
class QTreeWidget;

/// Add, edit and remove node groups and their nodes; test a node; import / export the groups.
///
/// Works on a copy of the configuration: config() returns the edited groups after accept()
/// (never with passwords). Passwords typed here go to the SecretStore when OK is pressed:
/// into the keychain when "Remember in keychain" is ticked and the store is persistent, for
/// the session otherwise. The dialog is accepted once the store has answered; while it writes,
/// OK and Cancel are disabled and closing the dialog waits for that answer (a failed write keeps
/// the dialog open). `secrets` may be null (nothing stored, passwords asked at connect).
///
/// Every keychain call and every connection test runs off the GUI thread (runInBackground()),
/// and nothing waits for them: destroying the dialog drops their results, never their work. So
/// `secrets` must outlive the keychain jobs, not only the dialog: run them on a pool that is
/// drained before the store goes (setStorePool()).
class ConnectionsDialog : public QDialog
{
    Q_OBJECT

public:
    ConnectionsDialog(lockscope::inspect::GroupConfig config, lockscope::inspect::SecretStore *secrets,
                      QWidget *parent = nullptr);

    /// Where the keychain jobs run (reading what the store holds at open, writing at OK); the
    /// global pool unless set. Set it before the event loop runs (the read starts from there).
    void setStorePool(QThreadPool *pool);

    /// The edited groups; valid once accepted (while invalid, the last valid values).
    lockscope::inspect::GroupConfig config() const;
    /// False while any field has an error (OK is disabled then).
    bool isValid() const;

    /// Merges a groups file (same-named groups are replaced); errors are shown inline.
    bool importFrom(const QString &path);
    /// Writes the groups (without passwords) to `path`; errors are shown inline.
    bool exportTo(const QString &path);

public slots:
    void accept() override;
    void reject() override;

private:
    void buildUi();
    QWidget *buildGroupPage();
    void rebuildTree(int selectGroup, int selectNode);
    void updateTreeItem(int group, int node);
    void showSelection();
    void loadGroup();
    void onNodeEdited();
    void onGroupNameEdited(const QString &text);
    void addGroup();
    void addNode();
    void duplicateSelected();
    void removeSelected();
    void readStore();
    void onStoreStatus(const StoreStatus &status);
    void onSecretsSaved(const QStringList &errors);
    void refreshStorage();
    void updateTester();
    void showProblems();
    bool persistentStore() const;

    ConnectionsDraft m_draft;
    lockscope::inspect::SecretStore *m_secrets = nullptr;
    QThreadPool *m_storePool = nullptr;
    std::optional<StoreStatus> m_storeStatus;
    bool m_saving = false;
    int m_group = -1;
    int m_node = -1;
    bool m_loading = false;

    QTreeWidget *m_tree = nullptr;
    QPushButton *m_addNode = nullptr;
    QPushButton *m_duplicate = nullptr;
    QPushButton *m_remove = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_groupName = nullptr;
    QLabel *m_groupNameError = nullptr;
    QLabel *m_groupSummary = nullptr;
    NodeEditor *m_editor = nullptr;
    ConnectionTester *m_tester = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_problems = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};
