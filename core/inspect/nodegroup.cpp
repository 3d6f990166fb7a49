#include "nodegroup.h"

#include "jsontext.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>
#include <QStandardPaths>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace lockscope::inspect {

namespace {

std::unexpected<QString> failure(QString message)
{
    return std::unexpected(std::move(message));
}

std::expected<GroupNode, QString> parseNode(const QJsonObject &object)
{
    GroupNode node;
    QJsonObject config = object;
    for (const char *key : {"read_only", "production"}) {
        const QJsonValue v = object.value(QLatin1String(key));
        if (v.isUndefined())
            continue;
        if (!v.isBool())
            return failure(QStringLiteral("\"%1\" must be true or false").arg(QLatin1String(key)));
        (qstrcmp(key, "read_only") == 0 ? node.readOnly : node.production) = v.toBool();
        config.remove(QLatin1String(key));
    }
    if (const QJsonValue color = object.value(QStringLiteral("color")); !color.isUndefined()) {
        static const QRegularExpression hex(QStringLiteral("^#[0-9a-fA-F]{6}$"));
        if (!color.isString() || !hex.match(color.toString()).hasMatch())
            return failure(QStringLiteral("\"color\" must be \"#rrggbb\""));
        node.color = color.toString();
        config.remove(QStringLiteral("color"));
    }
    auto parsed = redis::NodeConfig::fromJson(config);
    if (!parsed)
        return failure(parsed.error().message);
    node.config = std::move(*parsed);
    return node;
}

/// A server listed twice would cast two votes in the group's Redlock quorum.
std::optional<QString> duplicateNodeProblem(const NodeGroup &group)
{
    std::vector<redis::NodeConfig> configs;
    configs.reserve(group.nodes.size());
    for (const GroupNode &node : group.nodes)
        configs.push_back(node.config);
    const auto duplicate = redis::findDuplicateNodes(configs);
    if (!duplicate)
        return std::nullopt;
    const auto &[first, second] = *duplicate;
    const redis::NodeConfig &a = configs[static_cast<size_t>(first)];
    const redis::NodeConfig &b = configs[static_cast<size_t>(second)];
    // Both entries by their address, as spelled: "localhost:7000" and "127.0.0.1:7000" are
    // one server, and the operator must see which two lines say so.
    return QStringLiteral(", node %1: %2 (db %3) is already in the group as node %4%5: a Redlock set "
                          "needs distinct servers")
        .arg(second + 1)
        .arg(b.address())
        .arg(b.db)
        .arg(first + 1)
        .arg(a.address() == b.address() ? QString() : QStringLiteral(" (%1)").arg(a.address()));
}

} // namespace

