#include "inspect/nodegroup.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;

class TestNodeGroup : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void parsesGroupsAndFlags();
    void roundTripWithoutSecrets();
    void exportWithSecretsOnRequest();
    void malformed_data();
    void malformed();
    void nodeListedTwice_data();
    void nodeListedTwice();
    void sameServerOtherDbIsAllowed();
    void missingFileIsEmpty();
    void saveAndLoad();
    void saveNeverWritesPasswords();
    void mergeReplacesByName();
    void defaultPathIsPerUserConfig();
    void newFileHoldsOnlyWhatDiffersFromDefaults();
    void unchangedFileIsWrittenBackAsItWas();
    void editsChangeOnlyTheirPart();
    void loopbackAliasesAreOneNode_data();
    void loopbackAliasesAreOneNode();
    void loopbackOtherPortOrDbIsAllowed_data();
    void loopbackOtherPortOrDbIsAllowed();
    void loadRefusesAFifo();
    void loadRefusesADevice();
    void loadRefusesADirectory();
    void loadRefusesAFileOverTheCap();
    void saveRefusesAFifo();
    void loadsTenThousandNodes();
};

/// The error text of a result, or "" when it holds a value (QVERIFY2 evaluates its message
/// even when the check passes).
template <typename T>
static QByteArray why(const std::expected<T, QString> &result)
{
    return result ? QByteArray() : result.error().toUtf8();
}

static const QByteArray kSample = R"({
  "version": 1,
  "groups": [
    { "name": "payments", "match": ["payments:*", "pay?:lock"],
      "nodes": [ { "url": "redis://10.0.0.5:6379", "production": true, "color": "#d04040" },
                 { "url": "redis://10.0.0.6:6379", "read_only": true },
                 { "host": "10.0.0.7", "port": 6380, "db": 2 } ] },
    { "name": "local", "nodes": [ { "url": "unix:///run/redis.sock" } ] }
  ]
})";

void TestNodeGroup::parsesGroupsAndFlags()
{
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY2(config.has_value(), why(config).constData());
    QCOMPARE(config->groups.size(), size_t(2));
    const NodeGroup *payments = config->group(QStringLiteral("payments"));
    QVERIFY(payments);
    QVERIFY(payments->isRedlockSet());
    QCOMPARE(payments->quorum(), 2);
    QCOMPARE(payments->match, (QStringList{"payments:*", "pay?:lock"}));
    QCOMPARE(payments->nodes[0].config.host, QStringLiteral("10.0.0.5"));
    QVERIFY(payments->nodes[0].production);
    QVERIFY(!payments->nodes[0].readOnly);
    QCOMPARE(payments->nodes[0].color, QStringLiteral("#d04040"));
    QVERIFY(payments->nodes[1].readOnly);
    QCOMPARE(payments->nodes[2].config.port, quint16(6380));
    QCOMPARE(payments->nodes[2].config.db, 2);
    const NodeGroup *local = config->group(QStringLiteral("local"));
    QVERIFY(local);
    QVERIFY(!local->isRedlockSet());
    QVERIFY(local->match.isEmpty());
    // Written only when set.
    const QJsonArray written = QJsonDocument::fromJson(config->toJson()).object()[u"groups"].toArray();
    QCOMPARE(written[0].toObject()[u"match"].toArray().size(), 2);
    QVERIFY(!written[1].toObject().contains(u"match"));
    QCOMPARE(local->nodes[0].config.unixPath, QStringLiteral("/run/redis.sock"));
    QVERIFY(!config->group(QStringLiteral("nope")));
}

void TestNodeGroup::roundTripWithoutSecrets()
{
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY(config);
    auto again = GroupConfig::fromJson(config->toJson());
    QVERIFY2(again.has_value(), why(again).constData());
    QCOMPARE(*again, *config);
}

