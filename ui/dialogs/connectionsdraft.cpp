#include "connectionsdraft.h"

#include <QSet>
#include <algorithm>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::SecretStore;
using lockscope::redis::NodeConfig;

lockscope::redis::NodeConfig DraftNode::testTarget() const
{
    NodeConfig target = node.config;
    target.password = !password.isEmpty() ? password : stored.value_or(QString());
    return target;
}

ConnectionsDraft::ConnectionsDraft(const GroupConfig &config)
{
    for (const NodeGroup &group : config.groups) {
        DraftGroup entry;
        entry.name = group.name;
        entry.match = group.match;
        for (const GroupNode &node : group.nodes)
            entry.nodes.push_back(makeEntry(node, group.name));
        m_groups.push_back(std::move(entry));
    }
    validate();
}

DraftNode ConnectionsDraft::makeEntry(const GroupNode &node, const QString &group)
{
    DraftNode entry;
    entry.node = node;
    if (!node.config.password.isEmpty()) {
        // A configuration handed in with a password (an import with secrets): it goes to the
        // store at OK, never back into config().
        entry.password = node.config.password;
        entry.passwordEdited = true;
        entry.remember = true;
        entry.node.config.password.clear();
    }
    entry.urlText = urlFor(entry.node.config);
    entry.portText = QString::number(entry.node.config.port);
    entry.originalKey = lockscope::inspect::secretKey(group, entry.node.config);
    return entry;
}

QString ConnectionsDraft::urlFor(const NodeConfig &config)
{
    NodeConfig copy = config;
    copy.password.clear();
    return copy.toUrl(false);
}

QString ConnectionsDraft::nodeTitle(const DraftNode &entry, int index)
{
    const NodeConfig &c = entry.node.config;
    if (!c.name.isEmpty())
        return c.name; // the address is in the tooltip and the editor
    if ((c.transport == NodeConfig::Transport::Tcp && c.host.isEmpty()) ||
        (c.transport == NodeConfig::Transport::Unix && c.unixPath.isEmpty()))
        return tr("Node %1").arg(index + 1);
    return c.address();
}

DraftGroup *ConnectionsDraft::group(int group)
{
    if (group < 0 || group >= groupCount())
        return nullptr;
    return &m_groups[static_cast<std::size_t>(group)];
}

DraftNode *ConnectionsDraft::node(int group, int node)
{
    DraftGroup *g = this->group(group);
    if (!g || node < 0 || node >= static_cast<int>(g->nodes.size()))
        return nullptr;
    return &g->nodes[static_cast<std::size_t>(node)];
}

// --- structure ------------------------------------------------------------------------------

int ConnectionsDraft::addGroup()
{
    QSet<QString> names;
    for (const DraftGroup &g : m_groups)
        names.insert(g.name);
    QString name = tr("new group");
    for (int i = 2; names.contains(name); ++i)
        name = tr("new group %1").arg(i);
    DraftGroup group;
    group.name = name;
    m_groups.push_back(std::move(group));
    validate();
    return groupCount() - 1;
}

int ConnectionsDraft::addNode(int index)
{
    DraftGroup *group = this->group(index);
    if (!group)
        return -1;
    GroupNode node;
    // A fresh node: the next free port after the group's last node, so that adding three nodes
    // in a row gives a valid Redlock set to edit.
    if (!group->nodes.empty()) {
        const GroupNode &last = group->nodes.back().node;
        node.config = last.config;
        node.config.name.clear();
        if (node.config.transport == NodeConfig::Transport::Tcp && node.config.port < 65535)
            node.config.port = static_cast<quint16>(node.config.port + 1);
        node.readOnly = last.readOnly;
        node.production = last.production;
        node.color = last.color;
    }
    group->nodes.push_back(makeEntry(node, group->name));
    group->nodes.back().originalKey.clear(); // nothing stored for a new node
    validate();
    return static_cast<int>(group->nodes.size()) - 1;
}

int ConnectionsDraft::duplicateNode(int groupIndex, int nodeIndex)
{
    DraftGroup *group = this->group(groupIndex);
    const DraftNode *original = node(groupIndex, nodeIndex);
    if (!group || !original)
        return -1;
    DraftNode copy = *original;
    copy.node.config.name.clear();
    copy.originalKey.clear();
    copy.stored.reset();
    copy.urlText = urlFor(copy.node.config);
    const int at = nodeIndex + 1;
    group->nodes.insert(group->nodes.begin() + at, std::move(copy));
    validate();
    return at;
}

int ConnectionsDraft::duplicateGroup(int index)
{
    const DraftGroup *group = this->group(index);
    if (!group)
        return -1;
    DraftGroup copy = *group;
    copy.name = tr("%1 copy").arg(group->name);
    for (DraftNode &node : copy.nodes) {
        // The copy's passwords are stored under the copy's keys at OK.
        if (node.stored && !node.passwordEdited) {
            node.password = *node.stored;
            node.passwordEdited = true;
        }
        node.stored.reset();
        node.originalKey.clear();
    }
    const int at = index + 1;
    m_groups.insert(m_groups.begin() + at, std::move(copy));
    validate();
    return at;
}

