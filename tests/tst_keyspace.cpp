#include "inspect/keyspace.h"
#include "redis/localserver.h"
#include "support/redisfixture.h"

#include <QMutex>
#include <QTest>
#include <thread>

using namespace std::chrono_literals;
using lockscope::inspect::KeyspaceListener;
using lockscope::inspect::NotificationSupport;
using lockscope::inspect::readNotificationSupport;
using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::LocalServerOptions;
using lockscope::redis::NodeConfig;

class TestKeyspace : public QObject
{
    Q_OBJECT

private slots:
    void disabledByDefaultWithAdvice();
    void enabledIsUsable();
    void notPermittedIsNotAnError();
    void readPushTimeoutKeepsTheConnection();
    void listenerSeesSetDelAndExpiry();
    void listenerStopsWhenAsked();
};

static std::unique_ptr<LocalRedisServer> startWith(const QStringList &extraArgs,
                                                   const QStringList &aclUsers = {})
{
    LocalServerOptions options;
    options.extraArgs = extraArgs;
    options.aclUsers = aclUsers;
    auto server = LocalRedisServer::start(options);
    if (!server)
        qWarning() << server.error().toString();
    return server ? std::move(*server) : nullptr;
}

void TestKeyspace::disabledByDefaultWithAdvice()
{
    auto server = startWith({});
    QVERIFY(server);
    Connection connection(server->nodeConfig());
    auto support = readNotificationSupport(connection);
    LS_VERIFY_OK(support);
    QVERIFY(support->permitted);
    QVERIFY(!support->usable);
    QVERIFY2(support->advice.contains(NotificationSupport::enableCommand()), qPrintable(support->advice));
    // Reading the setting changed nothing on the server.
    auto flags = connection.command({"CONFIG", "GET", "notify-keyspace-events"});
    LS_VERIFY_OK(flags);
    QCOMPARE(flags->elements().at(1).bytes(), QByteArray());
}

void TestKeyspace::enabledIsUsable()
{
    auto server = startWith({QStringLiteral("--notify-keyspace-events"), QStringLiteral("KA")});
    QVERIFY(server);
    Connection connection(server->nodeConfig());
    auto support = readNotificationSupport(connection);
    LS_VERIFY_OK(support);
    QVERIFY2(support->usable, qPrintable(support->advice));
    QVERIFY(support->advice.isEmpty());

    auto partial = startWith({QStringLiteral("--notify-keyspace-events"), QStringLiteral("Kg")});
    QVERIFY(partial);
    Connection second(partial->nodeConfig());
    auto partialSupport = readNotificationSupport(second);
    LS_VERIFY_OK(partialSupport);
    QVERIFY(!partialSupport->usable);
    QVERIFY2(partialSupport->advice.contains(QStringLiteral("x (expired)")),
             qPrintable(partialSupport->advice));
}

void TestKeyspace::notPermittedIsNotAnError()
{
    auto server = startWith({}, {QStringLiteral("reader on >reader-pw ~* +@read +ping +client|setname")});
    QVERIFY(server);
    NodeConfig config = server->nodeConfig();
    config.username = QStringLiteral("reader");
    config.password = QStringLiteral("reader-pw");
    Connection connection(config);
    auto support = readNotificationSupport(connection);
    LS_VERIFY_OK(support);
    QVERIFY(!support->permitted);
    QVERIFY(!support->usable);
    QVERIFY(!support->advice.isEmpty());
}

void TestKeyspace::readPushTimeoutKeepsTheConnection()
{
    auto server = startWith({});
    QVERIFY(server);
    Connection connection(server->nodeConfig());
    connection.append({"SUBSCRIBE", "lockscope-test-channel"});
    auto confirmation = connection.readReply();
    LS_VERIFY_OK(confirmation);
    auto nothing = connection.readPush(50ms);
    LS_VERIFY_OK(nothing);
    QVERIFY(!nothing->has_value());
    QVERIFY(connection.isConnected());

    Connection publisher(server->nodeConfig());
    LS_VERIFY_OK(publisher.command({"PUBLISH", "lockscope-test-channel", "hello"}));
    auto message = connection.readPush(2000ms);
    LS_VERIFY_OK(message);
    QVERIFY(message->has_value());
    QCOMPARE((*message)->elements().at(2).bytes(), QByteArray("hello"));
    QCOMPARE(connection.reconnectCount(), quint64(0));
}

