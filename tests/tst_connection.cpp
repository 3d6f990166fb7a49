#include "redis/connection.h"
#include "redis/script.h"
#include "redisfixture.h"

#include <QRandomGenerator>
#include <QTest>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

class TestConnection : public QObject
{
    Q_OBJECT

private slots:
    void noAuth();
    void passwordOk();
    void wrongPasswordIsAuthFailed();
    void missingPasswordIsAuthFailed();
    void aclUserOk();
    void aclUserWrongPassword();
    void aclUserWithoutPermissionIsNoPerm();
    void selectDatabase();
    void clientName();
    void refusedWithinConnectTimeout();
    void unresolvableHost();
    void pipelineTenThousand();
    void appendFlushRead();
    void noScriptFallback();
    void scriptErrorIsServerError();
    void commandTimeoutOnPausedServer();
    void connectTimeoutOnPausedServer();
    void reconnectAfterRestart();
    void binarySafeKeysAndValues();
    void unixSocket();
    void serverErrorReply();
    void aclSetUserWithoutCommandIsNoPerm();
    void writeToReplicaIsReadOnlyReplica();
    void writeAtMaxmemoryIsOutOfMemory();
    void wrongTypeIsWrongType();
};

void TestConnection::noAuth()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    QVERIFY(!connection.isConnected());
    LS_VERIFY_OK(connection.connect());
    QVERIFY(connection.isConnected());
    const auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QVERIFY(pong->isStatus());
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
    QCOMPARE(connection.reconnectCount(), quint64(0));
    connection.close();
    QVERIFY(!connection.isConnected());
}

void TestConnection::passwordOk()
{
    LS_START_SERVER(server, ServerKind::Password);
    Connection connection(clientConfig(*server, ServerKind::Password));
    const auto who = connection.command({"ACL", "WHOAMI"});
    LS_VERIFY_OK(who);
    QCOMPARE(who->bytes(), QByteArray("default"));
}

void TestConnection::wrongPasswordIsAuthFailed()
{
    LS_START_SERVER(server, ServerKind::Password);
    NodeConfig config = clientConfig(*server, ServerKind::Password);
    config.name = QStringLiteral("auth-node");
    config.password = QStringLiteral("not-the-password");
    Connection connection(config);
    const auto result = connection.connect();
    LS_VERIFY_ERROR(result, ErrorKind::AuthFailed);
    QCOMPARE(result.error().node, QStringLiteral("auth-node"));
    QVERIFY(result.error().toString().contains(QStringLiteral("auth-node")));
    QVERIFY2(!result.error().toString().contains(config.password), qPrintable(result.error().toString()));
    QVERIFY(!connection.isConnected());
}

void TestConnection::missingPasswordIsAuthFailed()
{
    LS_START_SERVER(server, ServerKind::Password);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    // Without AUTH the handshake (CLIENT SETNAME) or the first command gets NOAUTH.
    Connection connection(config);
    const auto result = connection.command({"PING"});
    LS_VERIFY_ERROR(result, ErrorKind::AuthFailed);
    QVERIFY(result.error().toString().contains(config.label()));
}

void TestConnection::aclUserOk()
{
    LS_START_SERVER(server, ServerKind::Acl);
    Connection connection(clientConfig(*server, ServerKind::Acl));
    const auto who = connection.command({"ACL", "WHOAMI"});
    LS_VERIFY_OK(who);
    QCOMPARE(who->bytes(), QByteArray(kAclUser));
}

void TestConnection::aclUserWrongPassword()
{
    LS_START_SERVER(server, ServerKind::Acl);
    NodeConfig config = clientConfig(*server, ServerKind::Acl);
    config.password = QStringLiteral("wrong-%1").arg(QLatin1String(kAclPassword));
    Connection connection(config);
    const auto result = connection.connect();
    LS_VERIFY_ERROR(result, ErrorKind::AuthFailed);
    QCOMPARE(result.error().node, config.label());

    // An unknown user is the same error (Redis does not tell them apart).
    config.username = QStringLiteral("nobody");
    Connection unknown(config);
    LS_VERIFY_ERROR(unknown.connect(), ErrorKind::AuthFailed);
}

