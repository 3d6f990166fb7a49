#pragma once

#include <QCoreApplication>
#include <QHash>
#include <QStringList>
#include <inspect/nodegroup.h>
#include <inspect/secretstore.h>
#include <optional>
#include <vector>

/// One node as the Connections dialog edits it: the last valid values, the text as typed, the
/// password typed here and what the store held.
struct DraftNode
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
    /// The node as a connection test sees it: with the typed password, else the stored one.
    lockscope::redis::NodeConfig testTarget() const;
};

struct DraftGroup
{
    QString name;
    std::vector<DraftNode> nodes;
    /// The group's SCAN globs: not edited here, but kept (an OK must not drop them).
    QStringList match;
    QString nameError;
};

/// What the password store said when the dialog opened (read off the GUI thread).
struct StoreStatus
{
    bool persistent = false;
    QString reason;
    QHash<QString, QString> passwords; ///< by key, of the keys asked for
};

/// One change to the password store, applied when OK is pressed.
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
    QString node; ///< for error messages
};

/// The Connections dialog's working copy of the groups: validation, the password store changes an
/// OK makes, and the merge of an imported file. No widgets; GUI thread (a value, like the
/// GroupConfig it is made from).
class ConnectionsDraft
{
    Q_DECLARE_TR_FUNCTIONS(ConnectionsDraft)

public:
    explicit ConnectionsDraft(const lockscope::inspect::GroupConfig &config = {});

    std::vector<DraftGroup> &groups() { return m_groups; }
    const std::vector<DraftGroup> &groups() const { return m_groups; }
    int groupCount() const { return static_cast<int>(m_groups.size()); }
    /// Null when out of range.
    DraftGroup *group(int group);
    DraftNode *node(int group, int node);

    /// A new group with a free name; its index.
    int addGroup();
    /// A new node after the group's last one (the next port); its index.
    int addNode(int group);
    /// A copy after the original, without its name and stored password; its index.
    int duplicateNode(int group, int node);
    /// A copy named "<name> copy", its passwords to be stored under the copy's keys; its index.
    int duplicateGroup(int group);
    /// Removes the node (its stored password is removed at OK).
    void removeNode(int group, int node);
    void removeGroup(int group);

    /// Recomputes every error that depends on more than one field or node (names, duplicates).
    void validate();
    bool isValid() const;
    /// Every error, "group › node: message", in the order of the tree.
    QStringList problems() const;
    /// The edited groups, never with passwords.
    lockscope::inspect::GroupConfig config() const;

    /// The keys whose stored passwords the dialog asks the store about at open.
    QStringList storedKeys() const;
    /// Takes in what the store answered at open.
    void applyStoreStatus(const StoreStatus &status);
    /// What OK must do in the store; `persistent`: the store is a working keychain.
    std::vector<SecretOp> secretOps(bool persistent) const;

    struct Imported
    {
        QStringList replaced; ///< names of groups that were replaced
        int withPasswords = 0;
    };
    /// Merges `incoming`: same-named groups are replaced, the others appended. Passwords in it
    /// are remembered when `persistent`.
    Imported merge(const lockscope::inspect::GroupConfig &incoming, bool persistent);

    /// The URL of `config` without its password.
    static QString urlFor(const lockscope::redis::NodeConfig &config);
    /// The node's name, else its address, else "Node <index+1>".
    static QString nodeTitle(const DraftNode &entry, int index);

    /// Reads the store's state and the passwords under `keys`. Blocks (D-Bus): off the GUI thread.
    static StoreStatus readStoreStatus(lockscope::inspect::SecretStore *store, const QStringList &keys);
    /// Applies `ops` to `store`; the failures, "node: error". Blocks: off the GUI thread.
    static QStringList applySecretOps(lockscope::inspect::SecretStore *store,
                                      const std::vector<SecretOp> &ops);

private:
    static DraftNode makeEntry(const lockscope::inspect::GroupNode &node, const QString &group);
    void validateNodes(DraftGroup &group) const;

    std::vector<DraftGroup> m_groups;
    QStringList m_forgottenKeys; ///< stored passwords of removed nodes, removed at OK
};
