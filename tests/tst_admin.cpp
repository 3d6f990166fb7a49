// Admin actions against real redis-server nodes: force-release (compare-and-delete of the value
// shown, fencing bump, schema wake-up), unconditional delete, extend, acquire as operator (each
// lock kind: read/write, semaphore, reentrant; refused combinations), read-only nodes and the
// audit log.

#include "inspect/admin.h"
#include "inspect/keyread.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace lockscope;
using namespace lockscope::inspect;
using lockscope::test::ServerSet;

namespace lockscope::inspect {
// QCOMPARE prints a differing outcome by its word.
char *toString(AdminOutcome outcome)
{
    return qstrdup(outcomeName(outcome).toUtf8().constData());
}
} // namespace lockscope::inspect

namespace {

/// Options for a 30 s lock.
lock::AcquireOptions held30s(const QString &label = {})
{
    lock::AcquireOptions options;
    options.ttl = std::chrono::seconds(30);
    options.label = label;
    return options;
}

/// What the node holds under `key`, read the way the scanner does (TYPE, PTTL, GET / HGETALL).
RawEntry readRaw(redis::Connection &connection, const QByteArray &key)
{
    RawEntry raw;
    auto type = connection.command({"TYPE", key});
    auto pttl = connection.command({"PTTL", key});
    if (!type || !pttl)
        return raw;
    raw.typeName = QString::fromUtf8(type->bytes());
    raw.pttlMs = pttl->integer();
    if (raw.typeName == QLatin1String("string")) {
        raw.type = RawEntry::Type::String;
        raw.value = connection.command({"GET", key})->bytes();
    } else if (raw.typeName == QLatin1String("hash")) {
        raw.type = RawEntry::Type::Hash;
        const auto all = connection.command({"HGETALL", key});
        for (std::size_t i = 0; i + 1 < all->elements().size(); i += 2)
            raw.fields.emplace_back(all->elements()[i].bytes(), all->elements()[i + 1].bytes());
    } else if (raw.typeName != QLatin1String("none")) {
        raw.type = RawEntry::Type::Other;
    }
    return raw;
}

/// The record as an operator would have been shown it (built by hand: no scanner needed).
LockRecord showRecord(ServerSet &set, const QByteArray &key, const QString &schema)
{
    LockRecord record;
    record.key = key;
    record.schema = schema;
    record.of = set.size();
    for (int i = 0; i < set.size(); ++i) {
        NodeEntry entry;
        entry.node = ServerSet::nodeName(i);
        entry.raw = readRaw(set.admin(i), key);
        if (entry.present())
            ++record.held;
        record.nodes.push_back(std::move(entry));
    }
    record.readAt = QDateTime::currentDateTimeUtc();
    return record;
}

std::vector<AdminNode> adminNodes(const ServerSet &set, std::initializer_list<int> readOnly = {})
{
    std::vector<AdminNode> nodes;
    for (const redis::NodeConfig &config : set.configs())
        nodes.push_back(AdminNode{config, false, false});
    for (int i : readOnly)
        nodes.at(static_cast<std::size_t>(i)).readOnly = true;
    return nodes;
}

Operator testOperator()
{
    return Operator{QStringLiteral("alice"), QStringLiteral("ops-box")};
}

std::vector<QJsonObject> auditLines(const QString &path)
{
    std::vector<QJsonObject> lines;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return lines;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine();
        if (line.trimmed().isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (error.error != QJsonParseError::NoError || !document.isObject()) {
            qWarning("bad audit line: %s", line.constData());
            lines.push_back({});
            continue;
        }
        lines.push_back(document.object());
    }
    return lines;
}

const AdminNodeResult *resultFor(const AdminResult &result, const QString &node)
{
    for (const AdminNodeResult &entry : result.nodes)
        if (entry.node == node)
            return &entry;
    return nullptr;
}

/// ZCARD on node i; -100 on failure.
qint64 zcard(ServerSet &set, int i, const QByteArray &key)
{
    auto reply = set.admin(i).command({"ZCARD", key});
    return reply ? reply->integer() : -100;
}

/// The scores of a sorted set's members on node i, and the node's clock (TIME) in Unix ms.
struct ZsetScores
{
    std::vector<double> scores;
    qint64 nowMs = 0;
};

ZsetScores zsetScores(ServerSet &set, int i, const QByteArray &key)
{
    ZsetScores result;
    auto range = set.admin(i).command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    auto time = set.admin(i).command({"TIME"});
    if (!range || !time || time->elements().size() != 2)
        return result;
    for (std::size_t m = 0; m + 1 < range->elements().size(); m += 2)
        result.scores.push_back(range->elements()[m + 1].bytes().toDouble());
    result.nowMs =
        time->elements()[0].bytes().toLongLong() * 1000 + time->elements()[1].bytes().toLongLong() / 1000;
    return result;
}

/// EXISTS on node i: 1, 0, or -100 on failure.
qint64 exists(ServerSet &set, int i, const QByteArray &key)
{
    auto reply = set.admin(i).command({"EXISTS", key});
    return reply ? reply->integer() : -100;
}

/// An operator's acquire of `kind` (permits, owner as given).
AdminAcquireKind kindOf(lock::LockKind kind, int permits = 0, const QByteArray &owner = {})
{
    return AdminAcquireKind{kind, permits, owner};
}

/// Rows "one node" and "three nodes" of a column "nodes".
void addNodeCountRows()
{
    QTest::addColumn<int>("nodes");
    QTest::newRow("one node") << 1;
    QTest::newRow("three nodes") << 3;
}

} // namespace

