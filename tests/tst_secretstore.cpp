// Node passwords: the session store, the keychain (bounded on a machine without one), and a
// group saved without its password connecting once a store supplies it.

#include "inspect/nodegroup.h"
#include "inspect/secretstore.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <chrono>
#include <thread>

using namespace lockscope;
using inspect::CredentialResolution;
using inspect::GroupConfig;
using inspect::GroupNode;
using inspect::KeychainSecretStore;
using inspect::MemorySecretStore;
using inspect::NodeGroup;
using inspect::SessionSecretStore;

namespace {

GroupNode nodeFromUrl(const QString &url)
{
    GroupNode node;
    node.config = *redis::NodeConfig::fromUrl(url);
    return node;
}

/// A keychain that answers the way a real one does, and counts its calls.
class FakeKeychain final : public inspect::SecretStore
{
public:
    bool working = true;
    int reads = 0;
    QHash<QString, QString> stored;

    bool available() override { return working; }
    QString unavailableReason() override { return working ? QString() : QStringLiteral("no backend"); }
    bool persistent() const override { return true; }
    QString description() const override { return QStringLiteral("fake keychain"); }
    std::expected<std::optional<QString>, QString> read(const QString &key) override
    {
        ++reads;
        if (!working)
            return std::unexpected(QStringLiteral("no backend"));
        if (!stored.contains(key))
            return std::optional<QString>();
        return std::optional<QString>(stored.value(key));
    }
    std::expected<void, QString> write(const QString &key, const QString &password) override
    {
        if (!working)
            return std::unexpected(QStringLiteral("no backend"));
        stored.insert(key, password);
        return {};
    }
    std::expected<void, QString> remove(const QString &key) override
    {
        stored.remove(key);
        return {};
    }
};

} // namespace

class TestSecretStore : public QObject
{
    Q_OBJECT

private slots:
    void keyNamesTheNodeNotThePassword();
    void memoryStoreSemantics();
    void memoryStoreFromManyThreads();
    void sessionStoreWithoutKeychainKeepsForTheSession();
    void sessionStoreCachesTheKeychain();
    void resolutionFillsAndReportsMissing();
    void resolutionSurvivesAFailingStore();
    void savedGroupWithoutPasswordConnectsFromTheStore();
    void aclUserWithoutPasswordIsReportedMissing();
    void keychainAnswersInBoundedTime();
    void keychainFromAWorkerThread();
};

void TestSecretStore::keyNamesTheNodeNotThePassword()
{
    const auto withUser = *redis::NodeConfig::fromUrl(QStringLiteral("redis://ops:hunter2@10.0.0.5:6380/3"));
    QCOMPARE(inspect::secretKey(QStringLiteral("payments"), withUser),
             QStringLiteral("payments/ops@10.0.0.5:6380/3"));
    const auto noUser = *redis::NodeConfig::fromUrl(QStringLiteral("redis://:hunter2@cache.local"));
    QCOMPARE(inspect::secretKey(QStringLiteral("local"), noUser),
             QStringLiteral("local/default@cache.local:6379/0"));
    QVERIFY(!inspect::secretKey(QStringLiteral("p"), withUser).contains(QStringLiteral("hunter2")));
    // The same node in two groups has two keys (groups may use different credentials).
    QVERIFY(inspect::secretKey(QStringLiteral("a"), withUser) !=
            inspect::secretKey(QStringLiteral("b"), withUser));
}

