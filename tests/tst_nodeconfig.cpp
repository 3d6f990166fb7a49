#include "redis/nodeconfig.h"
#include "redisfixture.h"

#include <QJsonObject>
#include <QTest>

using namespace lockscope::redis;
using namespace std::chrono_literals;

namespace {
const QString kSecret = QStringLiteral("topSecret42");
}

class TestNodeConfig : public QObject
{
    Q_OBJECT

private slots:
    void plainUrl();
    void urlWithPortAndDb();
    void urlWithUserAndPassword();
    void urlWithPasswordOnly();
    void percentEncodedPassword();
    void ipv6Host();
    void tlsOptions();
    void tlsVerifyOnByDefault();
    void unixSocket();
    void generalOptions();
    void malformed_data();
    void malformed();
    void toUrlRedactsPassword();
    void toUrlRoundTrip_data();
    void toUrlRoundTrip();
    void jsonRoundTrip();
    void jsonWithoutSecrets();
    void jsonMalformed_data();
    void jsonMalformed();
    void labelAndAddress();
    void findDuplicateNodes_data();
    void findDuplicateNodes();
    void duplicateHostIsCaseInsensitive();
    void loopbackNamesAreOneHost_data();
    void loopbackNamesAreOneHost();
    void duplicatesAmongManyNodes();
    void redactUrlHidesEveryPassword_data();
    void redactUrlHidesEveryPassword();

private:
    static NodeConfig fullConfig();
};

static NodeConfig parseOrFail(const QString &url, bool *ok)
{
    auto result = NodeConfig::fromUrl(url);
    *ok = result.has_value();
    if (!result) {
        qWarning() << "parse failed:" << result.error().toString();
        return {};
    }
    return *result;
}

void TestNodeConfig::plainUrl()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://localhost"), &ok);
    QVERIFY(ok);
    QCOMPARE(c.transport, NodeConfig::Transport::Tcp);
    QCOMPARE(c.host, QStringLiteral("localhost"));
    QCOMPARE(c.port, quint16(6379));
    QCOMPARE(c.db, 0);
    QVERIFY(c.username.isEmpty());
    QVERIFY(c.password.isEmpty());
    QVERIFY(!c.tls.enabled);
}

void TestNodeConfig::urlWithPortAndDb()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://cache.example.com:7000/3"), &ok);
    QVERIFY(ok);
    QCOMPARE(c.host, QStringLiteral("cache.example.com"));
    QCOMPARE(c.port, quint16(7000));
    QCOMPARE(c.db, 3);
}

void TestNodeConfig::urlWithUserAndPassword()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://alice:%1@10.0.0.5:6380/1").arg(kSecret), &ok);
    QVERIFY(ok);
    QCOMPARE(c.username, QStringLiteral("alice"));
    QCOMPARE(c.password, kSecret);
    QCOMPARE(c.host, QStringLiteral("10.0.0.5"));
    QCOMPARE(c.port, quint16(6380));
    QCOMPARE(c.db, 1);
}

void TestNodeConfig::urlWithPasswordOnly()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://:%1@host").arg(kSecret), &ok);
    QVERIFY(ok);
    QVERIFY(c.username.isEmpty());
    QCOMPARE(c.password, kSecret);
}

void TestNodeConfig::percentEncodedPassword()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://bob:p%40ss%3Aw%2Frd%25%20x@host:6390"), &ok);
    QVERIFY(ok);
    QCOMPARE(c.username, QStringLiteral("bob"));
    QCOMPARE(c.password, QStringLiteral("p@ss:w/rd% x"));
    QCOMPARE(c.port, quint16(6390));
}

void TestNodeConfig::ipv6Host()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("redis://[::1]:6385"), &ok);
    QVERIFY(ok);
    QCOMPARE(c.host, QStringLiteral("::1"));
    QCOMPARE(c.port, quint16(6385));
    QVERIFY2(c.address().contains(QStringLiteral("::1")) && c.address().contains(QStringLiteral("6385")),
             qPrintable(c.address()));
}