void TestNodeGroup::exportWithSecretsOnRequest()
{
    auto config = GroupConfig::fromJson(R"({"version":1,"groups":[{"name":"g","nodes":[
        {"url":"redis://alice:s3cret@10.0.0.5:6379"}]}]})");
    QVERIFY2(config.has_value(), why(config).constData());
    QCOMPARE(config->groups[0].nodes[0].config.password, QStringLiteral("s3cret"));
    QVERIFY(!config->toJson().contains("s3cret"));
    QVERIFY(config->toJson().contains("alice")); // the user name is not a secret
    QVERIFY(config->toJson(true).contains("s3cret"));
    auto imported = GroupConfig::fromJson(config->toJson(true));
    QVERIFY(imported);
    QCOMPARE(imported->groups[0].nodes[0].config.password, QStringLiteral("s3cret"));
}

void TestNodeGroup::malformed_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QStringList>("mentions");
    QTest::newRow("not json") << QByteArray("{") << QStringList{"JSON"};
    QTest::newRow("array at top") << QByteArray("[]") << QStringList{"top level"};
    QTest::newRow("no version") << QByteArray(R"({"groups":[]})") << QStringList{"version"};
    QTest::newRow("future version") << QByteArray(R"({"version":99,"groups":[]})")
                                    << QStringList{"99", "newer"};
    QTest::newRow("unknown top key") << QByteArray(R"({"version":1,"grups":[]})") << QStringList{"grups"};
    QTest::newRow("group without name")
        << QByteArray(R"({"version":1,"groups":[{"nodes":[{"url":"redis://h"}]}]})")
        << QStringList{"group 1", "name"};
    QTest::newRow("duplicate group")
        << QByteArray(R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h"}]},
                                                {"name":"a","nodes":[{"url":"redis://i"}]}]})")
        << QStringList{"\"a\"", "twice"};
    QTest::newRow("match not a list")
        << QByteArray(R"({"version":1,"groups":[{"name":"a","match":"x:*","nodes":[{"url":"redis://h"}]}]})")
        << QStringList{"\"a\"", "match"};
    QTest::newRow("empty match glob")
        << QByteArray(R"({"version":1,"groups":[{"name":"a","match":[""],"nodes":[{"url":"redis://h"}]}]})")
        << QStringList{"\"a\"", "match"};
    QTest::newRow("no nodes") << QByteArray(R"({"version":1,"groups":[{"name":"a","nodes":[]}]})")
                              << QStringList{"\"a\"", "nodes"};
    QTest::newRow("bad url") << QByteArray(
                                    R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"http://h"}]}]})")
                             << QStringList{"\"a\"", "node 1", "scheme"};
    QTest::newRow("bad flag")
        << QByteArray(
               R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h","read_only":"yes"}]}]})")
        << QStringList{"node 1", "read_only"};
    QTest::newRow("bad colour")
        << QByteArray(R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h","color":"red"}]}]})")
        << QStringList{"color"};
    QTest::newRow("unknown node key")
        << QByteArray(
               R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h","colour":"#000000"}]}]})")
        << QStringList{"node 1", "colour"};
    QTest::newRow("same node twice")
        << QByteArray(
               R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h:1"},{"url":"redis://h:1"}]}]})")
        << QStringList{"node 2", "h:1"};
    QTest::newRow("password not leaked")
        << QByteArray(
               R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://u:topSecret@h:99999"}]}]})")
        << QStringList{"node 1"};
}

void TestNodeGroup::malformed()
{
    QFETCH(QByteArray, json);
    QFETCH(QStringList, mentions);
    auto config = GroupConfig::fromJson(json);
    QVERIFY(!config.has_value());
    for (const QString &mention : mentions)
        QVERIFY2(config.error().contains(mention), why(config).constData());
    QVERIFY2(!config.error().contains(QStringLiteral("topSecret")), why(config).constData());
}

void TestNodeGroup::nodeListedTwice_data()
{
    // A server listed twice would vote twice: the group's Redlock quorum could rest on it alone.
    QTest::addColumn<QByteArray>("nodes");
    QTest::addColumn<QString>("node");
    QTest::newRow("same url") << QByteArray(
                                     R"([{"url":"redis://h:1"},{"url":"redis://h:2"},{"url":"redis://h:1"}])")
                              << QStringLiteral("node 3: h:1 (db 0) is already in the group as node 1");
    QTest::newRow("host case")
        << QByteArray(R"([{"host":"Cache-A","port":7000},{"host":"cache-a","port":7000,"name":"other"}])")
        << QStringLiteral("node 2: cache-a:7000 (db 0) is already in the group as node 1");
    QTest::newRow("tls and plain") << QByteArray(R"([{"url":"redis://h:1/3"},{"url":"rediss://h:1/3"}])")
                                   << QStringLiteral("node 2: h:1 (db 3) is already in the group as node 1");
    QTest::newRow("unix socket")
        << QByteArray(R"([{"url":"unix:///run/r.sock"},{"url":"unix:///run/r.sock"}])")
        << QStringLiteral("node 2: /run/r.sock (db 0) is already in the group as node 1");
}

void TestNodeGroup::nodeListedTwice()
{
    QFETCH(QByteArray, nodes);
    QFETCH(QString, node);
    const QByteArray json = R"({"version":1,"groups":[{"name":"ok","nodes":[{"url":"redis://x:1"}]},
                                                     {"name":"payments","nodes":)" +
                            nodes + "}]}";
    const auto config = GroupConfig::fromJson(json);
    QVERIFY(!config.has_value());
    QVERIFY2(config.error().contains(QStringLiteral("group \"payments\"")), why(config).constData());
    QVERIFY2(config.error().contains(node), why(config).constData());
    QVERIFY2(config.error().contains(QStringLiteral("distinct servers")), why(config).constData());
}

void TestNodeGroup::sameServerOtherDbIsAllowed()
{
    // Other databases of one server are other key spaces, so findDuplicateNodes lets them be
    // (one failure domain all the same: only a run_id check at connect would see that).
    const auto config = GroupConfig::fromJson(
        R"({"version":1,"groups":[{"name":"a","nodes":[{"url":"redis://h:1/0"},{"url":"redis://h:1/1"}]}]})");
    QVERIFY2(config.has_value(), why(config).constData());
    QCOMPARE(config->groups[0].nodes.size(), size_t(2));
}

void TestNodeGroup::missingFileIsEmpty()
{
    QTemporaryDir dir;
    auto config = GroupConfig::load(dir.filePath(QStringLiteral("none.json")));
    QVERIFY2(config.has_value(), why(config).constData());
    QVERIFY(config->groups.empty());
}

void TestNodeGroup::saveAndLoad()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sub/dir/groups.json"));
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY(config);
    auto saved = config->save(path);
    QVERIFY2(saved.has_value(), why(saved).constData());
    auto loaded = GroupConfig::load(path);
    QVERIFY2(loaded.has_value(), why(loaded).constData());
    QCOMPARE(*loaded, *config);

    QFile broken(dir.filePath(QStringLiteral("broken.json")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{\"version\": 1, \"groups\": 3}");
    broken.close();
    auto bad = GroupConfig::load(broken.fileName());
    QVERIFY(!bad.has_value());
    QVERIFY2(bad.error().contains(broken.fileName()) && bad.error().contains(QStringLiteral("groups")),
             why(bad).constData());
}

void TestNodeGroup::saveNeverWritesPasswords()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    auto config = GroupConfig::fromJson(R"({"version":1,"groups":[{"name":"g","nodes":[
        {"url":"redis://:hunter2@10.0.0.5:6379"}]}]})");
    QVERIFY(config);
    QVERIFY(config->save(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(!file.readAll().contains("hunter2"));
}

void TestNodeGroup::mergeReplacesByName()
{
    auto base = GroupConfig::fromJson(kSample);
    auto incoming = GroupConfig::fromJson(R"({"version":1,"groups":[
        {"name":"local","nodes":[{"url":"redis://127.0.0.1:7000"}]},
        {"name":"new","nodes":[{"url":"redis://127.0.0.1:7001"}]}]})");
    QVERIFY(base && incoming);
    const QStringList replaced = base->merge(*incoming);
    QCOMPARE(replaced, QStringList{QStringLiteral("local")});
    QCOMPARE(base->groups.size(), size_t(3));
    QCOMPARE(base->group(QStringLiteral("local"))->nodes[0].config.port, quint16(7000));
    QVERIFY(base->group(QStringLiteral("new")));
    QVERIFY(base->group(QStringLiteral("payments")));
}

void TestNodeGroup::defaultPathIsPerUserConfig()
{
    qunsetenv("LOCKSCOPE_CONFIG");
    const QString path = GroupConfig::defaultPath();
    QVERIFY(path.endsWith(QStringLiteral("/lockscope/groups.json")));
    QVERIFY(path.startsWith(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)));
    qputenv("LOCKSCOPE_CONFIG", "/tmp/elsewhere.json");
    QCOMPARE(GroupConfig::defaultPath(), QStringLiteral("/tmp/elsewhere.json"));
    qunsetenv("LOCKSCOPE_CONFIG");
}

static QByteArray groupOf(const QByteArray &nodes)
{
    return R"({"version":1,"groups":[{"name":"payments","nodes":)" + nodes + "}]}";
}

void TestNodeGroup::loopbackAliasesAreOneNode_data()
{
    // One server reached under two loopback names would cast two votes in the quorum.
    QTest::addColumn<QByteArray>("nodes");
    QTest::addColumn<QStringList>("mentions");
    QTest::newRow("localhost, 127.0.0.1")
        << QByteArray(R"([{"url":"redis://localhost:7000"},{"url":"redis://127.0.0.1:7000"}])")
        << QStringList{"node 2: 127.0.0.1:7000 (db 0)", "as node 1 (localhost:7000)"};
    QTest::newRow("LOCALHOST, ::1")
        << QByteArray(R"([{"url":"redis://10.0.0.5:7000"},{"host":"LOCALHOST","port":7000,"db":4},
                          {"url":"redis://[::1]:7000/4"}])")
        << QStringList{"node 3: [::1]:7000 (db 4)", "as node 2 (LOCALHOST:7000)"};
}

void TestNodeGroup::loopbackAliasesAreOneNode()
{
    QFETCH(QByteArray, nodes);
    QFETCH(QStringList, mentions);
    const auto config = GroupConfig::fromJson(groupOf(nodes));
    QVERIFY(!config.has_value());
    for (const QString &mention : mentions)
        QVERIFY2(config.error().contains(mention), why(config).constData());
    QVERIFY2(config.error().contains(QStringLiteral("group \"payments\"")), why(config).constData());
}

void TestNodeGroup::loopbackOtherPortOrDbIsAllowed_data()
{
    QTest::addColumn<QByteArray>("nodes");
    QTest::newRow("other port") << QByteArray(
        R"([{"url":"redis://localhost:7000"},{"url":"redis://127.0.0.1:7001"},{"url":"redis://[::1]:7002"}])");
    QTest::newRow("other db") << QByteArray(
        R"([{"url":"redis://localhost:7000/1"},{"url":"redis://127.0.0.1:7000/2"},{"url":"redis://[::1]:7000"}])");
    QTest::newRow("127.0.0.2") << QByteArray(
        R"([{"url":"redis://127.0.0.1:7000"},{"url":"redis://127.0.0.2:7000"}])");
}

void TestNodeGroup::loopbackOtherPortOrDbIsAllowed()
{
    QFETCH(QByteArray, nodes);
    const auto config = GroupConfig::fromJson(groupOf(nodes));
    QVERIFY2(config.has_value(), why(config).constData());
    QCOMPARE(config->groups[0].nodes.size(), size_t(QJsonDocument::fromJson(nodes).array().size()));
}

void TestNodeGroup::loadRefusesAFifo()
{
    // Opening a FIFO for reading waits for a writer: load() must return at once, with an error.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(::mkfifo(QFile::encodeName(path).constData(), 0600) == 0);
    const auto config = GroupConfig::load(path);
    QVERIFY(!config.has_value());
    QVERIFY2(config.error().contains(path) && config.error().contains(QStringLiteral("not a regular file")) &&
                 config.error().contains(QStringLiteral("FIFO")),
             why(config).constData());
}

void TestNodeGroup::loadRefusesADevice()
{
    // /dev/zero never ends: reading it all would take all memory.
    const auto config = GroupConfig::load(QStringLiteral("/dev/zero"));
    QVERIFY(!config.has_value());
    QVERIFY2(config.error().contains(QStringLiteral("/dev/zero")) &&
                 config.error().contains(QStringLiteral("not a regular file")),
             why(config).constData());
}

void TestNodeGroup::loadRefusesADirectory()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(QDir().mkdir(path));
    const auto config = GroupConfig::load(path);
    QVERIFY(!config.has_value());
    QVERIFY2(config.error().contains(path) && config.error().contains(QStringLiteral("not a regular file")) &&
                 config.error().contains(QStringLiteral("directory")),
             why(config).constData());
}

void TestNodeGroup::loadRefusesAFileOverTheCap()
{
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("groups.json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QVERIFY(file.resize(GroupConfig::kMaxFileSize + 1)); // sparse: no disk, no memory
    file.close();
    const auto config = GroupConfig::load(file.fileName());
    QVERIFY(!config.has_value());
    QVERIFY2(config.error().contains(file.fileName()) && config.error().contains(QStringLiteral("16 MiB")) &&
                 config.error().contains(QString::number(GroupConfig::kMaxFileSize + 1)),
             why(config).constData());

    // At the cap it is read (and judged as JSON).
    QVERIFY(file.resize(GroupConfig::kMaxFileSize));
    const auto atCap = GroupConfig::load(file.fileName());
    QVERIFY(!atCap.has_value());
    QVERIFY2(atCap.error().contains(QStringLiteral("JSON")), why(atCap).constData());
}

void TestNodeGroup::saveRefusesAFifo()
{
    // save() reads the file it edits: a FIFO there is an error, not a hang, and stays a FIFO.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(::mkfifo(QFile::encodeName(path).constData(), 0600) == 0);
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY(config);
    const auto saved = config->save(path);
    QVERIFY(!saved.has_value());
    QVERIFY2(saved.error().contains(path) && saved.error().contains(QStringLiteral("not a regular file")),
             why(saved).constData());
    QVERIFY(!QFileInfo(path).isFile());
}

void TestNodeGroup::loadsTenThousandNodes()
{
    // 100 groups of 100 nodes on distinct hosts, ports and dbs: every node reads back.
    QJsonArray groups;
    for (int g = 0; g < 100; ++g) {
        QJsonArray nodes;
        for (int n = 0; n < 100; ++n)
            nodes.append(QJsonObject{
                {QStringLiteral("url"),
                 QStringLiteral("redis://node-%1.example.com:%2/%3").arg(n).arg(7000 + g).arg(n % 16)}});
        groups.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("group-%1").arg(g)},
                                  {QStringLiteral("nodes"), nodes}});
    }
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("groups.json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("groups"), groups}})
                   .toJson());
    file.close();

    const auto config = GroupConfig::load(file.fileName());
    QVERIFY2(config.has_value(), why(config).constData());
    QCOMPARE(config->groups.size(), size_t(100));
    size_t total = 0;
    for (const NodeGroup &group : config->groups)
        total += group.nodes.size();
    QCOMPARE(total, size_t(10'000));
    QCOMPARE(config->groups[99].nodes[99].config.host, QStringLiteral("node-99.example.com"));
    QCOMPARE(config->groups[99].nodes[99].config.port, quint16(7099));

    // One more node that repeats an early one under a loopback alias is still caught.
    QJsonObject last = groups[99].toObject();
    QJsonArray lastNodes = last[QStringLiteral("nodes")].toArray();
    lastNodes[5] = QJsonObject{{QStringLiteral("url"), QStringLiteral("redis://localhost:7099/5")}};
    lastNodes.append(QJsonObject{{QStringLiteral("url"), QStringLiteral("redis://127.0.0.1:7099/5")}});
    last[QStringLiteral("nodes")] = lastNodes;
    groups[99] = last;
    const auto duplicate = GroupConfig::fromJson(
        QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("groups"), groups}})
            .toJson());
    QVERIFY(!duplicate.has_value());
    QVERIFY2(duplicate.error().contains(QStringLiteral("node 101: 127.0.0.1:7099 (db 5)")) &&
                 duplicate.error().contains(QStringLiteral("as node 6 (localhost:7099)")),
             why(duplicate).constData());
}