std::expected<GroupConfig, QString> GroupConfig::fromJson(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return failure(QStringLiteral("not valid JSON at offset %1: %2")
                           .arg(parseError.offset)
                           .arg(parseError.errorString()));
    if (!document.isObject())
        return failure(QStringLiteral("the top level must be an object with \"version\" and \"groups\""));
    const QJsonObject root = document.object();
    const QJsonValue version = root.value(QStringLiteral("version"));
    if (!version.isDouble() || version.toInteger() < 1)
        return failure(QStringLiteral("\"version\" must be a positive integer"));
    if (version.toInteger() > kVersion)
        return failure(QStringLiteral("version %1 is newer than this LockScope understands (%2)")
                           .arg(version.toInteger())
                           .arg(kVersion));
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (it.key() != u"version" && it.key() != u"groups")
            return failure(QStringLiteral("unknown key \"%1\" at the top level").arg(it.key()));
    }
    const QJsonValue groups = root.value(QStringLiteral("groups"));
    if (!groups.isUndefined() && !groups.isArray())
        return failure(QStringLiteral("\"groups\" must be an array"));

    GroupConfig config;
    QSet<QString> names; // group() per group would make a file of many groups quadratic
    const QJsonArray groupArray = groups.toArray();
    for (qsizetype g = 0; g < groupArray.size(); ++g) {
        if (!groupArray[g].isObject())
            return failure(QStringLiteral("group %1 must be an object").arg(g + 1));
        const QJsonObject groupObject = groupArray[g].toObject();
        NodeGroup group;
        group.name = groupObject.value(QStringLiteral("name")).toString().trimmed();
        const QString where = group.name.isEmpty() ? QStringLiteral("group %1").arg(g + 1)
                                                   : QStringLiteral("group \"%1\"").arg(group.name);
        if (group.name.isEmpty())
            return failure(where + QStringLiteral(": \"name\" is missing or empty"));
        if (names.contains(group.name))
            return failure(where + QStringLiteral(": the name is used twice"));
        names.insert(group.name);
        for (auto it = groupObject.begin(); it != groupObject.end(); ++it) {
            if (it.key() != u"name" && it.key() != u"nodes" && it.key() != u"match")
                return failure(where + QStringLiteral(": unknown key \"%1\"").arg(it.key()));
        }
        if (const QJsonValue match = groupObject.value(QStringLiteral("match")); !match.isUndefined()) {
            const auto notGlobs = [&] {
                return failure(where +
                               QStringLiteral(": \"match\" must be an array of non-empty glob strings"));
            };
            if (!match.isArray())
                return notGlobs();
            for (const QJsonValue pattern : match.toArray()) {
                if (!pattern.isString() || pattern.toString().isEmpty())
                    return notGlobs();
                group.match << pattern.toString();
            }
        }
        const QJsonValue nodes = groupObject.value(QStringLiteral("nodes"));
        if (!nodes.isArray() || nodes.toArray().isEmpty())
            return failure(where + QStringLiteral(": \"nodes\" must be a non-empty array"));
        const QJsonArray nodeArray = nodes.toArray();
        for (qsizetype n = 0; n < nodeArray.size(); ++n) {
            if (!nodeArray[n].isObject())
                return failure(where + QStringLiteral(", node %1: must be an object").arg(n + 1));
            auto node = parseNode(nodeArray[n].toObject());
            if (!node)
                return failure(where + QStringLiteral(", node %1: %2").arg(n + 1).arg(node.error()));
            group.nodes.push_back(std::move(*node));
        }
        if (auto problem = duplicateNodeProblem(group))
            return failure(where + *problem);
        config.groups.push_back(std::move(group));
    }
    return config;
}

QByteArray GroupConfig::toJson(bool includeSecrets) const
{
    return updatedJson(QByteArray(), includeSecrets);
}

// --- writing: a hand-written file keeps its layout --------------------------------------------
//
// The groups file is also edited by hand: saving from the app edits the previous text with the
// layout-keeping writer of jsontext.h, so that only what changed is rewritten. What is
// particular to the groups file is here: the members of a node and of a group, and which
// previous node or group a new one continues.

using namespace detail;