void TestNodeConfig::tlsOptions()
{
    bool ok = false;
    const NodeConfig c =
        parseOrFail(QStringLiteral("rediss://redis.internal:6390?ca=/etc/ca.pem&cert=/etc/client.pem"
                                   "&key=/etc/client.key&sni=redis.example.org&verify=0"),
                    &ok);
    QVERIFY(ok);
    QVERIFY(c.tls.enabled);
    QCOMPARE(c.tls.caFile, QStringLiteral("/etc/ca.pem"));
    QCOMPARE(c.tls.certFile, QStringLiteral("/etc/client.pem"));
    QCOMPARE(c.tls.keyFile, QStringLiteral("/etc/client.key"));
    QCOMPARE(c.tls.serverName, QStringLiteral("redis.example.org"));
    QVERIFY(!c.tls.verifyPeer);
    QCOMPARE(c.port, quint16(6390));

    const NodeConfig dirConfig =
        parseOrFail(QStringLiteral("rediss://h?capath=/etc/ssl/certs&verify=true"), &ok);
    QVERIFY(ok);
    QCOMPARE(dirConfig.tls.caDir, QStringLiteral("/etc/ssl/certs"));
    QVERIFY(dirConfig.tls.verifyPeer);
}

void TestNodeConfig::tlsVerifyOnByDefault()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("rediss://secure-host"), &ok);
    QVERIFY(ok);
    QVERIFY(c.tls.enabled);
    QVERIFY(c.tls.verifyPeer);
    QVERIFY(c.tls.caFile.isEmpty());
}

void TestNodeConfig::unixSocket()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(QStringLiteral("unix:///var/run/redis/redis.sock?db=2"), &ok);
    QVERIFY(ok);
    QCOMPARE(c.transport, NodeConfig::Transport::Unix);
    QCOMPARE(c.unixPath, QStringLiteral("/var/run/redis/redis.sock"));
    QCOMPARE(c.db, 2);
    QVERIFY(!c.tls.enabled);

    const NodeConfig withAuth =
        parseOrFail(QStringLiteral("unix:///tmp/r.sock?user=carol&password=%1").arg(kSecret), &ok);
    QVERIFY(ok);
    QCOMPARE(withAuth.username, QStringLiteral("carol"));
    QCOMPARE(withAuth.password, kSecret);
}

void TestNodeConfig::generalOptions()
{
    bool ok = false;
    const NodeConfig c = parseOrFail(
        QStringLiteral(
            "redis://h?name=primary&client_name=worker-7&connect_timeout=500ms&timeout=2s&spin_us=0"),
        &ok);
    QVERIFY(ok);
    QCOMPARE(c.spin, std::chrono::microseconds(0));
    QCOMPARE(NodeConfig().spin, std::chrono::microseconds(50));
    QCOMPARE(c.name, QStringLiteral("primary"));
    QCOMPARE(c.clientName, QStringLiteral("worker-7"));
    QCOMPARE(c.connectTimeout, 500ms);
    QCOMPARE(c.commandTimeout, 2000ms);
    QCOMPARE(c.label(), QStringLiteral("primary"));
}