void TestConnection::aclUserWithoutPermissionIsNoPerm()
{
    LS_START_SERVER(server, ServerKind::Acl);
    NodeConfig config = clientConfig(*server, ServerKind::Acl);
    config.username = QString::fromLatin1(kLimitedUser);
    config.password = QString::fromLatin1(kLimitedPassword);
    config.clientName.clear(); // the limited user may not run CLIENT SETNAME
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"PING"}));
    const auto get = connection.command({"GET", "anything"});
    LS_VERIFY_OK(get);
    QVERIFY(get->isNil());

    const auto set = connection.command({"SET", "anything", "x"});
    LS_VERIFY_ERROR(set, ErrorKind::NoPerm);
    QVERIFY2(set.error().message.contains(QStringLiteral("set"), Qt::CaseInsensitive),
             qPrintable(set.error().toString()));
    // A refused command does not break the connection.
    QVERIFY(connection.isConnected());
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestConnection::selectDatabase()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config3 = clientConfig(*server, ServerKind::Plain);
    config3.db = 3;
    Connection db3(config3);
    Connection db0(clientConfig(*server, ServerKind::Plain));

    LS_VERIFY_OK(db3.command({"SET", "isolated", "in-3"}));
    LS_VERIFY_OK(db0.command({"SET", "isolated", "in-0"}));
    const auto from3 = db3.command({"GET", "isolated"});
    LS_VERIFY_OK(from3);
    QCOMPARE(from3->bytes(), QByteArray("in-3"));
    const auto from0 = db0.command({"GET", "isolated"});
    LS_VERIFY_OK(from0);
    QCOMPARE(from0->bytes(), QByteArray("in-0"));

    const auto info = db3.command({"CLIENT", "INFO"});
    LS_VERIFY_OK(info);
    QVERIFY2(info->bytes().contains(" db=3 "), info->bytes().constData());

    // The database survives a reconnect.
    db3.close();
    const auto again = db3.command({"GET", "isolated"});
    LS_VERIFY_OK(again);
    QCOMPARE(again->bytes(), QByteArray("in-3"));
}

void TestConnection::clientName()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.clientName = QStringLiteral("lockscope-tst-connection");
    Connection connection(config);
    const auto name = connection.command({"CLIENT", "GETNAME"});
    LS_VERIFY_OK(name);
    QCOMPARE(name->bytes(), QByteArray("lockscope-tst-connection"));

    Connection observer(clientConfig(*server, ServerKind::Plain));
    const auto list = observer.command({"CLIENT", "LIST"});
    LS_VERIFY_OK(list);
    QVERIFY2(list->bytes().contains("name=lockscope-tst-connection"), list->bytes().constData());

    config.clientName.clear();
    Connection anonymous(config);
    const auto none = anonymous.command({"CLIENT", "GETNAME"});
    LS_VERIFY_OK(none);
    QVERIFY(none->isNil());
}

void TestConnection::refusedWithinConnectTimeout()
{
    // A bound but not listening socket: the port is ours, and connecting to it is refused.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    auto closeFd = qScopeGuard([fd] { ::close(fd); });
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    QCOMPARE(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len), 0);

    NodeConfig config;
    config.host = QStringLiteral("127.0.0.1");
    config.port = ntohs(addr.sin_port);
    QVERIFY(config.port != 6379);
    config.connectTimeout = 1000ms;
    Connection connection(config);
    const auto start = std::chrono::steady_clock::now();
    const auto result = connection.connect();
    const qint64 elapsed = elapsedMs(start);
    LS_VERIFY_ERROR(result, ErrorKind::Refused);
    QVERIFY2(elapsed < 1000 + 2000, qPrintable(QString::number(elapsed)));
    QVERIFY(result.error().node.contains(QString::number(config.port)));

    // A command on a connection that cannot connect reports the connect error.
    LS_VERIFY_ERROR(connection.command({"PING"}), ErrorKind::Refused);
}