void TestSecretStore::memoryStoreSemantics()
{
    MemorySecretStore store;
    QVERIFY(store.available());
    QVERIFY(store.unavailableReason().isEmpty());
    QVERIFY(!store.persistent());
    auto missing = store.read(QStringLiteral("g/default@h:1/0"));
    QVERIFY(missing.has_value());
    QVERIFY(!missing->has_value());
    QVERIFY(store.write(QStringLiteral("g/default@h:1/0"), QStringLiteral("one")).has_value());
    QCOMPARE(store.read(QStringLiteral("g/default@h:1/0"))->value_or(QString()), QStringLiteral("one"));
    QVERIFY(store.write(QStringLiteral("g/default@h:1/0"), QStringLiteral("two")).has_value());
    QCOMPARE(store.read(QStringLiteral("g/default@h:1/0"))->value_or(QString()), QStringLiteral("two"));
    QVERIFY(!store.read(QStringLiteral("g/default@h:1/1"))->has_value());
    QVERIFY(store.remove(QStringLiteral("g/default@h:1/0")).has_value());
    QVERIFY(!store.read(QStringLiteral("g/default@h:1/0"))->has_value());
    QVERIFY(store.remove(QStringLiteral("g/default@h:1/0")).has_value()); // nothing there: fine
}