void TestNodeConfig::malformed_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QStringList>("mentions"); // any of these, case-insensitive, must appear
    const QString pw = QStringLiteral("u:%1@").arg(kSecret);
    QTest::newRow("bad scheme") << QStringLiteral("http://%1host:6379").arg(pw) << QStringList{"scheme"};
    QTest::newRow("no scheme") << QStringLiteral("%1host:6379").arg(pw) << QStringList{"scheme", "malformed"};
    QTest::newRow("port not a number") << QStringLiteral("redis://%1host:abc").arg(pw) << QStringList{"port"};
    QTest::newRow("port 0") << QStringLiteral("redis://%1host:0").arg(pw) << QStringList{"port"};
    // "host:" with nothing after it used to contact 6379 silently.
    QTest::newRow("empty port") << QStringLiteral("redis://%1localhost:").arg(pw)
                                << QStringList{"empty port"};
    QTest::newRow("empty port, db") << QStringLiteral("redis://%1host:/2").arg(pw)
                                    << QStringList{"empty port"};
    QTest::newRow("port too large") << QStringLiteral("redis://%1host:70000").arg(pw) << QStringList{"port"};
    QTest::newRow("db not a number") << QStringLiteral("redis://%1host:6379/abc").arg(pw)
                                     << QStringList{"database", "db"};
    QTest::newRow("db option not a number")
        << QStringLiteral("redis://%1host?db=x1").arg(pw) << QStringList{"database", "db"};
    QTest::newRow("unknown option") << QStringLiteral("redis://%1host?colour=red").arg(pw)
                                    << QStringList{"colour"};
    QTest::newRow("spin_us negative")
        << QStringLiteral("redis://%1host?spin_us=-5").arg(pw) << QStringList{"spin_us"};
    QTest::newRow("verify=maybe") << QStringLiteral("rediss://%1host?verify=maybe").arg(pw)
                                  << QStringList{"verify"};
    QTest::newRow("bad timeout") << QStringLiteral("redis://%1host?timeout=soon").arg(pw)
                                 << QStringList{"timeout"};
    QTest::newRow("timeout without unit")
        << QStringLiteral("redis://%1host?timeout=500").arg(pw) << QStringList{"timeout", "no unit"};
    QTest::newRow("connect_timeout without unit")
        << QStringLiteral("redis://%1host?connect_timeout=2").arg(pw)
        << QStringList{"connect_timeout", "no unit"};
    QTest::newRow("unix without path") << QStringLiteral("unix://") << QStringList{"path"};
    QTest::newRow("unix password in query")
        << QStringLiteral("unix://?password=%1").arg(kSecret) << QStringList{"path", "host"};
    QTest::newRow("TLS option on redis://")
        << QStringLiteral("redis://%1host?ca=/etc/ca.pem").arg(pw) << QStringList{"rediss", "tls"};
    QTest::newRow("sni on redis://") << QStringLiteral("redis://%1host?sni=x").arg(pw)
                                     << QStringList{"rediss", "tls"};
    QTest::newRow("empty") << QString() << QStringList{"empty"};
}

void TestNodeConfig::malformed()
{
    QFETCH(QString, url);
    QFETCH(QStringList, mentions);
    const auto result = NodeConfig::fromUrl(url);
    QVERIFY2(!result.has_value(), qPrintable(QStringLiteral("accepted: ") + url));
    const RedisError &error = result.error();
    QCOMPARE(error.kind, ErrorKind::InvalidConfig);
    const QString text = error.toString();
    QVERIFY2(!text.contains(kSecret), qPrintable(QStringLiteral("password leaked: ") + text));
    bool named = false;
    for (const QString &word : mentions)
        named = named || text.contains(word, Qt::CaseInsensitive);
    QVERIFY2(named, qPrintable(QStringLiteral("\"%1\" does not name the problem (%2)")
                                   .arg(text, mentions.join(QLatin1Char('/')))));
    if (url.contains(QLatin1Char('@'))) {
        // The URL appears, with the password replaced.
        QString redacted = url;
        redacted.replace(kSecret, QStringLiteral("***"));
        QVERIFY2(text.contains(redacted),
                 qPrintable(QStringLiteral("\"%1\" does not show \"%2\"").arg(text, redacted)));
    }
}

NodeConfig TestNodeConfig::fullConfig()
{
    NodeConfig c;
    c.name = QStringLiteral("orders");
    c.host = QStringLiteral("redis.example.org");
    c.port = 6390;
    c.db = 4;
    c.username = QStringLiteral("svc-locks");
    c.password = QStringLiteral("p@ss:w/rd?&=#x");
    c.tls.enabled = true;
    c.tls.caFile = QStringLiteral("/etc/lockscope/ca.pem");
    c.tls.certFile = QStringLiteral("/etc/lockscope/client.pem");
    c.tls.keyFile = QStringLiteral("/etc/lockscope/client.key");
    c.tls.serverName = QStringLiteral("redis.internal");
    c.tls.verifyPeer = false;
    c.connectTimeout = 750ms;
    c.commandTimeout = 1500ms;
    c.clientName = QStringLiteral("lockscope-ci");
    return c;
}