void TestConnection::unresolvableHost()
{
    NodeConfig config;
    config.host = QStringLiteral("nonexistent.invalid");
    config.port = 6390;
    config.connectTimeout = 3000ms;
    Connection connection(config);
    const auto result = connection.connect();
    LS_VERIFY_ERROR(result, ErrorKind::Resolve);
    QVERIFY(result.error().toString().contains(QStringLiteral("nonexistent.invalid")));
}

void TestConnection::pipelineTenThousand()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    constexpr int count = 10000;
    std::vector<std::vector<QByteArray>> commands;
    commands.reserve(2 * count);
    for (int i = 0; i < count; ++i) {
        const QByteArray key = "pipe:" + QByteArray::number(i);
        commands.push_back({"SET", key, "value-" + QByteArray::number(i * 7)});
        commands.push_back({"GET", key});
    }
    const auto replies = connection.pipeline(commands);
    LS_VERIFY_OK(replies);
    QCOMPARE(replies->size(), size_t(2 * count));
    for (int i = 0; i < count; ++i) {
        const RedisReply &set = replies->at(2 * i);
        const RedisReply &get = replies->at(2 * i + 1);
        if (!set.isOk() || get.bytes() != "value-" + QByteArray::number(i * 7))
            QFAIL(qPrintable(QStringLiteral("reply %1: %2 / %3")
                                 .arg(i)
                                 .arg(set.toDisplayString(), get.toDisplayString())));
    }
    const auto size = connection.command({"DBSIZE"});
    LS_VERIFY_OK(size);
    QCOMPARE(size->integer(), qint64(count));
}

void TestConnection::appendFlushRead()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    constexpr int count = 10000;
    for (int i = 0; i < count; ++i)
        connection.append({"INCRBY", "counter", QByteArray::number(i)});
    connection.append({"INCR", "not-a-number-key", "extra-arg"}); // wrong arity: an error reply
    connection.append({"ECHO", "last"});
    QCOMPARE(connection.pendingReplies(), qsizetype(count + 2));
    LS_VERIFY_OK(connection.flush());
    qint64 expected = 0;
    for (int i = 0; i < count; ++i) {
        expected += i;
        const auto reply = connection.readReply();
        LS_VERIFY_OK(reply);
        if (reply->integer() != expected)
            QFAIL(qPrintable(
                QStringLiteral("reply %1 is %2, expected %3").arg(i).arg(reply->integer()).arg(expected)));
    }
    const auto error = connection.readReply();
    LS_VERIFY_OK(error);
    QVERIFY(error->isError());
    const auto last = connection.readReply();
    LS_VERIFY_OK(last);
    QCOMPARE(last->bytes(), QByteArray("last"));
    QCOMPARE(connection.pendingReplies(), qsizetype(0));
}

void TestConnection::noScriptFallback()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    const Script script("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1]) .. ARGV[2]");
    const std::vector<QByteArray> keys{"script:key"};
    const std::vector<QByteArray> args{"hello", "-world"};

    const auto first = connection.eval(script, keys, args);
    LS_VERIFY_OK(first);
    QCOMPARE(first->bytes(), QByteArray("hello-world"));

    // The local SHA1 matches what the server computes.
    const auto exists = connection.command({"SCRIPT", "EXISTS", script.sha1()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->elements().size(), size_t(1));
    QCOMPARE(exists->elements().at(0).integer(), qint64(1));

    LS_VERIFY_OK(connection.command({"SCRIPT", "FLUSH"}));
    const auto gone = connection.command({"SCRIPT", "EXISTS", script.sha1()});
    LS_VERIFY_OK(gone);
    QCOMPARE(gone->elements().at(0).integer(), qint64(0));

    const std::vector<QByteArray> args2{"again", "!"};
    const auto second = connection.eval(script, keys, args2);
    LS_VERIFY_OK(second);
    QCOMPARE(second->bytes(), QByteArray("again!"));
    const auto reloaded = connection.command({"SCRIPT", "EXISTS", script.sha1()});
    LS_VERIFY_OK(reloaded);
    QCOMPARE(reloaded->elements().at(0).integer(), qint64(1));
}