class TestAdmin : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void operatorCurrent()
    {
        const Operator who = Operator::current();
        QVERIFY(!who.name.isEmpty());
        QVERIFY(!who.host.isEmpty());
    }

    // The words lockctl prints and puts in its JSON "outcome": stable.
    void outcomeNames()
    {
        QCOMPARE(outcomeName(AdminOutcome::Done), QStringLiteral("done"));
        QCOMPARE(outcomeName(AdminOutcome::Changed), QStringLiteral("changed"));
        QCOMPARE(outcomeName(AdminOutcome::Missing), QStringLiteral("missing"));
        QCOMPARE(outcomeName(AdminOutcome::Refused), QStringLiteral("refused"));
        QCOMPARE(outcomeName(AdminOutcome::Error), QStringLiteral("error"));
    }

    void auditDefaultPath()
    {
        const QString path = AuditLog::defaultPath();
        QVERIFY(path.endsWith(QLatin1String("/lockscope/audit.jsonl")));
        QVERIFY(path.startsWith(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)));
    }

    void auditLogCreatesDirectoryAndAppends()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        AuditLog log(dir.filePath(QStringLiteral("nested/dir/audit.jsonl")));
        AuditEntry entry;
        entry.time = QDateTime::currentDateTimeUtc();
        entry.operatorName = QStringLiteral("bob");
        entry.host = QStringLiteral("h");
        entry.group = QStringLiteral("g");
        entry.node = QStringLiteral("n");
        entry.key = "k";
        entry.action = QStringLiteral("force-release");
        entry.valueBefore = QByteArray("\xff\x00v", 3);
        entry.ttlBeforeMs = 1234;
        entry.result = QStringLiteral("ok");
        QVERIFY(log.append(entry));
        QVERIFY(log.append(entry));
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[0].value(QStringLiteral("operator")).toString(), QStringLiteral("bob"));
        QCOMPARE(lines[0].value(QStringLiteral("ttl_before_ms")).toInteger(), 1234);
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("force-release"));
        QCOMPARE(QByteArray::fromBase64(
                     lines[0].value(QStringLiteral("value_before_base64")).toString().toLatin1()),
                 QByteArray("\xff\x00v", 3));
        QVERIFY(lines[0].contains(QStringLiteral("time")));
    }

    /// One reader of three is force-released: only its member goes, on every node; the fence
    /// counter is bumped; the key keeps living with the others; audited per node.
    void forceReleaseOneReader()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        lock::AcquireOptions read = held30s();
        read.kind = lock::LockKind::Read;
        std::vector<lock::Lock> readers;
        for (int r = 0; r < 3; ++r) {
            auto reader = locker.tryAcquire("docs", read);
            LS_VERIFY_OK(reader);
            readers.push_back(*reader);
        }
        const LockRecord record = readRecord(set->configs(), "docs", SchemaRegistry::builtins());
        QCOMPARE(record.kind, QStringLiteral("read"));
        Admin admin(QStringLiteral("prod"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.forceReleaseHolder(record, readers[1].token);
        QVERIFY2(result.ok, qPrintable(result.message));
        for (int i = 0; i < 3; ++i) {
            const auto members = set->admin(i).command({"ZRANGE", "docs", "0", "-1"});
            LS_VERIFY_OK(members);
            QCOMPARE(members->elements().size(), std::size_t(2));
            for (const auto &member : members->elements())
                QVERIFY(!member.bytes().startsWith(lock::LockValue::ownerPrefix(readers[1].token)));
            QVERIFY(set->pttl(i, "docs") > 20000);
            QCOMPARE(set->get(i, lock::fenceKeyFor("docs")), QByteArray("4")); // 3 readers + the bump
            QCOMPARE(resultFor(result, ServerSet::nodeName(i))->outcome, AdminOutcome::Done);
        }
        // The released reader's own release now finds nothing; the others still hold.
        QVERIFY(!locker.release(readers[1]).has_value());
        LS_VERIFY_OK(locker.release(readers[0]));
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("force-release-holder"));

        // The same record again: that holder is gone, nothing else is touched.
        const AdminResult again = admin.forceReleaseHolder(record, readers[1].token);
        QVERIFY(!again.ok);
        QCOMPARE(resultFor(again, ServerSet::nodeName(0))->outcome, AdminOutcome::Changed);
        const auto left = set->admin(0).command({"ZCARD", "docs"});
        QCOMPARE(left->integer(), 1);
    }

    /// Extend one permit: its deadline moves, the other permit's does not; a mutex is refused.
    void extendOnePermitRefuseOthers()
    {
        LS_START_SERVERS(set, 1);
        lock::Locker locker(set->configs());
        lock::AcquireOptions permit = held30s();
        permit.kind = lock::LockKind::Semaphore;
        permit.permits = 2;
        permit.ttl = std::chrono::seconds(5);
        auto a = locker.tryAcquire("pool", permit);
        auto b = locker.tryAcquire("pool", permit);
        LS_VERIFY_OK(a);
        LS_VERIFY_OK(b);
        const LockRecord record = readRecord(set->configs(), "pool", SchemaRegistry::builtins());
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), nullptr);
        const AdminResult result = admin.extendHolder(record, a->token, std::chrono::seconds(60));
        QVERIFY2(result.ok, qPrintable(result.message));
        const LockRecord after = readRecord(set->configs(), "pool", SchemaRegistry::builtins());
        const DecodedLock &decoded = *after.nodes[0].decoded;
        for (const LockHolder &holder : decoded.holders) {
            if (holder.token == a->token)
                QVERIFY2(holder.pttlMs > 55000, QByteArray::number(holder.pttlMs));
            else
                QVERIFY2(holder.pttlMs <= 5000, QByteArray::number(holder.pttlMs));
        }
        QVERIFY(set->pttl(0, "pool") > 55000); // the key lives as long as its latest holder

        // A read-only node gets nothing; a mutex has no holders to change one by one.
        Admin readOnly(QStringLiteral("g"), adminNodes(*set, {0}), testOperator(), nullptr);
        QCOMPARE(readOnly.forceReleaseHolder(record, b->token).nodes[0].outcome, AdminOutcome::Refused);
        auto mutex = locker.tryAcquire("plain", held30s());
        LS_VERIFY_OK(mutex);
        const LockRecord plain = readRecord(set->configs(), "plain", SchemaRegistry::builtins());
        QCOMPARE(admin.forceReleaseHolder(plain, mutex->token).nodes[0].outcome, AdminOutcome::Refused);
        QCOMPARE(set->admin(0).command({"ZCARD", "pool"})->integer(), 2);
        QVERIFY(set->pttl(0, "plain") > 0);
    }

    void forceReleaseUnchangedLockScopeLock()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:nightly";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        const QByteArray fenceKey = lock::fenceKeyFor(key);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(set->get(i, fenceKey), QByteArray("1"));

        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        Admin admin(QStringLiteral("prod"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY2(result.ok, qPrintable(result.message));
        QCOMPARE(result.nodes.size(), std::size_t(3));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(result.nodes[i].outcome, AdminOutcome::Done);
            QVERIFY(set->get(i, key).isNull());
            QCOMPARE(set->get(i, fenceKey), QByteArray("2")); // bumped: the stale holder is fenced out
        }

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        for (int i = 0; i < 3; ++i) {
            const QJsonObject &line = lines[i];
            QCOMPARE(line.value(QStringLiteral("action")).toString(), QStringLiteral("force-release"));
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
            QCOMPARE(line.value(QStringLiteral("operator")).toString(), QStringLiteral("alice"));
            QCOMPARE(line.value(QStringLiteral("host")).toString(), QStringLiteral("ops-box"));
            QCOMPARE(line.value(QStringLiteral("group")).toString(), QStringLiteral("prod"));
            QCOMPARE(line.value(QStringLiteral("node")).toString(), ServerSet::nodeName(i));
            QCOMPARE(line.value(QStringLiteral("key")).toString(), QString::fromUtf8(key));
            QCOMPARE(line.value(QStringLiteral("value_before")).toString(), QString::fromUtf8(held->value));
            QVERIFY(line.value(QStringLiteral("ttl_before_ms")).toInteger() > 0);
        }
    }

    void forceReleaseChangedDeletesNothing()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:changed";
        auto first = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(first);
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));

        // Between showing and acting, the holder released and someone else took the lock.
        LS_VERIFY_OK(locker.release(*first));
        auto second = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(second);

        Admin admin(QStringLiteral("prod"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY(!result.ok);
        QVERIFY2(result.message.contains(QLatin1String("changed since it was shown")),
                 qPrintable(result.message));
        const QByteArray fenceKey = lock::fenceKeyFor(key);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(result.nodes[i].outcome, AdminOutcome::Changed);
            QVERIFY(result.nodes[i].detail.contains(QLatin1String("nothing deleted")));
            QCOMPARE(set->get(i, key), second->value); // the new holder's lock stays
            QCOMPARE(set->get(i, fenceKey), QByteArray("2"));
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        for (const QJsonObject &line : lines) {
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("changed"));
            QCOMPARE(line.value(QStringLiteral("value_before")).toString(), QString::fromUtf8(first->value));
        }
    }

    void forceReleaseChangedOnOneNode()
    {
        LS_START_SERVERS(set, 3);
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:partly";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        QVERIFY(set->set(1, key, "someone else", 30000));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), nullptr);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Done);
        QCOMPARE(result.nodes[1].outcome, AdminOutcome::Changed);
        QCOMPARE(result.nodes[2].outcome, AdminOutcome::Done);
        QVERIFY(set->get(0, key).isNull());
        QCOMPARE(set->get(1, key), QByteArray("someone else"));
        QVERIFY(set->get(2, key).isNull());
        QCOMPARE(set->get(1, lock::fenceKeyFor(key)), QByteArray("1"));
    }

    void forceReleaseRedissonWakesWaiters()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        const SchemaRegistry registry = SchemaRegistry::builtins();
        // Redisson RLock layout: hash <uuid>:<threadId> -> hold count, with a TTL.
        const QByteArray key = "orders:lock";
        const QByteArray field = "8f4e2b1c-3d6a-4e8f-9b2c-1a2b3c4d5e6f:57";
        LS_VERIFY_OK(set->admin(0).command({"HSET", key, field, "1"}));
        LS_VERIFY_OK(set->admin(0).command({"PEXPIRE", key, "30000"}));
        const auto decoded = registry.decode(key, showRecord(*set, key, {}).nodes[0].raw);
        QVERIFY(decoded.has_value());
        QCOMPARE(decoded->schema, QStringLiteral("redisson-rlock"));
        const LockRecord record = showRecord(*set, key, decoded->schema);
        QCOMPARE(record.nodes[0].raw.type, RawEntry::Type::Hash);

        // A waiter subscribed to the lock's channel, as Redisson's waiters are.
        redis::NodeConfig subscriberConfig = set->configs()[0];
        subscriberConfig.name = QStringLiteral("subscriber");
        redis::Connection subscriber(subscriberConfig);
        const QByteArray channel = "redisson_lock__channel:{" + key + "}";
        subscriber.append({"SUBSCRIBE", channel});
        LS_VERIFY_OK(subscriber.flush());
        LS_VERIFY_OK(subscriber.readReply());

        // A hold count that changed since it was shown (reentrant acquire) is not released.
        LS_VERIFY_OK(set->admin(0).command({"HINCRBY", key, field, "1"}));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        AdminResult result = admin.forceRelease(record, registry);
        QCOMPARE(result.nodes.at(0).outcome, AdminOutcome::Changed);
        QCOMPARE(set->admin(0).command({"HGET", key, field})->bytes(), QByteArray("2"));

        // Shown again, unchanged: deleted, and the waiters are told.
        const LockRecord again = showRecord(*set, key, decoded->schema);
        result = admin.forceRelease(again, registry);
        QVERIFY2(result.ok, qPrintable(result.message));
        QCOMPARE(set->admin(0).command({"EXISTS", key})->integer(), 0);
        // Not a LockScope lock: no fencing counter is created.
        QCOMPARE(set->admin(0).command({"EXISTS", lock::fenceKeyFor(key)})->integer(), 0);

        auto message = subscriber.readPush(std::chrono::seconds(10));
        LS_VERIFY_OK(message);
        QVERIFY2(message->has_value(), "no unlock message published");
        const auto &elements = (*message)->elements();
        QCOMPARE(elements.size(), std::size_t(3));
        QCOMPARE(elements[0].bytes(), QByteArray("message"));
        QCOMPARE(elements[1].bytes(), channel);
        QCOMPARE(elements[2].bytes(), QByteArray("0"));

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[0].value(QStringLiteral("result")).toString(), QStringLiteral("changed"));
        QCOMPARE(lines[1].value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
        QVERIFY(lines[1].value(QStringLiteral("value_before")).toString().contains(QString::fromUtf8(field)));
    }

    void readOnlyNodeRefusesWrites()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:ro";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        const QByteArray fenceKey = lock::fenceKeyFor(key);
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));

        Admin admin(QStringLiteral("prod"), adminNodes(*set, {1}), testOperator(), &log);
        AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY(!result.ok);
        QCOMPARE(resultFor(result, ServerSet::nodeName(1))->outcome, AdminOutcome::Refused);
        QCOMPARE(resultFor(result, ServerSet::nodeName(0))->outcome, AdminOutcome::Done);
        QCOMPARE(set->get(1, key), held->value);
        QCOMPARE(set->get(1, fenceKey), QByteArray("1"));

        // Unconditional and extend are refused there too.
        result =
            admin.forceRelease(showRecord(*set, key, QStringLiteral("lockscope")), SchemaRegistry{}, true);
        QCOMPARE(result.nodes.size(), std::size_t(1));
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Refused);
        const qint64 pttlBefore = set->pttl(1, key);
        result = admin.extend(showRecord(*set, key, QStringLiteral("lockscope")), std::chrono::minutes(10));
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Refused);
        QVERIFY(set->pttl(1, key) <= pttlBefore);
        QCOMPARE(set->get(1, key), held->value);
        QCOMPARE(set->get(1, fenceKey), QByteArray("1"));

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(5));
        int refused = 0;
        for (const QJsonObject &line : lines)
            if (line.value(QStringLiteral("result")).toString() == QLatin1String("refused: read-only")) {
                QCOMPARE(line.value(QStringLiteral("node")).toString(), ServerSet::nodeName(1));
                ++refused;
            }
        QCOMPARE(refused, 3);
    }

    void unconditionalDelete()
    {
        LS_START_SERVERS(set, 2);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:stuck";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        QVERIFY(set->set(0, key, "changed meanwhile"));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{}, true);
        QVERIFY2(result.ok, qPrintable(result.message));
        for (int i = 0; i < 2; ++i) {
            QVERIFY(set->get(i, key).isNull());
            QCOMPARE(set->get(i, lock::fenceKeyFor(key)), QByteArray("2"));
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        for (const QJsonObject &line : lines) {
            QCOMPARE(line.value(QStringLiteral("action")).toString(), QStringLiteral("force-delete"));
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
        }
    }

    void missingKey()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "k", "v", 30000));
        const LockRecord record = showRecord(*set, "k", {});
        QVERIFY(set->del(0, "k"));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), nullptr);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes.at(0).outcome, AdminOutcome::Missing);
    }

    void unreachableNodeIsAnErrorAndAudited()
    {
        LS_START_SERVERS(set, 2);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:down";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        set->server(1).stop();

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Done);
        QCOMPARE(result.nodes[1].outcome, AdminOutcome::Error);
        QVERIFY2(result.message.contains(QLatin1String("failed on node1")), qPrintable(result.message));
        QVERIFY(set->get(0, key).isNull());
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QVERIFY(lines[1].value(QStringLiteral("result")).toString().startsWith(QLatin1String("error: ")));
    }

    // The audit records the TTL the action replaced, read in the same script, not the one the
    // operator saw minutes before (the record here says 30 s; another client extended to 10 min).
    void auditRecordsTheTtlReplacedNotTheOneShown()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:stale-ttl";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        QVERIFY(record.nodes[0].raw.pttlMs <= 30'000);
        QVERIFY(set->admin(0).command({QByteArrayView("PEXPIRE"), key, QByteArrayView("600000")}));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult extended = admin.extend(record, std::chrono::seconds(90));
        QVERIFY2(extended.ok, qPrintable(extended.message));
        const AdminResult released = admin.forceRelease(record, SchemaRegistry{});
        QVERIFY2(released.ok, qPrintable(released.message));
        QVERIFY(set->get(0, key).isNull());

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("extend"));
        QVERIFY(lines[0].value(QStringLiteral("ttl_before_ms")).toInteger() > 300'000);
        QCOMPARE(lines[0].value(QStringLiteral("ttl_after_ms")).toInteger(), 90'000);
        QCOMPARE(lines[1].value(QStringLiteral("action")).toString(), QStringLiteral("force-release"));
        const qint64 beforeRelease = lines[1].value(QStringLiteral("ttl_before_ms")).toInteger();
        QVERIFY2(beforeRelease > 30'000 && beforeRelease <= 90'000,
                 qPrintable(QString::number(beforeRelease)));
        QVERIFY(!lines[1].contains(QStringLiteral("ttl_after_ms")));
    }

    // readRecord() reads every node now: a node down is unreachable in the record, the others
    // show what they hold at this moment.
    void readRecordReadsEveryNodeNow()
    {
        LS_START_SERVERS(set, 3);
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:reread";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        QVERIFY(set->admin(0).command({QByteArrayView("PEXPIRE"), key, QByteArrayView("600000")}));
        set->server(2).stop();

        const auto before = std::chrono::steady_clock::now();
        const LockRecord record = readRecord(set->configs(), key, SchemaRegistry::builtins());
        QVERIFY(record.readAtSteady >= before);
        QCOMPARE(record.nodes.size(), std::size_t(3));
        QCOMPARE(record.schema, QStringLiteral("lockscope"));
        QCOMPARE(record.token, held->token);
        QCOMPARE(record.held, 2);
        QVERIFY(record.nodes[0].raw.pttlMs > 300'000);
        QVERIFY(record.nodes[1].raw.pttlMs <= 30'000);
        QVERIFY(!record.nodes[2].reachable);
        QVERIFY(!record.nodes[2].error.isEmpty());
        QVERIFY(record.anomalies.contains(QLatin1String(anomaly::NodeUnreachable)));
        QCOMPARE(set->get(0, key), held->value); // read-only
    }

    void extendOnlyWhenUnchanged()
    {
        LS_START_SERVERS(set, 2);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:extend";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        QVERIFY(set->set(1, key, "another owner", 30000));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.extend(record, std::chrono::minutes(10));
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Done);
        QCOMPARE(result.nodes[1].outcome, AdminOutcome::Changed);
        QVERIFY(set->pttl(0, key) > 60'000);  // extended to 10 minutes
        QVERIFY(set->pttl(1, key) <= 30'000); // untouched
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("extend"));
        QCOMPARE(lines[0].value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
        QCOMPARE(lines[1].value(QStringLiteral("result")).toString(), QStringLiteral("changed"));
    }

    void acquireAsOperator()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result =
            admin.acquire("maint:window", std::chrono::seconds(30), QStringLiteral("db upgrade"));
        QVERIFY2(result.ok, qPrintable(result.message));
        for (int i = 0; i < 3; ++i) {
            const auto value = lock::LockValue::parse(set->get(i, "maint:window"));
            QVERIFY(value.has_value());
            QCOMPARE(value->label, QStringLiteral("operator alice@ops-box: db upgrade"));
            QVERIFY(result.message.contains(QString::fromUtf8(value->token)));
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        for (int i = 0; i < 3; ++i) {
            const QJsonObject &line = lines[std::size_t(i)];
            QCOMPARE(line.value(QStringLiteral("action")).toString(), QStringLiteral("acquire"));
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
            // What was written: the value each node holds, its token and TTL.
            QCOMPARE(line.value(QStringLiteral("value_after")).toString(),
                     QString::fromUtf8(set->get(i, "maint:window")));
            QCOMPARE(line.value(QStringLiteral("token")).toString(),
                     QString::fromUtf8(lock::LockValue::parse(set->get(i, "maint:window"))->token));
            QCOMPARE(line.value(QStringLiteral("ttl_after_ms")).toInteger(), 30'000);
        }
    }

    void extendAddMode()
    {
        LS_START_SERVERS(set, 2);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:extend-add";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.extend(record, std::chrono::minutes(10), lock::ExtendMode::Add);
        QVERIFY2(result.ok, qPrintable(result.message));
        for (int i = 0; i < 2; ++i) {
            // 10 minutes added to what was left of 30 s: more than 10 minutes, at most 10 m 30 s.
            QVERIFY2(set->pttl(i, key) > 600'000, qPrintable(QString::number(set->pttl(i, key))));
            QVERIFY(set->pttl(i, key) <= 630'000);
            QVERIFY2(result.nodes[i].detail.contains(QLatin1String("600000 ms added")),
                     qPrintable(result.nodes[i].detail));
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("extend-add"));
        QCOMPARE(lines[0].value(QStringLiteral("result")).toString(), QStringLiteral("ok"));

        // Replace after Add: the TTL becomes exactly the duration again.
        const AdminResult replaced =
            admin.extend(showRecord(*set, key, QStringLiteral("lockscope")), std::chrono::seconds(20));
        QVERIFY2(replaced.ok, qPrintable(replaced.message));
        QVERIFY(set->pttl(0, key) <= 20'000);
    }

    void extendAddOwnerChecked()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker locker(set->configs());
        const QByteArray key = "jobs:extend-add-changed";
        LS_VERIFY_OK(locker.tryAcquire(key, held30s()));
        const LockRecord record = showRecord(*set, key, QStringLiteral("lockscope"));
        // Another owner took over between the snapshot and the click.
        QVERIFY(set->set(0, key, "another owner", 30000));

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.extend(record, std::chrono::minutes(10), lock::ExtendMode::Add);
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Changed);
        QVERIFY(set->pttl(0, key) <= 30'000);
        QCOMPARE(set->get(0, key), QByteArray("another owner"));
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(1));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("extend-add"));
        QCOMPARE(lines[0].value(QStringLiteral("result")).toString(), QStringLiteral("changed"));
    }

    /// With a wait, the operator's acquire retries until the holder lets go.
    void acquireWaitsForRelease()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker holder(set->configs());
        const QByteArray key = "maint:wait";
        auto held = holder.tryAcquire(key, held30s(QStringLiteral("nightly batch")));
        LS_VERIFY_OK(held);
        const qint64 scriptCallsBefore = set->scriptCalls(0);
        QVERIFY(scriptCallsBefore > 0);

        // Released only once the operator's first attempt has run (and failed: it was held).
        std::atomic<bool> released{false};
        std::thread releaser([&] {
            for (int i = 0; i < 3000 && set->scriptCalls(0) <= scriptCallsBefore; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            released = holder.release(*held).has_value();
        });
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result = admin.acquire(key, std::chrono::seconds(30),
                                                 QStringLiteral("after the batch"), std::chrono::seconds(60));
        releaser.join();
        QVERIFY(released);
        QVERIFY2(result.ok, qPrintable(result.message));
        QVERIFY(result.heldBy.isEmpty());
        const auto value = lock::LockValue::parse(set->get(0, key));
        QVERIFY(value.has_value());
        QCOMPARE(value->label, QStringLiteral("operator alice@ops-box: after the batch"));
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(1));
        QCOMPARE(lines[0].value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
    }

    /// A wait that passes while the lock is held: not acquired, and the result names the holder.
    void acquireWaitTimesOutNamingHolder()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        lock::Locker holder(set->configs());
        const QByteArray key = "maint:busy";
        lock::AcquireOptions options = held30s(QStringLiteral("nightly batch"));
        options.thread = QStringLiteral("batch-worker");
        auto held = holder.tryAcquire(key, options);
        LS_VERIFY_OK(held);

        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const AdminResult result =
            admin.acquire(key, std::chrono::seconds(30), {}, std::chrono::milliseconds(300));
        QVERIFY(!result.ok);
        QVERIFY2(result.heldBy.contains(QLatin1String("batch-worker")), qPrintable(result.heldBy));
        QVERIFY2(result.heldBy.contains(QStringLiteral("“nightly batch”")), qPrintable(result.heldBy));
        // The holder named as the lock table names it (one owner text), then the schema.
        const LockRecord shown = readRecord(set->configs(), key, SchemaRegistry::builtins());
        QCOMPARE(result.heldBy, ownerText(shown) + QStringLiteral(" (lockscope)"));
        QVERIFY2(result.message.contains(result.heldBy), qPrintable(result.message));
        QCOMPARE(result.nodes.size(), std::size_t(3));
        for (const AdminNodeResult &node : result.nodes) {
            QCOMPARE(node.outcome, AdminOutcome::Changed);
            QVERIFY2(node.detail.contains(QLatin1String("batch-worker")), qPrintable(node.detail));
        }
        // The holder's lock is untouched on every node.
        QCOMPARE(set->nodesWithToken(key, held->token), 3);
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        for (const QJsonObject &line : lines) {
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("held"));
            QCOMPARE(line.value(QStringLiteral("value_before")).toString().toUtf8(), set->get(0, key));
        }
    }

    void acquireRefusedWithReadOnlyNode()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set, {2}), testOperator(), &log);
        const QByteArray key = "maint:ro";
        const AdminResult result = admin.acquire(key, std::chrono::seconds(30));
        QVERIFY(!result.ok);
        QVERIFY2(result.message.contains(QLatin1String("read-only")), qPrintable(result.message));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(result.nodes[i].outcome, AdminOutcome::Refused);
            QVERIFY(set->get(i, key).isNull());
            QVERIFY(set->get(i, lock::fenceKeyFor(key)).isNull());
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3));
        for (const QJsonObject &line : lines)
            QVERIFY(line.value(QStringLiteral("result")).toString().startsWith(QLatin1String("refused")));
    }

    // --- acquire of the lock kinds ---------------------------------------------------------------

    /// Two operators' read locks share the key; a writer, and a mutex, are refused while they
    /// hold it, naming them, and add nothing.
    void acquireReadersShareAndKeepWriterOut_data() { addNodeCountRows(); }
    void acquireReadersShareAndKeepWriterOut()
    {
        QFETCH(int, nodes);
        LS_START_SERVERS(set, nodes);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const QByteArray key = "maint:rw";
        const auto read = kindOf(lock::LockKind::Read);

        const AdminResult first =
            admin.acquire(key, std::chrono::seconds(30), QStringLiteral("reader one"), {}, read);
        QVERIFY2(first.ok, qPrintable(first.message));
        QVERIFY2(first.message.contains(QLatin1String("(read lock, 1 reader)")), qPrintable(first.message));
        const AdminResult second =
            admin.acquire(key, std::chrono::seconds(30), QStringLiteral("reader two"), {}, read);
        QVERIFY2(second.ok, qPrintable(second.message));
        QVERIFY2(second.message.contains(QLatin1String("(read lock, 2 readers)")),
                 qPrintable(second.message));
        for (int i = 0; i < nodes; ++i) {
            QCOMPARE(set->admin(i).command({"TYPE", key})->bytes(), QByteArray("zset"));
            const ZsetScores zset = zsetScores(*set, i, key);
            QCOMPARE(zset.scores.size(), std::size_t(2));
            QVERIFY(zset.nowMs > 0);
            for (const double score : zset.scores) // each reader's own deadline, ahead of the node's clock
                QVERIFY2(score > double(zset.nowMs),
                         qPrintable(QStringLiteral("%1 <= %2").arg(score).arg(zset.nowMs)));
        }

        const AdminResult writer = admin.acquire(key, std::chrono::seconds(30), QStringLiteral("writer"), {},
                                                 kindOf(lock::LockKind::Write));
        QVERIFY(!writer.ok);
        QVERIFY2(writer.message.contains(QLatin1String("held by 2 readers")), qPrintable(writer.message));
        QVERIFY2(writer.heldBy.contains(QLatin1String("2 readers")), qPrintable(writer.heldBy));
        QVERIFY2(writer.heldBy.contains(QStringLiteral("“operator alice@ops-box: reader one”")) &&
                     writer.heldBy.contains(QStringLiteral("“operator alice@ops-box: reader two”")),
                 qPrintable(writer.heldBy));
        QCOMPARE(writer.nodes.size(), std::size_t(nodes));
        for (const AdminNodeResult &node : writer.nodes)
            QCOMPARE(node.outcome, AdminOutcome::Changed);
        // A plain mutex on the readers' key: refused (another data type), naming them too.
        const AdminResult mutex = admin.acquire(key, std::chrono::seconds(30));
        QVERIFY(!mutex.ok);
        QVERIFY2(mutex.heldBy.contains(QLatin1String("2 readers")), qPrintable(mutex.heldBy));
        for (const AdminNodeResult &node : mutex.nodes)
            QCOMPARE(node.outcome, AdminOutcome::Changed);
        for (int i = 0; i < nodes; ++i) {
            QCOMPARE(zcard(*set, i, key), 2);                            // nothing added
            QCOMPARE(exists(*set, i, lock::writerIntentKeyFor(key)), 0); // one attempt leaves no intent
        }

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(4 * nodes));
        for (int i = 0; i < 2 * nodes; ++i) {
            QCOMPARE(lines[std::size_t(i)].value(QStringLiteral("action")).toString(),
                     QStringLiteral("acquire (read)"));
            QCOMPARE(lines[std::size_t(i)].value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
        }
        for (int i = 2 * nodes; i < 3 * nodes; ++i) {
            QCOMPARE(lines[std::size_t(i)].value(QStringLiteral("action")).toString(),
                     QStringLiteral("acquire (write)"));
            QCOMPARE(lines[std::size_t(i)].value(QStringLiteral("result")).toString(),
                     QStringLiteral("held"));
        }
        for (int i = 3 * nodes; i < 4 * nodes; ++i) {
            QCOMPARE(lines[std::size_t(i)].value(QStringLiteral("action")).toString(),
                     QStringLiteral("acquire"));
            QVERIFY(lines[std::size_t(i)]
                        .value(QStringLiteral("result"))
                        .toString()
                        .startsWith(QLatin1String("held: ")));
        }
    }

    /// A semaphore of 2: two permits, the third acquire refused naming the holders; another
    /// number of permits, or a read lock, on its key: refused with the mismatch, nothing written.
    void acquireSemaphorePermits_data() { addNodeCountRows(); }
    void acquireSemaphorePermits()
    {
        QFETCH(int, nodes);
        LS_START_SERVERS(set, nodes);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const QByteArray key = "maint:pool";
        const auto semaphore = kindOf(lock::LockKind::Semaphore, 2);

        const AdminResult first =
            admin.acquire(key, std::chrono::seconds(30), QStringLiteral("first"), {}, semaphore);
        QVERIFY2(first.ok, qPrintable(first.message));
        QVERIFY2(first.message.contains(QLatin1String("(1 of 2 permits taken)")), qPrintable(first.message));
        const AdminResult second =
            admin.acquire(key, std::chrono::seconds(30), QStringLiteral("second"), {}, semaphore);
        QVERIFY2(second.ok, qPrintable(second.message));
        QVERIFY2(second.message.contains(QLatin1String("(2 of 2 permits taken)")),
                 qPrintable(second.message));

        const AdminResult third =
            admin.acquire(key, std::chrono::seconds(30), QStringLiteral("third"), {}, semaphore);
        QVERIFY(!third.ok);
        QVERIFY2(third.message.contains(QLatin1String("all 2 permits are taken")), qPrintable(third.message));
        QVERIFY2(third.heldBy.contains(QLatin1String("2 of 2 permits")) &&
                     third.heldBy.contains(QStringLiteral("“operator alice@ops-box: first”")) &&
                     third.heldBy.contains(QStringLiteral("“operator alice@ops-box: second”")),
                 qPrintable(third.heldBy));
        for (int i = 0; i < nodes; ++i)
            QCOMPARE(zcard(*set, i, key), 2);

        const AdminResult other = admin.acquire(key, std::chrono::seconds(30), QStringLiteral("other"), {},
                                                kindOf(lock::LockKind::Semaphore, 3));
        QVERIFY(!other.ok);
        QVERIFY2(other.message.contains(
                     QLatin1String("the key is a semaphore of 2 permits, not a semaphore of 3 permits")),
                 qPrintable(other.message));
        QVERIFY2(other.heldBy.contains(QLatin1String("2 of 2 permits")), qPrintable(other.heldBy));
        for (const AdminNodeResult &node : other.nodes) {
            QCOMPARE(node.outcome, AdminOutcome::Changed);
            QVERIFY2(node.detail.contains(QLatin1String("semaphore of 2 permits")), qPrintable(node.detail));
        }
        const AdminResult reader =
            admin.acquire(key, std::chrono::seconds(30), {}, {}, kindOf(lock::LockKind::Read));
        QVERIFY(!reader.ok);
        QVERIFY2(reader.message.contains(QLatin1String("not a read/write lock")), qPrintable(reader.message));
        QVERIFY2(reader.heldBy.contains(QLatin1String("2 of 2 permits")), qPrintable(reader.heldBy));
        for (int i = 0; i < nodes; ++i)
            QCOMPARE(zcard(*set, i, key), 2); // nothing written by the refused ones

        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(5 * nodes));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(),
                 QStringLiteral("acquire (semaphore of 2 permits)"));
        const QJsonObject &mismatch = lines[std::size_t(3 * nodes)];
        QCOMPARE(mismatch.value(QStringLiteral("action")).toString(),
                 QStringLiteral("acquire (semaphore of 3 permits)"));
        QVERIFY2(mismatch.value(QStringLiteral("result"))
                     .toString()
                     .startsWith(QLatin1String("held: the key is a semaphore of 2 permits")),
                 qPrintable(mismatch.value(QStringLiteral("result")).toString()));
    }

    /// A reentrant lock taken twice with the same owner id: one key, hold count 2.
    void acquireReentrantTwice_data() { addNodeCountRows(); }
    void acquireReentrantTwice()
    {
        QFETCH(int, nodes);
        LS_START_SERVERS(set, nodes);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const QByteArray key = "maint:reentrant";
        const auto reentrant = kindOf(lock::LockKind::Reentrant, 0, "ops-owner-7");

        const AdminResult first = admin.acquire(key, std::chrono::seconds(30), {}, {}, reentrant);
        QVERIFY2(first.ok, qPrintable(first.message));
        QVERIFY2(first.message.contains(QLatin1String("(reentrant, hold count 1)")),
                 qPrintable(first.message));
        const AdminResult second = admin.acquire(key, std::chrono::seconds(30), {}, {}, reentrant);
        QVERIFY2(second.ok, qPrintable(second.message));
        QVERIFY2(second.message.contains(QLatin1String("(reentrant, hold count 2)")),
                 qPrintable(second.message));
        for (int i = 0; i < nodes; ++i) {
            const auto value = lock::LockValue::parse(set->get(i, key));
            QVERIFY(value.has_value());
            QCOMPARE(value->token, QByteArray("ops-owner-7"));
            QCOMPARE(value->holds, 2);
        }
        // Another owner: held.
        const AdminResult other = admin.acquire(key, std::chrono::seconds(30), {}, {},
                                                kindOf(lock::LockKind::Reentrant, 0, "someone-else"));
        QVERIFY(!other.ok);
        QVERIFY(!other.heldBy.isEmpty());
        for (int i = 0; i < nodes; ++i)
            QCOMPARE(lock::LockValue::parse(set->get(i, key))->holds, 2);
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3 * nodes));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("acquire (reentrant)"));
        QCOMPARE(lines[0].value(QStringLiteral("token")).toString(), QStringLiteral("ops-owner-7"));
    }

    /// Kinds that do not go together are refused before anything is sent, and audited.
    void acquireBadKindRefusedBeforeSending_data()
    {
        QTest::addColumn<int>("nodes");
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("permits");
        QTest::addColumn<QByteArray>("owner");
        QTest::addColumn<QString>("cause");
        QTest::addColumn<QString>("action");
        QTest::newRow("semaphore without permits")
            << 1 << int(lock::LockKind::Semaphore) << 0 << QByteArray()
            << QStringLiteral("a semaphore needs 1 or more permits, not 0")
            << QStringLiteral("acquire (semaphore of 0 permits)");
        QTest::newRow("semaphore without permits, 3 nodes")
            << 3 << int(lock::LockKind::Semaphore) << 0 << QByteArray()
            << QStringLiteral("a semaphore needs 1 or more permits, not 0")
            << QStringLiteral("acquire (semaphore of 0 permits)");
        QTest::newRow("negative permits")
            << 1 << int(lock::LockKind::Semaphore) << -2 << QByteArray() << QStringLiteral("not -2")
            << QStringLiteral("acquire (semaphore of -2 permits)");
        QTest::newRow("permits for a read lock")
            << 1 << int(lock::LockKind::Read) << 3 << QByteArray()
            << QStringLiteral("permits apply to a semaphore, not to a read lock")
            << QStringLiteral("acquire (read)");
        QTest::newRow("owner for a mutex")
            << 3 << int(lock::LockKind::Mutex) << 0 << QByteArray("me")
            << QStringLiteral("an owner id applies to a reentrant lock, not to a mutex")
            << QStringLiteral("acquire");
    }
    void acquireBadKindRefusedBeforeSending()
    {
        QFETCH(int, nodes);
        QFETCH(int, kind);
        QFETCH(int, permits);
        QFETCH(QByteArray, owner);
        QFETCH(QString, cause);
        QFETCH(QString, action);
        LS_START_SERVERS(set, nodes);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set), testOperator(), &log);
        const QByteArray key = "maint:bad";
        const AdminResult result = admin.acquire(key, std::chrono::seconds(30), {}, {},
                                                 kindOf(static_cast<lock::LockKind>(kind), permits, owner));
        QVERIFY(!result.ok);
        QVERIFY2(result.message.startsWith(QLatin1String("acquire refused: ")) &&
                     result.message.contains(cause),
                 qPrintable(result.message));
        QCOMPARE(result.nodes.size(), std::size_t(nodes));
        for (int i = 0; i < nodes; ++i) {
            QCOMPARE(result.nodes[std::size_t(i)].outcome, AdminOutcome::Refused);
            QCOMPARE(exists(*set, i, key), 0);
            QCOMPARE(exists(*set, i, lock::fenceKeyFor(key)), 0);
            QCOMPARE(set->scriptCalls(i), 0); // nothing was sent
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(nodes));
        for (const QJsonObject &line : lines) {
            QCOMPARE(line.value(QStringLiteral("action")).toString(), action);
            const QString text = line.value(QStringLiteral("result")).toString();
            QVERIFY2(text.startsWith(QLatin1String("refused: ")) && text.contains(cause), qPrintable(text));
        }
    }

    /// A group with a read-only node: every kind refused, nothing written anywhere.
    void acquireKindsRefusedWithReadOnlyNode()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("g"), adminNodes(*set, {1}), testOperator(), &log);
        const QByteArray key = "maint:ro-kinds";
        const AdminAcquireKind kinds[] = {
            kindOf(lock::LockKind::Read), kindOf(lock::LockKind::Write), kindOf(lock::LockKind::Semaphore, 2),
            kindOf(lock::LockKind::Reentrant, 0, "ops"), kindOf(lock::LockKind::Fair)};
        for (const AdminAcquireKind &kind : kinds) {
            const AdminResult result = admin.acquire(key, std::chrono::seconds(30), {}, {}, kind);
            QVERIFY(!result.ok);
            QVERIFY2(result.message.contains(QLatin1String("read-only")), qPrintable(result.message));
            for (const AdminNodeResult &node : result.nodes)
                QCOMPARE(node.outcome, AdminOutcome::Refused);
        }
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(exists(*set, i, key), 0);
            QCOMPARE(set->scriptCalls(i), 0);
        }
        const auto lines = auditLines(log.path());
        QCOMPARE(lines.size(), std::size_t(3 * 5));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("acquire (read)"));
        for (const QJsonObject &line : lines)
            QVERIFY(line.value(QStringLiteral("result")).toString().startsWith(QLatin1String("refused")));
    }
};

QTEST_GUILESS_MAIN(TestAdmin)
#include "tst_admin.moc"