void TestNodeConfig::toUrlRedactsPassword()
{
    const NodeConfig c = fullConfig();
    const QString redacted = c.toUrl();
    QVERIFY2(!redacted.contains(QStringLiteral("p@ss")) && !redacted.contains(QStringLiteral("p%40ss")),
             qPrintable(redacted));
    QVERIFY2(redacted.contains(QStringLiteral("***")) || redacted.contains(QStringLiteral("%2A%2A%2A")),
             qPrintable(redacted));
    QVERIFY(redacted.startsWith(QStringLiteral("rediss://")));

    const QString withSecrets = c.toUrl(true);
    QVERIFY2(!withSecrets.contains(QStringLiteral("***")), qPrintable(withSecrets));

    // A redacted URL still parses, to a config without the real password.
    const auto reparsed = NodeConfig::fromUrl(redacted);
    QVERIFY2(reparsed.has_value(), lockscope::test::describe(reparsed).constData());
    QVERIFY(reparsed->password != c.password);
}

void TestNodeConfig::toUrlRoundTrip_data()
{
    QTest::addColumn<NodeConfig>("config");
    QTest::newRow("full TLS") << fullConfig();
    NodeConfig plain;
    plain.host = QStringLiteral("10.1.2.3");
    plain.port = 7001;
    QTest::newRow("plain") << plain;
    NodeConfig v6;
    v6.host = QStringLiteral("::1");
    v6.port = 6400;
    v6.password = QStringLiteral("üñí cödé");
    QTest::newRow("ipv6 unicode password") << v6;
    NodeConfig userOnly; // password kept elsewhere (keychain): must not read back as a password
    userOnly.username = QStringLiteral("ops");
    QTest::newRow("user without password") << userOnly;
    NodeConfig unixConfig;
    unixConfig.transport = NodeConfig::Transport::Unix;
    unixConfig.host.clear();
    unixConfig.port = 0;
    unixConfig.unixPath = QStringLiteral("/run/redis/redis.sock");
    unixConfig.db = 2;
    unixConfig.username = QStringLiteral("dave");
    unixConfig.password = QStringLiteral("a&b=c");
    QTest::newRow("unix") << unixConfig;
}

void TestNodeConfig::toUrlRoundTrip()
{
    QFETCH(NodeConfig, config);
    const QString url = config.toUrl(true);
    const auto parsed = NodeConfig::fromUrl(url);
    QVERIFY2(parsed.has_value(), (url.toUtf8() + " -> " + lockscope::test::describe(parsed)).constData());
    QCOMPARE(parsed->toUrl(true), url);
    QVERIFY2(*parsed == config, qPrintable(url));
}

void TestNodeConfig::jsonRoundTrip()
{
    const NodeConfig c = fullConfig();
    const QJsonObject json = c.toJson(true);
    QCOMPARE(json.value(QStringLiteral("password")).toString(), c.password);
    const auto back = NodeConfig::fromJson(json);
    QVERIFY2(back.has_value(), lockscope::test::describe(back).constData());
    QVERIFY(*back == c);
}

void TestNodeConfig::jsonWithoutSecrets()
{
    const NodeConfig c = fullConfig();
    const QJsonObject json = c.toJson();
    QVERIFY(!json.contains(QStringLiteral("password")) ||
            json.value(QStringLiteral("password")).toString().isEmpty());
    for (auto it = json.begin(); it != json.end(); ++it)
        QVERIFY2(!it.value().toString().contains(c.password), qPrintable(it.key()));
    const auto back = NodeConfig::fromJson(json);
    QVERIFY2(back.has_value(), lockscope::test::describe(back).constData());
    QVERIFY(back->password.isEmpty());
    NodeConfig expected = c;
    expected.password.clear();
    QVERIFY(*back == expected);
}