void TestConnection::scriptErrorIsServerError()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    const Script script("return redis.error_reply('LOCKSCOPE custom failure')");
    const auto result = connection.eval(script, {}, {});
    LS_VERIFY_ERROR(result, ErrorKind::Server);
    QVERIFY2(result.error().message.contains(QStringLiteral("custom failure")),
             qPrintable(result.error().toString()));
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestConnection::commandTimeoutOnPausedServer()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.commandTimeout = 300ms;
    config.connectTimeout = 1000ms;
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"SET", "k", "before"}));

    QVERIFY(server->pause());
    const auto start = std::chrono::steady_clock::now();
    const auto result = connection.command({"ECHO", "lost"});
    const qint64 elapsed = elapsedMs(start);
    LS_VERIFY_ERROR(result, ErrorKind::Timeout);
    QVERIFY2(elapsed >= 150, qPrintable(QString::number(elapsed)));
    QVERIFY2(elapsed < 300 + 2000, qPrintable(QString::number(elapsed)));
    QVERIFY2(result.error().node == config.label(), qPrintable(result.error().toString()));

    QVERIFY(server->resume());
    // The late answer to the timed-out command must never be taken for the next one's.
    const auto echo = connection.command({"ECHO", "fresh"});
    LS_VERIFY_OK(echo);
    QCOMPARE(echo->bytes(), QByteArray("fresh"));
    const auto get = connection.command({"GET", "k"});
    LS_VERIFY_OK(get);
    QCOMPARE(get->bytes(), QByteArray("before"));
}

void TestConnection::connectTimeoutOnPausedServer()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.connectTimeout = 300ms;
    config.commandTimeout = 300ms;
    config.clientName = QStringLiteral("needs-a-round-trip");
    QVERIFY(server->pause());
    // The kernel still accepts the TCP connection; the handshake gets no answer.
    Connection connection(config);
    const auto start = std::chrono::steady_clock::now();
    const auto result = connection.connect();
    const qint64 elapsed = elapsedMs(start);
    LS_VERIFY_ERROR(result, ErrorKind::Timeout);
    QVERIFY2(elapsed < 300 + 2000, qPrintable(QString::number(elapsed)));
    QVERIFY(server->resume());
    LS_VERIFY_OK(connection.connect());
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestConnection::reconnectAfterRestart()
{
    LS_START_SERVER(server, ServerKind::Password);
    NodeConfig config = clientConfig(*server, ServerKind::Password);
    config.db = 2;
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"PING"}));
    const quint64 before = connection.reconnectCount();

    LS_VERIFY_OK(server->restart());

    // The broken socket may cost one command (it may have been sent before the break was
    // seen); after that the connection must be back, with the handshake redone.
    auto result = connection.command({"CLIENT", "INFO"});
    if (!result) {
        QVERIFY2(result.error().kind == ErrorKind::ConnectionClosed || result.error().kind == ErrorKind::Io,
                 qPrintable(result.error().toString()));
        result = connection.command({"CLIENT", "INFO"});
    }
    LS_VERIFY_OK(result);
    QVERIFY2(result->bytes().contains(" db=2 "), result->bytes().constData());
    QVERIFY2(result->bytes().contains("name=lockscope-test"), result->bytes().constData());
    QVERIFY(connection.reconnectCount() > before);
    QVERIFY(connection.isConnected());
}