QTEST_GUILESS_MAIN(TestNodeGroup)
#include "tst_nodegroup.moc"

void TestNodeGroup::newFileHoldsOnlyWhatDiffersFromDefaults()
{
    GroupConfig config;
    NodeGroup group;
    group.name = QStringLiteral("g");
    GroupNode node;
    node.config = *lockscope::redis::NodeConfig::fromUrl(QStringLiteral("redis://10.0.0.5:6379"));
    group.nodes.push_back(node);
    node.config =
        *lockscope::redis::NodeConfig::fromUrl(QStringLiteral("redis://10.0.0.6:6380/3?timeout=5s"));
    node.production = true;
    group.nodes.push_back(node);
    config.groups.push_back(group);
    const QByteArray json = config.toJson();
    for (const char *absent :
         {"client_name", "connect_timeout_ms", "spin_us", "read_only", "color", "tls", "\"db\": 0"})
        QVERIFY2(!json.contains(absent), json.constData());
    QVERIFY2(json.contains("\"command_timeout_ms\": 5000") && json.contains("\"db\": 3"), json.constData());
    // In the order a person would write them: version before groups, a group's name first.
    QVERIFY(json.indexOf("\"version\"") < json.indexOf("\"groups\""));
    QVERIFY(json.indexOf("\"name\": \"g\"") < json.indexOf("\"nodes\""));
    QVERIFY(json.indexOf("\"host\"") < json.indexOf("\"port\""));
    auto back = GroupConfig::fromJson(json);
    QVERIFY2(back.has_value(), why(back).constData());
    QCOMPARE(*back, config);
}