void TestNodeConfig::jsonMalformed_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("port too large") << QStringLiteral("port") << QJsonValue(70000);
    QTest::newRow("port zero") << QStringLiteral("port") << QJsonValue(0);
    QTest::newRow("port string") << QStringLiteral("port") << QJsonValue(QStringLiteral("abc"));
    QTest::newRow("negative db") << QStringLiteral("db") << QJsonValue(-1);
    QTest::newRow("unknown key") << QStringLiteral("colour") << QJsonValue(QStringLiteral("red"));
}

void TestNodeConfig::jsonMalformed()
{
    QFETCH(QString, key);
    QFETCH(QJsonValue, value);
    QJsonObject json = fullConfig().toJson(true);
    json.insert(key, value);
    const auto result = NodeConfig::fromJson(json);
    QVERIFY2(!result.has_value(), qPrintable(key));
    QCOMPARE(result.error().kind, ErrorKind::InvalidConfig);
    QVERIFY2(result.error().toString().contains(key), qPrintable(result.error().toString()));
    QVERIFY2(!result.error().toString().contains(fullConfig().password),
             qPrintable(result.error().toString()));
}

void TestNodeConfig::labelAndAddress()
{
    NodeConfig c;
    c.host = QStringLiteral("db1");
    c.port = 6400;
    c.password = kSecret;
    QCOMPARE(c.label(), QStringLiteral("db1:6400"));
    QCOMPARE(c.address(), QStringLiteral("db1:6400"));
    c.name = QStringLiteral("main");
    QCOMPARE(c.label(), QStringLiteral("main"));
    QVERIFY(!c.address().contains(kSecret));

    NodeConfig u;
    u.transport = NodeConfig::Transport::Unix;
    u.unixPath = QStringLiteral("/tmp/x.sock");
    QCOMPARE(u.label(), QStringLiteral("/tmp/x.sock"));
}

using DuplicatePair = std::optional<std::pair<int, int>>;

/// "none" or "0 and 1", for readable QCOMPARE failures.
static QString pairText(const DuplicatePair &pair)
{
    return pair ? QStringLiteral("%1 and %2").arg(pair->first).arg(pair->second) : QStringLiteral("none");
}

void TestNodeConfig::findDuplicateNodes_data()
{
    QTest::addColumn<QStringList>("urls");
    QTest::addColumn<DuplicatePair>("expected");
    const DuplicatePair none;
    QTest::newRow("empty") << QStringList{} << none;
    QTest::newRow("one") << QStringList{"redis://h:1"} << none;
    QTest::newRow("all distinct") << QStringList{"redis://h:1", "redis://h:2", "redis://i:1"} << none;
    QTest::newRow("tcp twice") << QStringList{"redis://h:1", "redis://h:1", "redis://h:2"}
                               << DuplicatePair{{0, 1}};
    QTest::newRow("default port spelled out")
        << QStringList{"redis://h:2", "redis://h", "redis://h:6379"} << DuplicatePair{{1, 2}};
    QTest::newRow("credentials, name, tls and timeouts do not matter")
        << QStringList{"redis://u:p@h:1?name=a&timeout=1s", "rediss://other@h:1?name=b"}
        << DuplicatePair{{0, 1}};
    QTest::newRow("db differs") << QStringList{"redis://h:1/0", "redis://h:1/1"} << none;
    QTest::newRow("same db spelled two ways")
        << QStringList{"redis://h:1/2", "redis://h:1?db=2"} << DuplicatePair{{0, 1}};
    QTest::newRow("unix twice") << QStringList{"unix:///run/r.sock", "redis://h:1", "unix:///run/r.sock"}
                                << DuplicatePair{{0, 2}};
    QTest::newRow("unix path spelled differently")
        << QStringList{"unix:///run/r.sock", "unix:///run//./r.sock"} << DuplicatePair{{0, 1}};
    QTest::newRow("unix db differs") << QStringList{"unix:///run/r.sock?db=1", "unix:///run/r.sock"} << none;
    // The loopback names are one server (Redis binds 127.0.0.1 and ::1 by default, localhost
    // reaches either); resolving nothing else: a name and its address are different spellings
    // (a run_id check at connect would catch them).
    QTest::newRow("localhost is 127.0.0.1")
        << QStringList{"redis://localhost:1", "redis://127.0.0.1:1"} << DuplicatePair{{0, 1}};
    QTest::newRow("localhost is ::1")
        << QStringList{"redis://[::1]:1", "redis://LocalHost:1"} << DuplicatePair{{0, 1}};
    QTest::newRow("loopback, other port")
        << QStringList{"redis://localhost:1", "redis://127.0.0.1:2"} << none;
    QTest::newRow("loopback, other db")
        << QStringList{"redis://localhost:1/1", "redis://127.0.0.1:1/2"} << none;
    QTest::newRow("127.0.0.2 is its own address")
        << QStringList{"redis://127.0.0.1:1", "redis://127.0.0.2:1"} << none;
    QTest::newRow("a name is not its address")
        << QStringList{"redis://cache-a:1", "redis://10.0.0.5:1"} << none;
    QTest::newRow("ipv6 spelled two ways")
        << QStringList{"redis://[2001:db8::1]:1", "redis://[2001:DB8:0:0:0:0:0:1]:1"}
        << DuplicatePair{{0, 1}};
    QTest::newRow("the first repeated entry")
        << QStringList{"redis://a:1", "redis://b:1", "redis://b:1", "redis://a:1"} << DuplicatePair{{1, 2}};
}