void TestConnection::binarySafeKeysAndValues()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));

    const QByteArray nulKey("key\0with\0nuls", 13);
    const QByteArray nulValue("\0\r\n$3\r\n\0", 9);
    LS_VERIFY_OK(connection.command({"SET", nulKey, nulValue}));
    auto get = connection.command({"GET", nulKey});
    LS_VERIFY_OK(get);
    QCOMPARE(get->bytes(), nulValue);
    // The key really has its NULs: the prefix alone is another key.
    get = connection.command({"GET", "key"});
    LS_VERIFY_OK(get);
    QVERIFY(get->isNil());

    const QByteArray unicodeKey = QStringLiteral("verrou:ключ:🔒").toUtf8();
    const QByteArray unicodeValue = QStringLiteral("owner=Zoë 日本 ✓").toUtf8();
    LS_VERIFY_OK(connection.command({"SET", unicodeKey, unicodeValue}));
    get = connection.command({"GET", unicodeKey});
    LS_VERIFY_OK(get);
    QCOMPARE(QString::fromUtf8(get->bytes()), QString::fromUtf8(unicodeValue));

    QByteArray big(1024 * 1024, Qt::Uninitialized);
    QRandomGenerator generator(20240601);
    generator.fillRange(reinterpret_cast<quint32 *>(big.data()), big.size() / int(sizeof(quint32)));
    LS_VERIFY_OK(connection.command({"SET", "big", big}));
    const auto length = connection.command({"STRLEN", "big"});
    LS_VERIFY_OK(length);
    QCOMPARE(length->integer(), qint64(big.size()));
    get = connection.command({"GET", "big"});
    LS_VERIFY_OK(get);
    QCOMPARE(get->bytes().size(), big.size());
    QVERIFY(get->bytes() == big);

    // The span overload carries the same bytes.
    const std::vector<QByteArray> args{"SET", nulKey, big};
    LS_VERIFY_OK(connection.command(std::span<const QByteArray>(args)));
    get = connection.command({"GET", nulKey});
    LS_VERIFY_OK(get);
    QVERIFY(get->bytes() == big);
}

void TestConnection::unixSocket()
{
    LS_START_SERVER(server, ServerKind::UnixSocket);
    const NodeConfig config = clientConfig(*server, ServerKind::UnixSocket);
    QCOMPARE(config.transport, NodeConfig::Transport::Unix);
    Connection connection(config);
    LS_VERIFY_OK(connection.connect());
    LS_VERIFY_OK(connection.command({"SET", "via", "unix"}));
    const auto info = connection.command({"CLIENT", "INFO"});
    LS_VERIFY_OK(info);
    // Redis reports unix socket clients with an empty TCP address and the socket path.
    QVERIFY2(info->bytes().contains(server->unixSocketPath().toUtf8()), info->bytes().constData());

    Connection tcp(clientConfig(*server, ServerKind::Plain));
    const auto get = tcp.command({"GET", "via"});
    LS_VERIFY_OK(get);
    QCOMPARE(get->bytes(), QByteArray("unix"));

    NodeConfig missing = config;
    missing.unixPath = server->workDir() + QStringLiteral("/no-such.sock");
    Connection nowhere(missing);
    LS_VERIFY_ERROR(nowhere.connect(), ErrorKind::Refused);
}

void TestConnection::serverErrorReply()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    LS_VERIFY_OK(connection.command({"SET", "text", "abc"}));
    const auto incr = connection.command({"INCR", "text"});
    LS_VERIFY_ERROR(incr, ErrorKind::Server);
    QVERIFY2(incr.error().message.contains(QStringLiteral("not an integer")),
             qPrintable(incr.error().toString()));
    QCOMPARE(incr.error().node, connection.node());

    const auto unknown = connection.command({"NOSUCHCOMMAND", "x"});
    LS_VERIFY_ERROR(unknown, ErrorKind::Server);
    QVERIFY2(unknown.error().message.contains(QStringLiteral("unknown command"), Qt::CaseInsensitive),
             qPrintable(unknown.error().toString()));

    // The connection is still usable after error replies.
    const auto get = connection.command({"GET", "text"});
    LS_VERIFY_OK(get);
    QCOMPARE(get->bytes(), QByteArray("abc"));
    QCOMPARE(connection.reconnectCount(), quint64(0));
}