struct Events
{
    QMutex mutex;
    QList<QPair<QByteArray, QByteArray>> seen;
    bool contains(const QByteArray &key, const QByteArray &event)
    {
        QMutexLocker lock(&mutex);
        return seen.contains(qMakePair(key, event));
    }
};

void TestKeyspace::listenerSeesSetDelAndExpiry()
{
    auto server = startWith({QStringLiteral("--notify-keyspace-events"), QStringLiteral("Kg$hx")});
    QVERIFY(server);
    Events events;
    std::atomic<bool> stop{false};
    lockscope::redis::Result<void> outcome;
    KeyspaceListener listener(server->nodeConfig());
    std::thread thread([&] {
        outcome = listener.run(
            {QStringLiteral("lock:*")},
            [&](const QByteArray &key, const QByteArray &event) {
                QMutexLocker lock(&events.mutex);
                events.seen.append({key, event});
            },
            stop, 20ms);
    });
    auto joinGuard = qScopeGuard([&] {
        stop = true;
        thread.join();
    });

    Connection client(server->nodeConfig());
    // The subscription is asynchronous: write until the first event shows it is in place.
    QTRY_VERIFY_WITH_TIMEOUT((client.command({"SET", "lock:a", "v1"}), events.contains("lock:a", "set")),
                             5000);
    LS_VERIFY_OK(client.command({"DEL", "lock:a"}));
    QTRY_VERIFY_WITH_TIMEOUT(events.contains("lock:a", "del"), 5000);
    LS_VERIFY_OK(client.command({"SET", "lock:b", "v", "PX", "30"}));
    QTRY_VERIFY_WITH_TIMEOUT(events.contains("lock:b", "expired"), 5000);
    LS_VERIFY_OK(client.command({"HSET", "lock:h", "uuid:1", "1"}));
    QTRY_VERIFY_WITH_TIMEOUT(events.contains("lock:h", "hset"), 5000);
    // Keys outside the patterns are not reported.
    LS_VERIFY_OK(client.command({"SET", "cache:x", "1"}));
    LS_VERIFY_OK(client.command({"SET", "lock:c", "1"}));
    QTRY_VERIFY_WITH_TIMEOUT(events.contains("lock:c", "set"), 5000);
    QVERIFY(!events.contains("cache:x", "set"));
    stop = true;
    joinGuard.dismiss();
    thread.join();
    QVERIFY2(outcome.has_value(), lockscope::test::describe(outcome).constData());
}

void TestKeyspace::listenerStopsWhenAsked()
{
    auto server = startWith({QStringLiteral("--notify-keyspace-events"), QStringLiteral("KA")});
    QVERIFY(server);
    std::atomic<bool> stop{false};
    lockscope::redis::Result<void> outcome = lockscope::redis::fail(lockscope::redis::ErrorKind::Io, {}, {});
    KeyspaceListener listener(server->nodeConfig());
    std::atomic<bool> done{false};
    std::thread thread([&] {
        outcome = listener.run(
            {QStringLiteral("*")}, [](const QByteArray &, const QByteArray &) {}, stop, 20ms);
        done = true;
    });
    stop = true;
    QTRY_VERIFY_WITH_TIMEOUT(done.load(), 5000);
    thread.join();
    QVERIFY2(outcome.has_value(), lockscope::test::describe(outcome).constData());

    // A server that goes away ends the listener with an error instead of hanging.
    std::atomic<bool> never{false};
    done = false;
    std::thread second([&] {
        outcome = listener.run(
            {QStringLiteral("*")}, [](const QByteArray &, const QByteArray &) {}, never, 20ms);
        done = true;
    });
    QTest::qWait(100);
    server->kill();
    QTRY_VERIFY_WITH_TIMEOUT(done.load(), 10000);
    second.join();
    QVERIFY(!outcome.has_value());
}

QTEST_GUILESS_MAIN(TestKeyspace)
#include "tst_keyspace.moc"