void ConnectionsDraft::removeNode(int groupIndex, int nodeIndex)
{
    DraftGroup *group = this->group(groupIndex);
    const DraftNode *entry = node(groupIndex, nodeIndex);
    if (!group || !entry)
        return;
    if (entry->stored && !entry->originalKey.isEmpty())
        m_forgottenKeys << entry->originalKey;
    group->nodes.erase(group->nodes.begin() + nodeIndex);
    validate();
}

void ConnectionsDraft::removeGroup(int index)
{
    const DraftGroup *group = this->group(index);
    if (!group)
        return;
    for (const DraftNode &node : group->nodes)
        if (node.stored && !node.originalKey.isEmpty())
            m_forgottenKeys << node.originalKey;
    m_groups.erase(m_groups.begin() + index);
    validate();
}

// --- validation -----------------------------------------------------------------------------

void ConnectionsDraft::validateNodes(DraftGroup &group) const
{
    for (DraftNode &entry : group.nodes) {
        if (!entry.urlError.isEmpty())
            continue; // the fields still hold the last valid values; the URL is what is wrong
        const NodeConfig &c = entry.node.config;
        entry.hostError.clear();
        if (c.transport == NodeConfig::Transport::Tcp && c.host.isEmpty())
            entry.hostError = tr("Enter a host name or address (or a socket path starting with /).");
        else if (c.transport == NodeConfig::Transport::Tcp && c.host.contains(QLatin1Char(' ')))
            entry.hostError = tr("A host name cannot contain spaces.");
        entry.tlsError.clear();
        if (c.tls.enabled && c.tls.certFile.isEmpty() != c.tls.keyFile.isEmpty())
            entry.tlsError = tr("A client certificate needs both the certificate and the key file.");
    }

    // A server listed twice would cast two votes in the quorum. findDuplicateNodes() is one hash
    // lookup per node and knows which spellings are one server (localhost and 127.0.0.1, say),
    // as the groups file's own check does; it names one repeat at a time, so each repeat is taken
    // out and the rest asked again: a group without repeats, the usual case, costs one pass.
    std::vector<NodeConfig> configs;
    std::vector<std::size_t> at; // configs[i] is group.nodes[at[i]]
    for (std::size_t i = 0; i < group.nodes.size(); ++i) {
        if (group.nodes[i].urlError.isEmpty()) {
            configs.push_back(group.nodes[i].node.config);
            at.push_back(i);
        }
    }
    std::vector<bool> repeated(group.nodes.size(), false);
    while (const auto duplicate = lockscope::redis::findDuplicateNodes(configs)) {
        const auto [first, second] = *duplicate;
        repeated[at[static_cast<std::size_t>(first)]] = true;
        repeated[at[static_cast<std::size_t>(second)]] = true;
        configs.erase(configs.begin() + second);
        at.erase(at.begin() + second);
    }
    for (std::size_t i = 0; i < group.nodes.size(); ++i) {
        DraftNode &entry = group.nodes[i];
        if (repeated[i] && entry.urlError.isEmpty() && entry.hostError.isEmpty() &&
            entry.portError.isEmpty()) {
            const NodeConfig &c = entry.node.config;
            entry.hostError = tr("%1 (db %2) is already in this group.").arg(c.address()).arg(c.db);
        }
    }
}

void ConnectionsDraft::validate()
{
    QHash<QString, int> named;
    for (const DraftGroup &group : m_groups)
        ++named[group.name];
    for (DraftGroup &group : m_groups) {
        group.nameError.clear();
        if (group.name.isEmpty())
            group.nameError = tr("Enter a name for the group.");
        else if (named.value(group.name) > 1)
            group.nameError = tr("Another group is already called \"%1\".").arg(group.name);
        else if (group.nodes.empty())
            group.nameError = tr("Add at least one node to \"%1\".").arg(group.name);
        validateNodes(group);
    }
}

bool ConnectionsDraft::isValid() const
{
    return std::ranges::none_of(m_groups, [](const DraftGroup &group) {
        return !group.nameError.isEmpty() || std::ranges::any_of(group.nodes, &DraftNode::hasError);
    });
}

QStringList ConnectionsDraft::problems() const
{
    QStringList problems;
    for (const DraftGroup &group : m_groups) {
        if (!group.nameError.isEmpty())
            problems << group.nameError;
        for (std::size_t n = 0; n < group.nodes.size(); ++n) {
            const DraftNode &node = group.nodes[n];
            for (const QString &e : {node.urlError, node.hostError, node.portError, node.tlsError})
                if (!e.isEmpty())
                    problems << QStringLiteral("%1 › %2: %3")
                                    .arg(group.name, nodeTitle(node, static_cast<int>(n)), e);
        }
    }
    return problems;
}

GroupConfig ConnectionsDraft::config() const
{
    GroupConfig config;
    for (const DraftGroup &group : m_groups) {
        NodeGroup out;
        out.name = group.name;
        out.match = group.match;
        for (const DraftNode &node : group.nodes) {
            GroupNode copy = node.node;
            copy.config.password.clear();
            out.nodes.push_back(std::move(copy));
        }
        config.groups.push_back(std::move(out));
    }
    return config;
}