namespace {

bool sameUrl(const QJsonValue &previous, const redis::NodeConfig &config)
{
    if (!previous.isString())
        return false;
    auto parsed = redis::NodeConfig::fromUrl(previous.toString());
    return parsed && *parsed == config;
}

QJsonObject tlsObject(const redis::TlsOptions &tls)
{
    QJsonObject t{{QStringLiteral("enabled"), tls.enabled}};
    if (!tls.verifyPeer)
        t[QStringLiteral("verify")] = false;
    const std::pair<const char *, const QString *> files[] = {{"ca_file", &tls.caFile},
                                                              {"ca_dir", &tls.caDir},
                                                              {"cert_file", &tls.certFile},
                                                              {"key_file", &tls.keyFile},
                                                              {"server_name", &tls.serverName}};
    for (const auto &[key, value] : files) {
        if (!value->isEmpty())
            t[QLatin1String(key)] = *value;
    }
    return t;
}

/// The members of a node. `previousKeys`: those of the node as written before, which decide
/// between the URL form ("url" plus the members written beside it) and the member form.
std::vector<Field> nodeFields(const GroupNode &node, bool includeSecrets, const QStringList &previousKeys)
{
    using redis::NodeConfig;
    const NodeConfig defaults;
    NodeConfig c = node.config;
    if (!includeSecrets)
        c.password.clear();
    const bool urlForm = previousKeys.contains(QStringLiteral("url"));
    // In the URL form what was written beside the URL stays beside it; the rest is in the URL.
    const auto beside = [&](const char *key) {
        return !urlForm || previousKeys.contains(QLatin1String(key));
    };
    std::vector<Field> fields;
    const auto add = [&](const char *key, const QJsonValue &value, bool isDefault) {
        if (beside(key))
            fields.push_back(Field{QLatin1String(key), value, isDefault, {}, {}});
    };
    if (urlForm) {
        NodeConfig inUrl = c;
        if (beside("name"))
            inUrl.name.clear();
        if (beside("host"))
            inUrl.host = defaults.host;
        if (beside("port"))
            inUrl.port = defaults.port;
        if (beside("db"))
            inUrl.db = defaults.db;
        if (beside("username"))
            inUrl.username.clear();
        if (beside("password"))
            inUrl.password.clear();
        if (beside("tls"))
            inUrl.tls = defaults.tls;
        if (beside("client_name"))
            inUrl.clientName = defaults.clientName;
        if (beside("connect_timeout_ms"))
            inUrl.connectTimeout = defaults.connectTimeout;
        if (beside("command_timeout_ms"))
            inUrl.commandTimeout = defaults.commandTimeout;
        if (beside("spin_us"))
            inUrl.spin = defaults.spin;
        // The URL as written stays while it still says the same (a port left out, a
        // different order of the options).
        const NodeConfig expected = NodeConfig::fromUrl(inUrl.toUrl(true)).value_or(inUrl);
        fields.push_back(Field{QStringLiteral("url"),
                               inUrl.toUrl(includeSecrets),
                               false,
                               [expected](const QJsonValue &previous) { return sameUrl(previous, expected); },
                               {}});
    }
    add("name", c.name, c.name.isEmpty());
    if (c.transport == NodeConfig::Transport::Unix) {
        add("unix_path", c.unixPath, false);
    } else {
        add("host", c.host, false);
        // A node written before without its port keeps it left out while it is the default.
        add("port", int(c.port), c.port == defaults.port && !previousKeys.isEmpty());
    }
    add("db", c.db, c.db == 0);
    add("username", c.username, c.username.isEmpty());
    add("password", c.password, c.password.isEmpty());
    if (beside("tls")) {
        const redis::TlsOptions tls = c.tls;
        fields.push_back(Field{QStringLiteral("tls"),
                               tlsObject(tls),
                               tls == redis::TlsOptions{},
                               [tls](const QJsonValue &previous) {
                                   QJsonObject object{{QStringLiteral("host"), QStringLiteral("h")},
                                                      {QStringLiteral("tls"), previous}};
                                   auto parsed = NodeConfig::fromJson(object);
                                   return parsed && parsed->tls == tls;
                               },
                               {}});
    }
    add("client_name", c.clientName, c.clientName == defaults.clientName);
    add("connect_timeout_ms", qint64(c.connectTimeout.count()), c.connectTimeout == defaults.connectTimeout);
    add("command_timeout_ms", qint64(c.commandTimeout.count()), c.commandTimeout == defaults.commandTimeout);
    add("spin_us", qint64(c.spin.count()), c.spin == defaults.spin);
    fields.push_back(Field{QStringLiteral("read_only"), node.readOnly, !node.readOnly, {}, {}});
    fields.push_back(Field{QStringLiteral("production"), node.production, !node.production, {}, {}});
    fields.push_back(Field{QStringLiteral("color"), node.color, node.color.isEmpty(), {}, {}});
    return fields;
}

std::optional<GroupNode> readNode(const JsonText &text)
{
    auto node = parseNode(jsonValue(text).toObject());
    return node ? std::optional(*node) : std::nullopt;
}

JsonText writeNodes(const NodeGroup &group, const JsonText *previous, const JsonText *sibling, bool secrets,
                    int depth)
{
    JsonText array;
    array.kind = '[';
    if (previous && previous->kind == '[')
        array = *previous;
    else if (sibling)
        array.tail = styleOf(*sibling, depthStyle(depth)).tail;
    const JsonStyle arrayStyle =
        styleOf(array, sibling ? styleOf(*sibling, depthStyle(depth)) : depthStyle(depth));
    // A new node looks like its neighbours (or those of the sibling group).
    const JsonText *model = !array.entries.empty()                 ? &array.entries[0].value
                            : sibling && !sibling->entries.empty() ? &sibling->entries[0].value
                                                                   : nullptr;
    const JsonStyle nodeStyle =
        model && model->kind == '{' ? styleOf(*model, depthStyle(depth + 1)) : depthStyle(depth + 1);

    std::vector<std::optional<GroupNode>> read;
    for (const JsonEntry &entry : array.entries)
        read.push_back(entry.value.kind == '{' ? readNode(entry.value) : std::nullopt);
    const auto index = [&](const JsonEntry &entry) {
        return size_t(&entry - array.entries.data());
    };
    const std::vector<int> match = matchEntries(
        group.nodes.size(), array.entries,
        [&](size_t i, const JsonEntry &e) {
            GroupNode wanted = group.nodes[i];
            if (!secrets)
                wanted.config.password.clear();
            const auto &old = read[index(e)];
            if (!old)
                return false;
            GroupNode had = *old;
            if (!secrets)
                had.config.password.clear();
            return had == wanted;
        },
        [&](size_t i, const JsonEntry &e) {
            const auto &old = read[index(e)];
            return old && redis::sameServer(old->config, group.nodes[i].config);
        });
    std::vector<JsonText> items;
    for (size_t i = 0; i < group.nodes.size(); ++i) {
        const JsonText *old = match[i] >= 0 ? &array.entries[size_t(match[i])].value : nullptr;
        if (old && old->kind == '{') {
            JsonText node = *old;
            mergeObject(node, nodeFields(group.nodes[i], secrets, keysOf(node)), nodeStyle);
            // Whatever the merge made must read back as the node; else the member form.
            GroupNode wanted = group.nodes[i];
            if (!secrets)
                wanted.config.password.clear();
            if (auto back = readNode(node); back && *back == wanted) {
                items.push_back(std::move(node));
                continue;
            }
        }
        items.push_back(freshObject(nodeFields(group.nodes[i], secrets, {}), nodeStyle));
    }
    setArray(array, std::move(items), arrayStyle);
    return array;
}

std::vector<Field> groupFields(const NodeGroup &group, JsonText nodes)
{
    return {
        Field{QStringLiteral("name"), group.name, false, {}, {}},
        Field{
            QStringLiteral("match"), QJsonArray::fromStringList(group.match), group.match.isEmpty(), {}, {}},
        Field{QStringLiteral("nodes"), QJsonValue(), false, [](const QJsonValue &) { return false; },
              std::move(nodes)}};
}

} // namespace