void TestNodeConfig::findDuplicateNodes()
{
    QFETCH(QStringList, urls);
    QFETCH(DuplicatePair, expected);
    std::vector<NodeConfig> nodes;
    for (const QString &url : urls) {
        bool ok = false;
        nodes.push_back(parseOrFail(url, &ok));
        QVERIFY(ok);
    }
    QCOMPARE(pairText(lockscope::redis::findDuplicateNodes(nodes)), pairText(expected));
}

void TestNodeConfig::duplicateHostIsCaseInsensitive()
{
    // QUrl lower-cases host names; a config from JSON or the Connections dialog keeps the case.
    NodeConfig a;
    a.host = QStringLiteral("Redis-A.Example.com");
    a.port = 7000;
    NodeConfig b = a;
    b.host = QStringLiteral("redis-a.example.COM");
    b.name = QStringLiteral("other name");
    QVERIFY(sameServer(a, b));
    QCOMPARE(pairText(lockscope::redis::findDuplicateNodes({a, b})), QStringLiteral("0 and 1"));
    b.port = 7001;
    QVERIFY(!sameServer(a, b));
    QVERIFY(!lockscope::redis::findDuplicateNodes({a, b}));
    // A unix path is a file name: case matters.
    NodeConfig u;
    u.transport = NodeConfig::Transport::Unix;
    u.unixPath = QStringLiteral("/run/Redis.sock");
    NodeConfig v = u;
    v.unixPath = QStringLiteral("/run/redis.sock");
    QVERIFY(!lockscope::redis::findDuplicateNodes({u, v}));
}

void TestNodeConfig::loopbackNamesAreOneHost_data()
{
    // Spellings a config from JSON or the Connections dialog may carry (QUrl lower-cases and
    // strips the brackets; JSON keeps what was typed). Nothing here is resolved.
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("same");
    QTest::newRow("localhost / 127.0.0.1") << "localhost"
                                           << "127.0.0.1" << true;
    QTest::newRow("LOCALHOST / 127.0.0.1") << "LOCALHOST"
                                           << "127.0.0.1" << true;
    QTest::newRow("localhost. / localhost") << "localhost."
                                            << "localhost" << true;
    QTest::newRow("::1 / localhost") << "::1"
                                     << "localhost" << true;
    QTest::newRow("[::1] / 127.0.0.1") << "[::1]"
                                       << "127.0.0.1" << true;
    QTest::newRow("0:0:0:0:0:0:0:1 / ::1") << "0:0:0:0:0:0:0:1"
                                           << "::1" << true;
    QTest::newRow("::ffff:127.0.0.1 / localhost") << "::ffff:127.0.0.1"
                                                  << "localhost" << true;
    QTest::newRow("::ffff:10.0.0.5 / 10.0.0.5") << "::ffff:10.0.0.5"
                                                << "10.0.0.5" << true;
    QTest::newRow("127.0.0.2 / 127.0.0.1") << "127.0.0.2"
                                           << "127.0.0.1" << false;
    QTest::newRow("127.0.0.2 / localhost") << "127.0.0.2"
                                           << "localhost" << false;
    QTest::newRow("myhost.localhost / localhost") << "myhost.localhost"
                                                  << "localhost" << false;
    QTest::newRow("10.0.0.5 / 10.0.0.6") << "10.0.0.5"
                                         << "10.0.0.6" << false;
}

