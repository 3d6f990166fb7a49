#include "nodegroup.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>
#include <optional>

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
    const redis::NodeConfig &c = configs[static_cast<size_t>(second)];
    return QStringLiteral(", node %1: %2 (db %3) is already in the group as node %4: a Redlock set needs "
                          "distinct servers")
        .arg(second + 1)
        .arg(c.address())
        .arg(c.db)
        .arg(first + 1);
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
        if (config.group(group.name))
            return failure(where + QStringLiteral(": the name is used twice"));
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
    QJsonArray groupArray;
    for (const NodeGroup &group : groups) {
        QJsonArray nodeArray;
        for (const GroupNode &node : group.nodes) {
            QJsonObject object = node.config.toJson(includeSecrets);
            if (node.readOnly)
                object[QStringLiteral("read_only")] = true;
            if (node.production)
                object[QStringLiteral("production")] = true;
            if (!node.color.isEmpty())
                object[QStringLiteral("color")] = node.color;
            nodeArray.append(object);
        }
        QJsonObject object{{QStringLiteral("name"), group.name}, {QStringLiteral("nodes"), nodeArray}};
        if (!group.match.isEmpty())
            object[QStringLiteral("match")] = QJsonArray::fromStringList(group.match);
        groupArray.append(object);
    }
    const QJsonObject root{{QStringLiteral("version"), kVersion}, {QStringLiteral("groups"), groupArray}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
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

std::expected<GroupConfig, QString> GroupConfig::load(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return GroupConfig{};
    if (!file.open(QIODevice::ReadOnly))
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    auto config = fromJson(file.readAll());
    if (!config)
        return failure(QStringLiteral("%1: %2").arg(path, config.error()));
    return config;
}

std::expected<void, QString> GroupConfig::save(const QString &path) const
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return failure(QStringLiteral("%1: cannot create the directory").arg(path));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    file.write(toJson(false));
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