QByteArray GroupConfig::updatedJson(const QByteArray &previous, bool includeSecrets) const
{
    // The previous text, when it is a JSON object at all; else a new file.
    QByteArray lead, trail = "\n";
    JsonText root;
    root.kind = '{';
    root.tail = "\n";
    bool hadFile = false;
    if (QJsonParseError error; QJsonDocument::fromJson(previous, &error).isObject()) {
        qsizetype pos = 0;
        lead = spaces(previous, pos);
        if (auto parsed = parseText(previous, pos); parsed && parsed->kind == '{') {
            root = std::move(*parsed);
            trail = previous.mid(pos);
            hadFile = true;
        } else {
            lead.clear();
        }
    }
    JsonText groupsArray;
    groupsArray.kind = '[';
    if (const JsonText *old = member(root, QStringLiteral("groups")); old && old->kind == '[')
        groupsArray = *old;
    else
        groupsArray.tail = depthStyle(1).tail;
    const JsonText *siblingGroup = !groupsArray.entries.empty() && groupsArray.entries[0].value.kind == '{'
                                       ? &groupsArray.entries[0].value
                                       : nullptr;
    const JsonStyle groupStyle = siblingGroup ? styleOf(*siblingGroup, depthStyle(2)) : depthStyle(2);
    const JsonText *siblingNodes = siblingGroup ? member(*siblingGroup, QStringLiteral("nodes")) : nullptr;

    std::vector<QString> oldNames;
    for (const JsonEntry &entry : groupsArray.entries) {
        const JsonText *name =
            entry.value.kind == '{' ? member(entry.value, QStringLiteral("name")) : nullptr;
        oldNames.push_back(name ? jsonValue(*name).toString().trimmed() : QString());
    }
    const auto oldIndex = [&](const JsonEntry &e) {
        return size_t(&e - groupsArray.entries.data());
    };
    // Same name first; a renamed group (its old name gone) continues the one at its position.
    const std::vector<int> match = matchEntries(
        groups.size(), groupsArray.entries,
        [&](size_t i, const JsonEntry &e) { return oldNames[oldIndex(e)] == groups[i].name; },
        [&](size_t i, const JsonEntry &e) { return i == oldIndex(e) && !group(oldNames[oldIndex(e)]); });
    std::vector<JsonText> items;
    for (size_t i = 0; i < groups.size(); ++i) {
        const JsonText *old = match[i] >= 0 && groupsArray.entries[size_t(match[i])].value.kind == '{'
                                  ? &groupsArray.entries[size_t(match[i])].value
                                  : nullptr;
        const JsonText *oldNodes = old ? member(*old, QStringLiteral("nodes")) : nullptr;
        JsonText nodes = writeNodes(groups[i], oldNodes, siblingNodes, includeSecrets, 3);
        if (old) {
            JsonText group = *old;
            const bool nodesSame = oldNodes && writeText(*oldNodes) == writeText(nodes);
            std::vector<Field> fields = groupFields(groups[i], std::move(nodes));
            if (nodesSame)
                fields.back().same = [](const QJsonValue &) {
                    return true;
                };
            mergeObject(group, fields, groupStyle);
            items.push_back(std::move(group));
        } else {
            items.push_back(freshObject(groupFields(groups[i], std::move(nodes)), groupStyle));
        }
    }
    setArray(groupsArray, std::move(items), styleOf(groupsArray, depthStyle(1)));

    const std::vector<Field> rootFields{Field{QStringLiteral("version"), kVersion, false, {}, {}},
                                        Field{QStringLiteral("groups"), QJsonValue(), false,
                                              [](const QJsonValue &) { return false; },
                                              std::move(groupsArray)}};
    mergeObject(root, rootFields, depthStyle(0));
    const QByteArray written = lead + writeText(root) + trail;

    // What is written must read back as these groups; should the layout-keeping writer ever
    // miss, a plain file is better than a wrong one.
    GroupConfig expected = *this;
    if (!includeSecrets) {
        for (NodeGroup &g : expected.groups)
            for (GroupNode &n : g.nodes)
                n.config.password.clear();
    }
    if (auto back = fromJson(written); back && *back == expected)
        return written;
    return hadFile ? updatedJson(QByteArray(), includeSecrets) : written;
}