void TestSecretStore::memoryStoreFromManyThreads()
{
    MemorySecretStore store;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&store, t] {
            for (int i = 0; i < 500; ++i) {
                const QString key = QStringLiteral("g/u%1@h:1/%2").arg(t).arg(i % 7);
                store.write(key, QString::number(i));
                store.read(key);
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    for (int t = 0; t < 4; ++t)
        QCOMPARE(store.read(QStringLiteral("g/u%1@h:1/%2").arg(t).arg(499 % 7))->value_or(QString()),
                 QStringLiteral("499"));
}

void TestSecretStore::sessionStoreWithoutKeychainKeepsForTheSession()
{
    auto keychain = std::make_unique<FakeKeychain>();
    keychain->working = false;
    SessionSecretStore store(std::move(keychain));
    QVERIFY(store.available());
    QVERIFY(!store.persistent());
    QCOMPARE(store.persistentUnavailableReason(), QStringLiteral("no backend"));
    QVERIFY(store.write(QStringLiteral("k"), QStringLiteral("pw")).has_value());
    QCOMPARE(store.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("pw"));
    QVERIFY(store.remove(QStringLiteral("k")).has_value());
    QVERIFY(!store.read(QStringLiteral("k"))->has_value());

    SessionSecretStore none;
    QVERIFY(!none.persistent());
    none.keepForSession(QStringLiteral("k"), QStringLiteral("asked"));
    QCOMPARE(none.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("asked"));
}

void TestSecretStore::sessionStoreCachesTheKeychain()
{
    auto owned = std::make_unique<FakeKeychain>();
    FakeKeychain *keychain = owned.get();
    keychain->stored.insert(QStringLiteral("k"), QStringLiteral("from-keychain"));
    SessionSecretStore store(std::move(owned));
    QVERIFY(store.persistent());
    QCOMPARE(store.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("from-keychain"));
    QCOMPARE(store.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("from-keychain"));
    QCOMPARE(keychain->reads, 1); // the second read came from the session cache

    QVERIFY(store.write(QStringLiteral("w"), QStringLiteral("remembered")).has_value());
    QCOMPARE(keychain->stored.value(QStringLiteral("w")), QStringLiteral("remembered"));
    store.keepForSession(QStringLiteral("s"), QStringLiteral("session-only"));
    QVERIFY(!keychain->stored.contains(QStringLiteral("s")));
    QCOMPARE(store.read(QStringLiteral("s"))->value_or(QString()), QStringLiteral("session-only"));
    QVERIFY(store.remove(QStringLiteral("w")).has_value());
    QVERIFY(!keychain->stored.contains(QStringLiteral("w")));
}

void TestSecretStore::resolutionFillsAndReportsMissing()
{
    NodeGroup group;
    group.name = QStringLiteral("payments");
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://ops:inline@10.0.0.1:6379"))); // 0: configured
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://10.0.0.2:6379?user=ops")));   // 1: stored
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://10.0.0.3:6379?user=ops")));   // 2: missing
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://10.0.0.4:6379")));            // 3: anonymous
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://10.0.0.5:6379"))); // 4: stored, no user

    MemorySecretStore store;
    store.write(inspect::secretKey(group.name, group.nodes[1].config), QStringLiteral("from-store-1"));
    store.write(inspect::secretKey(group.name, group.nodes[4].config), QStringLiteral("from-store-4"));
    // A password for node 0 in the store does not override the one in its configuration.
    store.write(inspect::secretKey(group.name, group.nodes[0].config), QStringLiteral("ignored"));

    const CredentialResolution r = inspect::resolveCredentials(group, &store);
    QCOMPARE(r.group.nodes[0].config.password, QStringLiteral("inline"));
    QCOMPARE(r.group.nodes[1].config.password, QStringLiteral("from-store-1"));
    QVERIFY(r.group.nodes[2].config.password.isEmpty());
    QVERIFY(r.group.nodes[3].config.password.isEmpty());
    QCOMPARE(r.group.nodes[4].config.password, QStringLiteral("from-store-4"));
    QCOMPARE(r.fromStore, (std::vector<int>{1, 4}));
    QCOMPARE(r.missing, (std::vector<int>{2}));
    QCOMPARE(r.anonymous, (std::vector<int>{3}));
    QVERIFY(r.storeErrors.isEmpty());
    // The input group is untouched.
    QVERIFY(group.nodes[1].config.password.isEmpty());

    const CredentialResolution noStore = inspect::resolveCredentials(group, nullptr);
    QVERIFY(noStore.fromStore.empty());
    QCOMPARE(noStore.missing, (std::vector<int>{1, 2}));
    QCOMPARE(noStore.anonymous, (std::vector<int>{3, 4}));
}

void TestSecretStore::resolutionSurvivesAFailingStore()
{
    NodeGroup group;
    group.name = QStringLiteral("g");
    group.nodes.push_back(nodeFromUrl(QStringLiteral("redis://10.0.0.2:6379?user=ops&name=cache-a")));
    FakeKeychain broken;
    broken.working = false;
    const CredentialResolution r = inspect::resolveCredentials(group, &broken);
    QCOMPARE(r.missing, (std::vector<int>{0}));
    QCOMPARE(r.storeErrors.size(), 1);
    QVERIFY2(r.storeErrors.front().startsWith(QStringLiteral("cache-a: ")),
             qPrintable(r.storeErrors.front()));
}

void TestSecretStore::savedGroupWithoutPasswordConnectsFromTheStore()
{
    LS_START_SERVER(server, test::ServerKind::Password);
    NodeGroup group;
    group.name = QStringLiteral("secured");
    GroupNode node;
    node.config = test::clientConfig(*server, test::ServerKind::Password);
    QCOMPARE(node.config.password, QString::fromLatin1(test::kPassword));
    group.nodes.push_back(node);
    GroupConfig config;
    config.groups.push_back(group);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(config.save(path).has_value());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(!file.readAll().contains(test::kPassword));

    auto loaded = GroupConfig::load(path);
    QVERIFY(loaded.has_value());
    const NodeGroup *saved = loaded->group(QStringLiteral("secured"));
    QVERIFY(saved);
    QVERIFY(saved->nodes.front().config.password.isEmpty());

    // Without a password the server refuses, and the error says a password is needed.
    {
        redis::Connection connection(saved->nodes.front().config);
        auto connected = connection.connect();
        QVERIFY(!connected.has_value());
        QVERIFY2(inspect::needsPassword(connected.error()), qPrintable(connected.error().toString()));
    }

    MemorySecretStore store;
    const QString key = inspect::secretKey(saved->name, saved->nodes.front().config);
    QVERIFY(store.write(key, QString::fromLatin1(test::kPassword)).has_value());
    const CredentialResolution r = inspect::resolveCredentials(*saved, &store);
    QCOMPARE(r.fromStore, (std::vector<int>{0}));
    redis::Connection connection(r.group.nodes.front().config);
    LS_VERIFY_OK(connection.connect());
    auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
}

void TestSecretStore::aclUserWithoutPasswordIsReportedMissing()
{
    LS_START_SERVER(server, test::ServerKind::Acl);
    NodeGroup group;
    group.name = QStringLiteral("acl");
    GroupNode node;
    node.config = test::clientConfig(*server, test::ServerKind::Acl);
    QCOMPARE(node.config.username, QString::fromLatin1(test::kAclUser));
    node.config.password.clear();
    group.nodes.push_back(node);

    MemorySecretStore store;
    CredentialResolution r = inspect::resolveCredentials(group, &store);
    QCOMPARE(r.missing, (std::vector<int>{0}));
    // The operator answers; the session keeps it; the next resolution finds it.
    store.write(inspect::secretKey(group.name, node.config), QString::fromLatin1(test::kAclPassword));
    r = inspect::resolveCredentials(group, &store);
    QVERIFY(r.missing.empty());
    redis::Connection connection(r.group.nodes.front().config);
    LS_VERIFY_OK(connection.connect());
    auto whoami = connection.command({"ACL", "WHOAMI"});
    LS_VERIFY_OK(whoami);
    QCOMPARE(whoami->bytes(), QByteArray(test::kAclUser));
}

void TestSecretStore::keychainAnswersInBoundedTime()
{
    // On this headless machine there is usually no Secret Service; where there is one, the
    // store must work end to end instead. Either way it must answer, not hang.
    KeychainSecretStore store(std::chrono::seconds(5));
    const auto start = std::chrono::steady_clock::now();
    const bool available = store.available();
    QVERIFY2(test::elapsedMs(start) < 60000, "the keychain probe did not come back in time");
    if (!available) {
        QVERIFY(!store.unavailableReason().isEmpty());
        auto read = store.read(QStringLiteral("tst_secretstore/none"));
        QVERIFY(!read.has_value());
        auto written = store.write(QStringLiteral("tst_secretstore/none"), QStringLiteral("x"));
        QVERIFY(!written.has_value());
        QVERIFY2(!written.error().isEmpty(), "an unavailable keychain must say why");
        qInfo("keychain unavailable: %s", qPrintable(store.unavailableReason()));
        // The session store degrades to memory over it.
        SessionSecretStore session(std::make_unique<KeychainSecretStore>(std::chrono::seconds(5)));
        QVERIFY(!session.persistent());
        QVERIFY(session.write(QStringLiteral("k"), QStringLiteral("pw")).has_value());
        QCOMPARE(session.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("pw"));
        return;
    }
    const QString key =
        QStringLiteral("tst_secretstore/%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
    QVERIFY(store.unavailableReason().isEmpty());
    auto none = store.read(key);
    QVERIFY2(none.has_value() && !none->has_value(), "a fresh key must read as absent");
    auto written = store.write(key, QStringLiteral("round-trip-pw"));
    QVERIFY2(written.has_value(), written ? "" : qPrintable(written.error()));
    auto read = store.read(key);
    QVERIFY(read.has_value());
    QCOMPARE(read->value_or(QString()), QStringLiteral("round-trip-pw"));
    QVERIFY(store.remove(key).has_value());
    auto gone = store.read(key);
    QVERIFY(gone.has_value() && !gone->has_value());
}

void TestSecretStore::keychainFromAWorkerThread()
{
    // A plain std::thread has no Qt event loop: the store must still answer.
    std::optional<bool> available;
    QString readError;
    const auto start = std::chrono::steady_clock::now();
    std::thread worker([&] {
        KeychainSecretStore store(std::chrono::seconds(5));
        available = store.available();
        auto read = store.read(QStringLiteral("tst_secretstore/worker-never-written"));
        if (!read)
            readError = read.error();
        else if (read->has_value())
            readError = QStringLiteral("a key never written was found");
    });
    worker.join();
    QVERIFY2(test::elapsedMs(start) < 60000, "the keychain did not answer a worker thread in time");
    QVERIFY(available.has_value());
    if (*available)
        QVERIFY2(readError.isEmpty(), qPrintable(readError));
    else
        QVERIFY(!readError.isEmpty());
}

QTEST_GUILESS_MAIN(TestSecretStore)
#include "tst_secretstore.moc"