void TestConnection::aclSetUserWithoutCommandIsNoPerm()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection admin(clientConfig(*server, ServerKind::Plain));
    LS_VERIFY_OK(admin.command({"ACL", "SETUSER", "nowriter", "on", ">nowriter-pw", "~*", "+@all", "-set"}));
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.username = QStringLiteral("nowriter");
    config.password = QStringLiteral("nowriter-pw");
    Connection connection(config);
    const auto set = connection.command({"SET", "k", "v"});
    LS_VERIFY_ERROR(set, ErrorKind::NoPerm);
    QVERIFY2(set.error().toString().contains(QStringLiteral("permission denied: NOPERM")),
             qPrintable(set.error().toString()));
    // Also when a script's redis.call() is refused.
    const auto scripted = connection.command({"EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k"});
    LS_VERIFY_ERROR(scripted, ErrorKind::NoPerm);
    const auto get = admin.command({"EXISTS", "k"});
    LS_VERIFY_OK(get);
    QCOMPARE(get->integer(), 0);
}

void TestConnection::writeToReplicaIsReadOnlyReplica()
{
    LS_START_SERVER(master, ServerKind::Plain);
    LS_START_SERVER(replica, ServerKind::Plain);
    Connection connection(clientConfig(*replica, ServerKind::Plain));
    LS_VERIFY_OK(connection.command({"CONFIG", "SET", "replica-read-only", "yes"}));
    LS_VERIFY_OK(connection.command(
        {QByteArrayView("REPLICAOF"), QByteArrayView("127.0.0.1"), QByteArray::number(master->port())}));
    const auto set = connection.command({"SET", "k", "v"});
    LS_VERIFY_ERROR(set, ErrorKind::ReadOnlyReplica);
    QVERIFY2(set.error().toString().contains(QStringLiteral("read-only replica: READONLY")),
             qPrintable(set.error().toString()));
    const auto scripted = connection.command({"EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k"});
    LS_VERIFY_ERROR(scripted, ErrorKind::ReadOnlyReplica);
    // Reads still work on the replica.
    LS_VERIFY_OK(connection.command({"GET", "k"}));
    LS_VERIFY_OK(connection.command({"REPLICAOF", "NO", "ONE"}));
}

void TestConnection::writeAtMaxmemoryIsOutOfMemory()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    LS_VERIFY_OK(connection.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
    LS_VERIFY_OK(connection.command({"CONFIG", "SET", "maxmemory", "1"}));
    const auto set = connection.command({"SET", "k", "v"});
    LS_VERIFY_ERROR(set, ErrorKind::OutOfMemory);
    QVERIFY2(set.error().toString().contains(QStringLiteral("out of memory: OOM")),
             qPrintable(set.error().toString()));
    const auto scripted = connection.command({"EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k"});
    LS_VERIFY_ERROR(scripted, ErrorKind::OutOfMemory);
    LS_VERIFY_OK(connection.command({"CONFIG", "SET", "maxmemory", "0"}));
    const auto exists = connection.command({"EXISTS", "k"});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), 0);
}

void TestConnection::wrongTypeIsWrongType()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    LS_VERIFY_OK(connection.command({"RPUSH", "list", "a"}));
    const auto get = connection.command({"GET", "list"});
    LS_VERIFY_ERROR(get, ErrorKind::WrongType);
    QVERIFY2(get.error().toString().contains(QStringLiteral("wrong type: WRONGTYPE")),
             qPrintable(get.error().toString()));
    const auto scripted = connection.command({"EVAL", "return redis.call('GET', KEYS[1])", "1", "list"});
    LS_VERIFY_ERROR(scripted, ErrorKind::WrongType);
    const auto length = connection.command({"LLEN", "list"});
    LS_VERIFY_OK(length);
    QCOMPARE(length->integer(), 1);
}

QTEST_GUILESS_MAIN(TestConnection)
#include "tst_connection.moc"
