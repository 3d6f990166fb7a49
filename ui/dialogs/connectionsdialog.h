#pragma once

#include <QDialog>
#include <QFutureWatcher>
#include <QHash>
#include <inspect/nodegroup.h>
#include <inspect/secretstore.h>
#include <optional>
#include <redis/nodeprobe.h>
#include <vector>

class QCheckBox;
class QDialogButtonBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTreeWidget;
class QTreeWidgetItem;

/// Add, edit and remove node groups and their nodes; test a node; import / export the groups.
///
/// Works on a copy of the configuration: config() returns the edited groups after accept()
/// (never with passwords). Passwords typed here go to the SecretStore when OK is pressed:
/// into the keychain when "Remember in keychain" is ticked and the store is persistent, for
/// the session otherwise. `secrets` may be null (nothing stored, passwords asked at connect)
/// and must outlive the dialog. Every keychain call and every connection test runs off the GUI
/// thread.
class ConnectionsDialog : public QDialog
{
    Q_OBJECT

public:
    ConnectionsDialog(lockscope::inspect::GroupConfig config, lockscope::inspect::SecretStore *secrets,
                      QWidget *parent = nullptr);
    ~ConnectionsDialog() override;

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

private:
    struct NodeEntry
    {
        lockscope::inspect::GroupNode node; ///< last valid values; password always empty
        QString urlText;
        QString portText;
        QString password; ///< typed in this dialog
        bool passwordEdited = false;
        bool remember = false;         ///< "Remember in keychain"
        std::optional<QString> stored; ///< what the store held at open (or after a move)
        QString originalKey;           ///< the key the store held it under
        QString urlError;
        QString hostError;
        QString portError;
        QString tlsError;
        bool hasError() const
        {
            return !urlError.isEmpty() || !hostError.isEmpty() || !portError.isEmpty() || !tlsError.isEmpty();
        }
    };
    struct GroupEntry
    {
        QString name;
        std::vector<NodeEntry> nodes;
        /// The group's SCAN globs: not edited here, but kept (an OK must not drop them).
        QStringList match;
        QString nameError;
    };
    struct StoreStatus
    {
        bool persistent = false;
        QString reason;
        QHash<QString, QString> passwords;
    };
    struct SecretOp
    {
        enum Kind
        {
            Write,
            Remove,
            KeepForSession
        } kind;
        QString key;
        QString password;
        QString node;
    };

    void buildUi();
    QWidget *buildNodePage();
    QWidget *buildGroupPage();
    QWidget *createGuards();
    void showTlsRows();
    void rebuildTree(int selectGroup, int selectNode);
    void updateTreeItem(int group, int node);
    void showSelection();
    void loadNode();
    void loadGroup();
    void refreshSecretWidgets();
    void onUrlEdited(const QString &text);
    void onFieldsEdited();
    void onGuardsEdited();
    void onPasswordEdited(const QString &text);
    void onGroupNameEdited(const QString &text);
    void addGroup();
    void addNode();
    void duplicateSelected();
    void removeSelected();
    void chooseColor();
    void testConnection();
    void onTestFinished();
    void onStoreStatus();
    void onSecretsSaved();
    void validateAll();
    void validateNode(const GroupEntry &group, NodeEntry &entry) const;
    void showErrors();
    std::vector<SecretOp> secretOps() const;
    NodeEntry *currentNode();
    GroupEntry *currentGroup();
    NodeEntry makeEntry(const lockscope::inspect::GroupNode &node, const QString &group) const;
    static QString urlFor(const lockscope::redis::NodeConfig &config);
    static QString nodeTitle(const NodeEntry &entry, int index);

    lockscope::inspect::SecretStore *m_secrets = nullptr;
    std::vector<GroupEntry> m_groups;
    QStringList m_forgottenKeys; ///< stored passwords of removed nodes, removed at OK
    int m_group = -1;
    int m_node = -1;
    bool m_loading = false;
    bool m_keepUrlText = false; ///< loadNode() leaves the URL field as the user is typing it
    std::optional<StoreStatus> m_storeStatus;

    QTreeWidget *m_tree = nullptr;
    QPushButton *m_addGroup = nullptr;
    QPushButton *m_addNode = nullptr;
    QPushButton *m_duplicate = nullptr;
    QPushButton *m_remove = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_groupName = nullptr;
    QLabel *m_groupNameError = nullptr;
    QLabel *m_groupSummary = nullptr;
    QLineEdit *m_url = nullptr;
    QLabel *m_urlError = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_host = nullptr;
    QLabel *m_hostError = nullptr;
    QLineEdit *m_port = nullptr;
    QLabel *m_portError = nullptr;
    QSpinBox *m_db = nullptr;
    QLineEdit *m_user = nullptr;
    QLineEdit *m_password = nullptr;
    QCheckBox *m_remember = nullptr;
    QFormLayout *m_authForm = nullptr;
    QFormLayout *m_tlsForm = nullptr;
    QFormLayout *m_guardsForm = nullptr;
    QLabel *m_secretNote = nullptr;
    QGroupBox *m_tls = nullptr;
    QLineEdit *m_caFile = nullptr;
    QLineEdit *m_caDir = nullptr;
    QLineEdit *m_certFile = nullptr;
    QLineEdit *m_keyFile = nullptr;
    QLabel *m_tlsError = nullptr;
    QLineEdit *m_sni = nullptr;
    QCheckBox *m_verify = nullptr;
    QSpinBox *m_connectTimeout = nullptr;
    QSpinBox *m_commandTimeout = nullptr;
    QCheckBox *m_readOnly = nullptr;
    QCheckBox *m_production = nullptr;
    QPushButton *m_color = nullptr;
    QPushButton *m_clearColor = nullptr;
    QPushButton *m_test = nullptr;
    QLabel *m_testResult = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_problems = nullptr;
    QDialogButtonBox *m_buttons = nullptr;

    quint64 m_testGeneration = 0;
    QString m_testedNode;
    QFutureWatcher<lockscope::redis::NodeStatus> m_testWatcher;
    QFutureWatcher<StoreStatus> m_statusWatcher;
    QFutureWatcher<QStringList> m_saveWatcher;
};
