#pragma once

#include "redis/nodeconfig.h"
#include "util/quorum.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <expected>
#include <vector>

namespace lockscope::inspect {

/// A node of a group, with the operator's guards.
struct GroupNode
{
    redis::NodeConfig config;
    bool readOnly = false;   ///< core refuses every write to it (see clientConfig())
    bool production = false; ///< destructive actions need a typed confirmation
    QString color;           ///< optional colour tag, "#rrggbb"

    /// The node's connection settings with the operator's guards applied (NodeConfig::readOnly,
    /// NodeConfig::production): what every write path of core must be given.
    redis::NodeConfig clientConfig() const
    {
        redis::NodeConfig guarded = config;
        guarded.readOnly = guarded.readOnly || readOnly;
        guarded.production = guarded.production || production;
        return guarded;
    }

    bool operator==(const GroupNode &) const = default;
};

/// A named group: one node, or a Redlock set of N independent nodes.
struct NodeGroup
{
    QString name;
    std::vector<GroupNode> nodes;
    /// SCAN MATCH globs for this group's locks ("billing:*"); empty = every schema's patterns.
    /// Lets two groups share a node without listing each other's keys.
    QStringList match;

    bool isRedlockSet() const { return nodes.size() > 1; }
    int quorum() const { return quorumOf(static_cast<int>(nodes.size())); }
    bool operator==(const NodeGroup &) const = default;
};

/// The saved node groups: a versioned JSON file in the standard config location.
///
///   { "version": 1,
///     "groups": [ { "name": "payments", "match": ["payments:*"],
///                   "nodes": [ { "url": "redis://10.0.0.5:6379", "read_only": false,
///                                "production": true, "color": "#d04040" }, ... ] } ] }
///
/// A node takes the keys of NodeConfig::fromJson (url, host, port, tls, ...) plus read_only,
/// production and color. Passwords are never written to the file (secrets belong in the
/// keychain or are asked for at connect); a file that carries one is still read, so that an
/// export made with secrets on purpose can be imported.
struct GroupConfig
{
    static constexpr int kVersion = 1;
    /// The largest groups file load() and save() read: 16 MiB, room for well over 100,000 nodes. A bigger
    /// file is refused before anything is read, so that a path to a device (/dev/zero) or a
    /// runaway file cannot exhaust memory.
    static constexpr qint64 kMaxFileSize = 16 * 1024 * 1024;
    std::vector<NodeGroup> groups;

    /// Parses and validates; errors name the group, the node and the cause.
    static std::expected<GroupConfig, QString> fromJson(const QByteArray &json);
    /// JSON of every group; passwords only with includeSecrets. Only what differs from the
    /// defaults is written (a node's host and port always).
    QByteArray toJson(bool includeSecrets = false) const;
    /// JSON of every group, written as an edit of `previous` (the file as it was, perhaps
    /// written by hand): unchanged groups, nodes and members keep their text and order, changed
    /// members are replaced in place, new ones appended, and members that went back to their
    /// default are removed; nothing default-valued is added. A `previous` that is not a JSON
    /// object gives toJson(). The result always reads back (fromJson) as these groups.
    QByteArray updatedJson(const QByteArray &previous, bool includeSecrets = false) const;

    /// $LOCKSCOPE_CONFIG, else <GenericConfigLocation>/lockscope/groups.json (shared by the
    /// app and lockctl).
    static QString defaultPath();
    /// Reads `path`; a missing file is an empty configuration, not an error. Only a regular file
    /// of at most kMaxFileSize bytes is read: a FIFO, a device, a directory or a socket is an
    /// error naming the path (checked on the open descriptor; a FIFO is opened without waiting
    /// for a writer, so this never blocks on one). Errors name the path and the cause.
    static std::expected<GroupConfig, QString> load(const QString &path);
    /// Writes atomically (temporary file, then rename), without secrets, as updatedJson() of
    /// the file already at `path`. A `path` that load() could not read (a FIFO, a device, too
    /// large) is an error, not replaced.
    std::expected<void, QString> save(const QString &path) const;

    const NodeGroup *group(const QString &name) const;
    /// Import: groups of `other` replace same-named ones and are appended otherwise.
    /// Returns the names that replaced existing groups.
    QStringList merge(const GroupConfig &other);

    bool operator==(const GroupConfig &) const = default;
};

} // namespace lockscope::inspect