// --- secrets --------------------------------------------------------------------------------

QStringList ConnectionsDraft::storedKeys() const
{
    QStringList keys;
    for (const DraftGroup &group : m_groups)
        for (const DraftNode &node : group.nodes)
            if (!node.originalKey.isEmpty())
                keys << node.originalKey;
    return keys;
}

void ConnectionsDraft::applyStoreStatus(const StoreStatus &status)
{
    for (DraftGroup &group : m_groups) {
        for (DraftNode &node : group.nodes) {
            if (!status.persistent)
                node.remember = false;
            if (node.originalKey.isEmpty())
                continue;
            const auto it = status.passwords.constFind(node.originalKey);
            if (it == status.passwords.cend())
                continue;
            node.stored = *it;
            if (!node.passwordEdited)
                node.remember = status.persistent;
        }
    }
}

std::vector<SecretOp> ConnectionsDraft::secretOps(bool persistent) const
{
    std::vector<SecretOp> ops;
    for (const QString &key : m_forgottenKeys)
        ops.push_back({SecretOp::Remove, key, {}, key});
    for (const DraftGroup &group : m_groups) {
        for (const DraftNode &node : group.nodes) {
            const QString key = lockscope::inspect::secretKey(group.name, node.node.config);
            const QString label = node.node.config.label();
            const bool moved = !node.originalKey.isEmpty() && node.originalKey != key;
            const bool typed = node.passwordEdited && !node.password.isEmpty();
            if (typed) {
                if (persistent && node.remember) {
                    ops.push_back({SecretOp::Write, key, node.password, label});
                    if (moved && node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                } else if (persistent) {
                    // Unticked: out of the keychain, kept for this session only.
                    if (node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                    ops.push_back({SecretOp::KeepForSession, key, node.password, label});
                } else {
                    if (moved && node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                    ops.push_back({SecretOp::Write, key, node.password, label});
                }
            } else if (node.stored) {
                if (persistent && !node.remember) {
                    ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                } else if (moved) {
                    ops.push_back({SecretOp::Write, key, *node.stored, label});
                    ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                }
            }
        }
    }
    return ops;
}

StoreStatus ConnectionsDraft::readStoreStatus(SecretStore *store, const QStringList &keys)
{
    StoreStatus status;
    status.persistent = store->available() && store->persistent();
    if (!status.persistent)
        status.reason = store->available() ? QString() : store->unavailableReason();
    for (const QString &key : keys) {
        if (auto stored = store->read(key); stored && *stored)
            status.passwords.insert(key, **stored);
    }
    return status;
}

QStringList ConnectionsDraft::applySecretOps(SecretStore *store, const std::vector<SecretOp> &ops)
{
    QStringList errors;
    auto *session = dynamic_cast<lockscope::inspect::SessionSecretStore *>(store);
    for (const SecretOp &op : ops) {
        std::expected<void, QString> done;
        switch (op.kind) {
        case SecretOp::Write:
            done = store->write(op.key, op.password);
            break;
        case SecretOp::Remove:
            done = store->remove(op.key);
            break;
        case SecretOp::KeepForSession:
            if (session)
                session->keepForSession(op.key, op.password);
            break;
        }
        if (!done)
            errors << QStringLiteral("%1: %2").arg(op.node, done.error());
    }
    return errors;
}

// --- import ---------------------------------------------------------------------------------

ConnectionsDraft::Imported ConnectionsDraft::merge(const GroupConfig &incoming, bool persistent)
{
    Imported imported;
    for (const NodeGroup &group : incoming.groups) {
        DraftGroup entry;
        entry.name = group.name;
        entry.match = group.match;
        for (const GroupNode &node : group.nodes) {
            entry.nodes.push_back(makeEntry(node, group.name));
            DraftNode &added = entry.nodes.back();
            added.remember = added.passwordEdited && persistent;
            imported.withPasswords += added.passwordEdited;
        }
        auto it = std::ranges::find(m_groups, group.name, &DraftGroup::name);
        if (it == m_groups.end()) {
            for (DraftNode &node : entry.nodes)
                node.originalKey.clear();
            m_groups.push_back(std::move(entry));
            continue;
        }
        // The same node under the same name keeps its stored password; the replaced group's
        // other stored passwords are removed at OK.
        QHash<QString, const DraftNode *> storedByKey;
        for (const DraftNode &old : it->nodes)
            if (old.stored && !old.originalKey.isEmpty())
                storedByKey.insert(old.originalKey, &old);
        QSet<QString> kept;
        for (DraftNode &node : entry.nodes) {
            if (const DraftNode *old = storedByKey.value(node.originalKey)) {
                node.stored = old->stored;
                node.remember = old->remember;
                kept.insert(node.originalKey);
            }
        }
        for (auto key = storedByKey.keyBegin(); key != storedByKey.keyEnd(); ++key)
            if (!kept.contains(*key))
                m_forgottenKeys << *key;
        for (const QString &key : kept)
            m_forgottenKeys.removeAll(key);
        *it = std::move(entry);
        imported.replaced << group.name;
    }
    validate();
    return imported;
}