void TestNodeGroup::unchangedFileIsWrittenBackAsItWas()
{
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY(config);
    QCOMPARE(config->updatedJson(kSample), kSample);
    // A file that is not JSON any more is replaced by a plain one.
    const QByteArray fresh = config->updatedJson("not json");
    QCOMPARE(fresh, config->toJson());
}

void TestNodeGroup::editsChangeOnlyTheirPart()
{
    auto config = GroupConfig::fromJson(kSample);
    QVERIFY(config);
    GroupConfig edited = *config;
    NodeGroup &payments = edited.groups[0];
    payments.nodes[0].production = false;                         // a flag back to its default
    payments.nodes[1].config.port = 6390;                         // inside a URL
    payments.nodes[1].config.password = QStringLiteral("s3cr3t"); // never written
    payments.nodes.erase(payments.nodes.begin() + 2);             // a node removed
    NodeGroup added;
    added.name = QStringLiteral("added");
    GroupNode node;
    node.config = *lockscope::redis::NodeConfig::fromUrl(QStringLiteral("redis://10.0.0.9:6379"));
    added.nodes.push_back(node);
    edited.groups.push_back(added);

    const QByteArray json = edited.updatedJson(kSample);
    const QByteArray expected = R"({
  "version": 1,
  "groups": [
    { "name": "payments", "match": ["payments:*", "pay?:lock"],
      "nodes": [ { "url": "redis://10.0.0.5:6379", "color": "#d04040" },
                 { "url": "redis://10.0.0.6:6390", "read_only": true } ] },
    { "name": "local", "nodes": [ { "url": "unix:///run/redis.sock" } ] },
    { "name": "added", "nodes": [ { "host": "10.0.0.9", "port": 6379 } ] }
  ]
})";
    QCOMPARE(json, expected);
    auto back = GroupConfig::fromJson(json);
    QVERIFY2(back.has_value(), why(back).constData());
    edited.groups[0].nodes[1].config.password.clear();
    QCOMPARE(*back, edited);
}