QString GroupConfig::defaultPath()
{
    // One file for every LockScope program (the app and lockctl have different application
    // names): <config>/lockscope/groups.json, overridable with $LOCKSCOPE_CONFIG.
    const QString overridden = qEnvironmentVariable("LOCKSCOPE_CONFIG");
    if (!overridden.isEmpty())
        return overridden;
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/lockscope/groups.json");
}

namespace {

QString fileKind(mode_t mode)
{
    if (S_ISDIR(mode))
        return QStringLiteral("a directory");
    if (S_ISFIFO(mode))
        return QStringLiteral("a FIFO");
    if (S_ISCHR(mode))
        return QStringLiteral("a character device");
    if (S_ISBLK(mode))
        return QStringLiteral("a block device");
    if (S_ISSOCK(mode))
        return QStringLiteral("a socket");
    return QStringLiteral("an unknown kind of file");
}

/// A groups file's bytes; nullopt (and no error) when there is no file at `path`.
std::expected<std::optional<QByteArray>, QString> readGroupsFile(const QString &path)
{
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever. The type
    // and size come from the descriptor (fstat), so that nothing can be swapped in between.
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return std::nullopt;
        return failure(QStringLiteral("%1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    }
    QFile file;
    if (!file.open(fd, QIODevice::ReadOnly, QFileDevice::AutoCloseHandle)) {
        ::close(fd);
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    }
    struct stat info = {};
    if (::fstat(fd, &info) != 0)
        return failure(QStringLiteral("%1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    if (!S_ISREG(info.st_mode))
        return failure(QStringLiteral("%1: not a regular file (%2); the groups file must be a regular file")
                           .arg(path, fileKind(info.st_mode)));
    const auto tooLarge = [&](qint64 size) {
        return failure(QStringLiteral("%1: %2 bytes is more than a groups file may hold (%3 MiB)")
                           .arg(path)
                           .arg(size)
                           .arg(GroupConfig::kMaxFileSize / (1024 * 1024)));
    };
    if (info.st_size > GroupConfig::kMaxFileSize)
        return tooLarge(info.st_size);
    // Read up to one byte past the cap, in bounded chunks, in case the file grows meanwhile.
    QByteArray bytes;
    bytes.reserve(static_cast<qsizetype>(info.st_size));
    while (bytes.size() <= GroupConfig::kMaxFileSize) {
        const QByteArray chunk =
            file.read(std::min<qint64>(GroupConfig::kMaxFileSize + 1 - bytes.size(), 1 << 20));
        if (chunk.isEmpty())
            break;
        bytes += chunk;
    }
    if (file.error() != QFileDevice::NoError)
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    if (bytes.size() > GroupConfig::kMaxFileSize)
        return tooLarge(bytes.size());
    return bytes;
}

} // namespace

std::expected<GroupConfig, QString> GroupConfig::load(const QString &path)
{
    auto bytes = readGroupsFile(path);
    if (!bytes)
        return failure(bytes.error());
    if (!*bytes)
        return GroupConfig{};
    auto config = fromJson(**bytes);
    if (!config)
        return failure(QStringLiteral("%1: %2").arg(path, config.error()));
    return config;
}

std::expected<void, QString> GroupConfig::save(const QString &path) const
{
    // The file as it was (hand-written, perhaps), so that only what changed is rewritten; a path
    // that is not a regular file is refused rather than replaced.
    auto previous = readGroupsFile(path);
    if (!previous)
        return failure(previous.error());
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return failure(QStringLiteral("%1: cannot create the directory").arg(path));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    file.write(updatedJson(previous->value_or(QByteArray()), false));
    if (!file.commit())
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    return {};
}

const NodeGroup *GroupConfig::group(const QString &name) const
{
    for (const NodeGroup &g : groups) {
        if (g.name == name)
            return &g;
    }
    return nullptr;
}

QStringList GroupConfig::merge(const GroupConfig &other)
{
    QStringList replaced;
    for (const NodeGroup &incoming : other.groups) {
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const NodeGroup &g) { return g.name == incoming.name; });
        if (it != groups.end()) {
            *it = incoming;
            replaced << incoming.name;
        } else {
            groups.push_back(incoming);
        }
    }
    return replaced;
}

} // namespace lockscope::inspect