void TestNodeConfig::loopbackNamesAreOneHost()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, same);
    NodeConfig x;
    x.host = a;
    x.port = 7000;
    NodeConfig y = x;
    y.host = b;
    QCOMPARE(sameServer(x, y), same);
    QCOMPARE(sameServer(y, x), same);
    QCOMPARE(lockscope::redis::findDuplicateNodes({x, y}).has_value(), same);
    y.port = 7001; // the same host on another port is another server
    QVERIFY(!sameServer(x, y));
    QVERIFY(!lockscope::redis::findDuplicateNodes({x, y}));
    y.port = 7000;
    y.db = 1; // and another db another key space
    QVERIFY(!sameServer(x, y));
    QVERIFY(!lockscope::redis::findDuplicateNodes({x, y}));
}

void TestNodeConfig::duplicatesAmongManyNodes()
{
    // 10,000 distinct hosts on one port (the case a pairwise check made slow), then one that
    // repeats an early entry under a loopback alias.
    std::vector<NodeConfig> nodes;
    for (int i = 0; i < 10'000; ++i) {
        NodeConfig c;
        c.host = QStringLiteral("redis-node-%1.example.com").arg(i);
        nodes.push_back(c);
    }
    nodes[3].host = QStringLiteral("127.0.0.1");
    QVERIFY(!lockscope::redis::findDuplicateNodes(nodes));
    NodeConfig alias;
    alias.host = QStringLiteral("localhost");
    nodes.push_back(alias);
    QCOMPARE(pairText(lockscope::redis::findDuplicateNodes(nodes)), QStringLiteral("3 and 10000"));
}

void TestNodeConfig::redactUrlHidesEveryPassword_data()
{
    // One rule for lockctl's errors, the app's start-up errors and core's messages (there were
    // three, and only this one caught the password-only form and a '@' inside the password).
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("shown");
    QTest::newRow("user and password")
        << QStringLiteral("redis://app:s3cret@h:6379/2") << QStringLiteral("redis://app:***@h:6379/2");
    QTest::newRow("password only") << QStringLiteral("redis://:s3cret@h") << QStringLiteral("redis://:***@h");
    QTest::newRow("password-only form")
        << QStringLiteral("redis://s3cret@h") << QStringLiteral("redis://***@h");
    QTest::newRow("@ in the password")
        << QStringLiteral("rediss://app:p@ss@h/0") << QStringLiteral("rediss://app:***@h/0");
    QTest::newRow("query option") << QStringLiteral("unix:///run/r.sock?db=1&password=s3cret&name=a")
                                  << QStringLiteral("unix:///run/r.sock?db=1&password=***&name=a");
    QTest::newRow("no scheme") << QStringLiteral("app:s3cret@h:6379") << QStringLiteral("app:***@h:6379");
    QTest::newRow("nothing secret") << QStringLiteral("redis://h:6379/0")
                                    << QStringLiteral("redis://h:6379/0");
}

void TestNodeConfig::redactUrlHidesEveryPassword()
{
    QFETCH(QString, url);
    QFETCH(QString, shown);
    QCOMPARE(lockscope::redis::redactUrl(url), shown);
    QVERIFY(!lockscope::redis::redactUrl(url).contains(QStringLiteral("s3cret")));
}

QTEST_GUILESS_MAIN(TestNodeConfig)
#include "tst_nodeconfig.moc"
