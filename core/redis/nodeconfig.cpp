#include "nodeconfig.h"

#include "util/duration.h"

#include <QDir>
#include <QHash>
#include <QJsonValue>
#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>
#include <arpa/inet.h>
#include <cstring>
#include <limits>
#include <netinet/in.h>

namespace lockscope::redis {

namespace {

/// The longest connect or command timeout, in the URL as in JSON (connect_timeout_ms,
/// command_timeout_ms): so that every node one form reads, the other reads too.
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(1);

/// A unix socket path that names no socket: empty, or the root directory ("unix:///").
bool noSocketPath(const QString &path)
{
    return path.isEmpty() || path == u"/";
}

std::unexpected<RedisError> invalid(const QString &url, const QString &why)
{
    return fail(ErrorKind::InvalidConfig, redactUrl(url), why);
}

std::optional<bool> parseBool(const QString &value)
{
    const QString v = value.toLower();
    if (v == u"1" || v == u"true" || v == u"yes" || v == u"on")
        return true;
    if (v == u"0" || v == u"false" || v == u"no" || v == u"off")
        return false;
    return std::nullopt;
}

QString boolText(bool value)
{
    return value ? QStringLiteral("1") : QStringLiteral("0");
}

} // namespace

QString redactUrl(const QString &url)
{
    QString out = url;
    // The user-info part runs from after "scheme://" (or from the start when there is no
    // "://", as in a forgotten scheme) to the last '@' before the path. Its password, or
    // all of it in the password-only form "secret@host", is hidden.
    const qsizetype schemeEnd = out.indexOf(QLatin1String("://"));
    const qsizetype start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
    qsizetype end = out.size();
    for (const QChar stop : {QLatin1Char('/'), QLatin1Char('?'), QLatin1Char('#')}) {
        const qsizetype at = out.indexOf(stop, start);
        if (at >= 0)
            end = std::min(end, at);
    }
    const qsizetype at = out.lastIndexOf(QLatin1Char('@'), end - 1);
    if (at >= start) {
        const qsizetype colon = out.indexOf(QLatin1Char(':'), start);
        const qsizetype from = (colon >= 0 && colon < at) ? colon + 1 : start;
        out.replace(from, at - from, QStringLiteral("***"));
    }
    static const QRegularExpression passwordParam(QStringLiteral("([?&]password=)[^&#]*"));
    out.replace(passwordParam, QStringLiteral("\\1***"));
    return out;
}

Result<NodeConfig> NodeConfig::fromUrl(const QString &url)
{
    const QString trimmed = url.trimmed();
    if (trimmed.isEmpty())
        return invalid(url, QStringLiteral("empty URL"));
    const QUrl parsed(trimmed, QUrl::StrictMode);
    if (!parsed.isValid()) {
        // QUrl's message quotes the whole source URL, password included: keep only the reason.
        QString reason = parsed.errorString();
        const qsizetype quote = reason.indexOf(QLatin1String("; source was"));
        if (quote >= 0)
            reason.truncate(quote);
        reason.replace(trimmed, redactUrl(trimmed));
        return invalid(url, QStringLiteral("malformed URL (%1)").arg(reason));
    }

    NodeConfig config;
    const QString scheme = parsed.scheme().toLower();
    if (scheme == u"redis" || scheme == u"rediss") {
        config.transport = Transport::Tcp;
        config.tls.enabled = scheme == u"rediss";
        config.host = parsed.host(QUrl::FullyDecoded);
        if (config.host.isEmpty())
            return invalid(url, QStringLiteral("no host given"));
        if (parsed.port() == 0)
            return invalid(url, QStringLiteral("port 0 is not a valid port"));
        // QUrl accepts "host:" as no port: that is a typo, not a wish for 6379 (which the
        // operator may not mean at all). QUrl rejects ports above 65535 itself.
        if (parsed.port() < 0) {
            // QUrl drops the empty port from authority(): look at the text itself.
            const qsizetype start = trimmed.indexOf(QLatin1String("://"));
            QStringView authority = start < 0 ? QStringView() : QStringView(trimmed).sliced(start + 3);
            for (const QChar end : {QLatin1Char('/'), QLatin1Char('?'), QLatin1Char('#')}) {
                if (const qsizetype at = authority.indexOf(end); at >= 0)
                    authority = authority.first(at);
            }
            if (authority.endsWith(QLatin1Char(':')))
                return invalid(
                    url, QStringLiteral("empty port after ':' (leave out the ':' for the default 6379)"));
        }
        config.port = static_cast<quint16>(parsed.port(6379));
        const QString path = parsed.path(QUrl::FullyDecoded);
        if (!path.isEmpty() && path != u"/") {
            bool ok = false;
            const int db = path.mid(1).toInt(&ok);
            if (!ok || db < 0 || path.mid(1).startsWith(QLatin1Char('+')))
                return invalid(url, QStringLiteral("database \"%1\" is not a number").arg(path.mid(1)));
            config.db = db;
        }
        config.username = parsed.userName(QUrl::FullyDecoded);
        config.password = parsed.password(QUrl::FullyDecoded);
        // redis://secret@host (no colon) is the password-only form redis-cli accepts.
        if (!config.username.isEmpty() && config.password.isEmpty() &&
            !parsed.userInfo(QUrl::FullyEncoded).contains(QLatin1Char(':'))) {
            config.password = config.username;
            config.username.clear();
        }
    } else if (scheme == u"unix") {
        config.transport = Transport::Unix;
        config.host.clear();
        config.port = 0;
        config.unixPath = parsed.path(QUrl::FullyDecoded);
        if (!parsed.host().isEmpty())
            return invalid(url, QStringLiteral("unix socket URLs have no host: use unix:///path/to/socket"));
        if (noSocketPath(config.unixPath))
            return invalid(url, QStringLiteral("no socket path given"));
    } else if (scheme.isEmpty()) {
        return invalid(url, QStringLiteral("no scheme: expected redis://, rediss:// or unix://"));
    } else {
        return invalid(url,
                       QStringLiteral("unsupported scheme \"%1\": expected redis://, rediss:// or unix://")
                           .arg(parsed.scheme()));
    }

    const QUrlQuery query(parsed);
    bool tlsOptionSeen = false;
    QString tlsOptionName;
    for (const auto &[rawKey, rawValue] : query.queryItems(QUrl::FullyDecoded)) {
        const QString key = rawKey.toLower();
        const QString &value = rawValue;
        auto duration = [&](std::chrono::milliseconds &target) -> std::optional<RedisError> {
            const auto d = parseDuration(value);
            if (!d || d->count() <= 0 || *d > kMaxTimeout)
                return RedisError{ErrorKind::InvalidConfig, redactUrl(url),
                                  QStringLiteral("option %1: %2")
                                      .arg(rawKey, !d ? durationProblem(value)
                                                   : d->count() <= 0
                                                       ? QStringLiteral("must be longer than zero")
                                                       : QStringLiteral("must be 1h or less"))};
            target = *d;
            return std::nullopt;
        };
        std::optional<RedisError> error;
        if (key == u"name") {
            config.name = value;
        } else if (key == u"db") {
            bool ok = false;
            const int db = value.toInt(&ok);
            if (!ok || db < 0)
                return invalid(url, QStringLiteral("database \"%1\" is not a number").arg(value));
            config.db = db;
        } else if (key == u"user" || key == u"username") {
            config.username = value;
        } else if (key == u"password") {
            config.password = value;
        } else if (key == u"client_name") {
            config.clientName = value;
        } else if (key == u"connect_timeout") {
            error = duration(config.connectTimeout);
        } else if (key == u"timeout") {
            error = duration(config.commandTimeout);
        } else if (key == u"spin_us") {
            bool ok = false;
            const int us = value.toInt(&ok);
            if (!ok || us < 0 || us > 1'000'000)
                return invalid(
                    url, QStringLiteral("option spin_us=\"%1\" must be 0..1000000 microseconds").arg(value));
            config.spin = std::chrono::microseconds(us);
        } else if (key == u"ca" || key == u"capath" || key == u"cert" || key == u"key" || key == u"sni" ||
                   key == u"verify") {
            tlsOptionSeen = true;
            tlsOptionName = rawKey;
            if (key == u"ca")
                config.tls.caFile = value;
            else if (key == u"capath")
                config.tls.caDir = value;
            else if (key == u"cert")
                config.tls.certFile = value;
            else if (key == u"key")
                config.tls.keyFile = value;
            else if (key == u"sni")
                config.tls.serverName = value;
            else if (const auto b = parseBool(value))
                config.tls.verifyPeer = *b;
            else
                return invalid(url, QStringLiteral("option verify=\"%1\" must be 1 or 0").arg(value));
        } else {
            return invalid(url, QStringLiteral("unknown option \"%1\"").arg(rawKey));
        }
        if (error)
            return std::unexpected(*error);
    }
    if (tlsOptionSeen && !config.tls.enabled)
        return invalid(url, QStringLiteral("TLS option \"%1\" needs a rediss:// URL").arg(tlsOptionName));
    if (config.tls.certFile.isEmpty() != config.tls.keyFile.isEmpty())
        return invalid(url, QStringLiteral("a client certificate needs both cert and key"));
    return config;
}

Result<NodeConfig> NodeConfig::fromJson(const QJsonObject &json)
{
    NodeConfig config;
    const QString where = json.value(QStringLiteral("name"))
                              .toString(json.value(QStringLiteral("url")).toString(QStringLiteral("node")));
    auto bad = [&](const QString &why) {
        return fail(ErrorKind::InvalidConfig, redactUrl(where), why);
    };

    if (json.contains(QStringLiteral("url"))) {
        if (!json.value(QStringLiteral("url")).isString())
            return bad(QStringLiteral("\"url\" must be a string"));
        auto fromUrl = NodeConfig::fromUrl(json.value(QStringLiteral("url")).toString());
        if (!fromUrl)
            return std::unexpected(fromUrl.error());
        config = *fromUrl;
    }
    static const QStringList known = {QStringLiteral("name"),
                                      QStringLiteral("url"),
                                      QStringLiteral("host"),
                                      QStringLiteral("port"),
                                      QStringLiteral("unix_path"),
                                      QStringLiteral("db"),
                                      QStringLiteral("username"),
                                      QStringLiteral("password"),
                                      QStringLiteral("tls"),
                                      QStringLiteral("client_name"),
                                      QStringLiteral("connect_timeout_ms"),
                                      QStringLiteral("command_timeout_ms"),
                                      QStringLiteral("spin_us")};
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!known.contains(it.key()))
            return bad(QStringLiteral("unknown key \"%1\"").arg(it.key()));
    }
    auto str = [&](const char *key, QString &target) -> bool {
        const QJsonValue v = json.value(QLatin1String(key));
        if (v.isUndefined())
            return true;
        if (!v.isString())
            return false;
        target = v.toString();
        return true;
    };
    auto integer = [&](const QJsonObject &obj, const char *key, qint64 min, qint64 max,
                       qint64 &target) -> bool {
        const QJsonValue v = obj.value(QLatin1String(key));
        if (v.isUndefined())
            return true;
        if (!v.isDouble() || v.toDouble() != static_cast<double>(v.toInteger()) || v.toInteger() < min ||
            v.toInteger() > max)
            return false;
        target = v.toInteger();
        return true;
    };
    for (const char *key : {"name", "host", "unix_path", "username", "password", "client_name"}) {
        QString *target = nullptr;
        const QLatin1String k(key);
        if (k == QLatin1String("name"))
            target = &config.name;
        else if (k == QLatin1String("host"))
            target = &config.host;
        else if (k == QLatin1String("unix_path"))
            target = &config.unixPath;
        else if (k == QLatin1String("username"))
            target = &config.username;
        else if (k == QLatin1String("password"))
            target = &config.password;
        else
            target = &config.clientName;
        if (!str(key, *target))
            return bad(QStringLiteral("\"%1\" must be a string").arg(k));
    }
    // A host a URL cannot carry (spaces, an empty label as in "10..0.1", a leading '-') is no
    // name a resolver finds either: refused here rather than written as a URL without a host.
    if (json.contains(QStringLiteral("host")) && !config.host.isEmpty()) {
        QUrl probe;
        probe.setHost(config.host);
        if (probe.host().isEmpty())
            return bad(QStringLiteral("\"host\" is not a host name or IP address: \"%1\"").arg(config.host));
    }
    // A unix socket, from "unix_path" or a unix:// "url", has no host or port.
    if (json.contains(QStringLiteral("unix_path")) || config.transport == Transport::Unix) {
        if (json.contains(QStringLiteral("host")) || json.contains(QStringLiteral("port")))
            return bad(QStringLiteral("give either a unix socket (\"unix_path\" or a unix:// \"url\") or "
                                      "\"host\" / \"port\", not both"));
        // The same shape fromUrl gives a unix:// URL, so that both forms compare equal.
        config.transport = Transport::Unix;
        config.host.clear();
        config.port = 0;
    }
    qint64 port = config.port, db = config.db, connectMs = config.connectTimeout.count(),
           commandMs = config.commandTimeout.count();
    if (!integer(json, "port", 1, 65535, port))
        return bad(QStringLiteral("\"port\" must be an integer between 1 and 65535"));
    if (!integer(json, "db", 0, std::numeric_limits<int>::max(), db)) // as in a URL
        return bad(QStringLiteral("\"db\" must be a non-negative integer"));
    if (!integer(json, "connect_timeout_ms", 1, kMaxTimeout.count(), connectMs))
        return bad(QStringLiteral("\"connect_timeout_ms\" must be a positive integer"));
    if (!integer(json, "command_timeout_ms", 1, kMaxTimeout.count(), commandMs))
        return bad(QStringLiteral("\"command_timeout_ms\" must be a positive integer"));
    qint64 spinUs = config.spin.count();
    if (!integer(json, "spin_us", 0, 1'000'000, spinUs))
        return bad(QStringLiteral("\"spin_us\" must be 0..1000000"));
    config.spin = std::chrono::microseconds(spinUs);
    config.port = static_cast<quint16>(port);
    config.db = static_cast<int>(db);
    config.connectTimeout = std::chrono::milliseconds(connectMs);
    config.commandTimeout = std::chrono::milliseconds(commandMs);

    if (json.contains(QStringLiteral("tls"))) {
        const QJsonValue tlsValue = json.value(QStringLiteral("tls"));
        if (!tlsValue.isObject())
            return bad(QStringLiteral("\"tls\" must be an object"));
        const QJsonObject tls = tlsValue.toObject();
        static const QStringList tlsKnown = {QStringLiteral("enabled"),    QStringLiteral("ca_file"),
                                             QStringLiteral("ca_dir"),     QStringLiteral("cert_file"),
                                             QStringLiteral("key_file"),   QStringLiteral("verify"),
                                             QStringLiteral("server_name")};
        for (auto it = tls.begin(); it != tls.end(); ++it) {
            if (!tlsKnown.contains(it.key()))
                return bad(QStringLiteral("unknown key \"tls.%1\"").arg(it.key()));
        }
        for (const char *key : {"enabled", "verify"}) {
            const QJsonValue v = tls.value(QLatin1String(key));
            if (v.isUndefined())
                continue;
            if (!v.isBool())
                return bad(QStringLiteral("\"tls.%1\" must be true or false").arg(QLatin1String(key)));
            (qstrcmp(key, "enabled") == 0 ? config.tls.enabled : config.tls.verifyPeer) = v.toBool();
        }
        const std::pair<const char *, QString *> files[] = {{"ca_file", &config.tls.caFile},
                                                            {"ca_dir", &config.tls.caDir},
                                                            {"cert_file", &config.tls.certFile},
                                                            {"key_file", &config.tls.keyFile},
                                                            {"server_name", &config.tls.serverName}};
        for (const auto &[key, target] : files) {
            const QJsonValue v = tls.value(QLatin1String(key));
            if (v.isUndefined())
                continue;
            if (!v.isString())
                return bad(QStringLiteral("\"tls.%1\" must be a string").arg(QLatin1String(key)));
            *target = v.toString();
        }
    }
    if (config.transport == Transport::Tcp && config.host.isEmpty())
        return bad(QStringLiteral("no host given"));
    if (config.transport == Transport::Unix && noSocketPath(config.unixPath))
        return bad(QStringLiteral("no socket path given"));
    if (config.tls.certFile.isEmpty() != config.tls.keyFile.isEmpty())
        return bad(QStringLiteral("a client certificate needs both cert_file and key_file"));
    return config;
}

QString NodeConfig::address() const
{
    if (transport == Transport::Unix)
        return unixPath;
    const bool v6 = host.contains(QLatin1Char(':'));
    return (v6 ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':') +
           QString::number(port);
}

QString NodeConfig::label() const
{
    return name.isEmpty() ? address() : name;
}

QString NodeConfig::toUrl(bool includeSecrets) const
{
    QUrlQuery query;
    // QUrlQuery takes a value as already encoded: a '%' in it would be read back as the start of
    // an escape ("%40/c.pem" as "@/c.pem"), so it is encoded first.
    const auto addOption = [&query](const QString &key, QString value) {
        query.addQueryItem(key, value.replace(QLatin1Char('%'), QLatin1String("%25")));
    };
    QUrl url;
    if (transport == Transport::Unix) {
        url.setScheme(QStringLiteral("unix"));
        // An absolute path with an empty authority, "unix:///path" as documented above: without
        // one, QUrl cannot write a path that starts with "//" (it would read as an authority) and
        // gives "". A relative path (from unix_path, or "unix:run/r.sock") cannot have one.
        if (unixPath.startsWith(QLatin1Char('/')))
            url.setAuthority(QStringLiteral(""));
        url.setPath(unixPath);
        if (db != 0)
            addOption(QStringLiteral("db"), QString::number(db));
        if (!username.isEmpty())
            addOption(QStringLiteral("user"), username);
        if (!password.isEmpty())
            addOption(QStringLiteral("password"), includeSecrets ? password : QStringLiteral("***"));
    } else {
        url.setScheme(tls.enabled ? QStringLiteral("rediss") : QStringLiteral("redis"));
        url.setHost(host);
        url.setPort(port);
        // "redis://user@host" reads back as the password-only form, so a user without a
        // password goes in the query.
        if (!username.isEmpty() && password.isEmpty())
            addOption(QStringLiteral("user"), username);
        else if (!username.isEmpty())
            url.setUserName(username);
        if (!password.isEmpty())
            url.setPassword(includeSecrets ? password : QStringLiteral("***"));
        if (db != 0)
            url.setPath(QLatin1Char('/') + QString::number(db));
        if (tls.enabled) {
            if (!tls.caFile.isEmpty())
                addOption(QStringLiteral("ca"), tls.caFile);
            if (!tls.caDir.isEmpty())
                addOption(QStringLiteral("capath"), tls.caDir);
            if (!tls.certFile.isEmpty())
                addOption(QStringLiteral("cert"), tls.certFile);
            if (!tls.keyFile.isEmpty())
                addOption(QStringLiteral("key"), tls.keyFile);
            if (!tls.serverName.isEmpty())
                addOption(QStringLiteral("sni"), tls.serverName);
            if (!tls.verifyPeer)
                addOption(QStringLiteral("verify"), boolText(false));
        }
    }
    if (!name.isEmpty())
        addOption(QStringLiteral("name"), name);
    const NodeConfig defaults;
    if (clientName != defaults.clientName)
        addOption(QStringLiteral("client_name"), clientName);
    if (connectTimeout != defaults.connectTimeout)
        addOption(QStringLiteral("connect_timeout"), formatDuration(connectTimeout));
    if (commandTimeout != defaults.commandTimeout)
        addOption(QStringLiteral("timeout"), formatDuration(commandTimeout));
    if (spin != defaults.spin)
        addOption(QStringLiteral("spin_us"), QString::number(spin.count()));
    if (!query.isEmpty())
        url.setQuery(query);
    return url.toString(QUrl::FullyEncoded);
}

QJsonObject NodeConfig::toJson(bool includeSecrets) const
{
    QJsonObject json;
    if (!name.isEmpty())
        json[QStringLiteral("name")] = name;
    if (transport == Transport::Unix) {
        json[QStringLiteral("unix_path")] = unixPath;
    } else {
        json[QStringLiteral("host")] = host;
        json[QStringLiteral("port")] = port;
    }
    if (db != 0)
        json[QStringLiteral("db")] = db;
    if (!username.isEmpty())
        json[QStringLiteral("username")] = username;
    if (includeSecrets && !password.isEmpty())
        json[QStringLiteral("password")] = password;
    if (tls.enabled || tls != TlsOptions{}) {
        QJsonObject t;
        t[QStringLiteral("enabled")] = tls.enabled;
        t[QStringLiteral("verify")] = tls.verifyPeer;
        const std::pair<const char *, const QString *> files[] = {{"ca_file", &tls.caFile},
                                                                  {"ca_dir", &tls.caDir},
                                                                  {"cert_file", &tls.certFile},
                                                                  {"key_file", &tls.keyFile},
                                                                  {"server_name", &tls.serverName}};
        for (const auto &[key, value] : files) {
            if (!value->isEmpty())
                t[QLatin1String(key)] = *value;
        }
        json[QStringLiteral("tls")] = t;
    }
    json[QStringLiteral("client_name")] = clientName;
    json[QStringLiteral("connect_timeout_ms")] = static_cast<qint64>(connectTimeout.count());
    json[QStringLiteral("command_timeout_ms")] = static_cast<qint64>(commandTimeout.count());
    json[QStringLiteral("spin_us")] = static_cast<qint64>(spin.count());
    return json;
}

namespace {

/// A host as sameServer() compares it: lower case, without the brackets of an IPv6 literal or the
/// trailing dot of a fully qualified name, IP literals in their canonical form, and localhost,
/// 127.0.0.1 and ::1 (in any spelling, IPv4-mapped included) as one loopback name. inet_pton only
/// parses text: nothing is looked up.
QString normalisedHost(const QString &host)
{
    QString h = host.trimmed().toLower();
    if (h.size() >= 2 && h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    if (h.size() > 1 && h.endsWith(QLatin1Char('.')))
        h.chop(1);
    if (h == u"localhost")
        return h;
    const QByteArray latin = h.toLatin1();
    in_addr v4{};
    if (inet_pton(AF_INET, latin.constData(), &v4) == 1)
        return ntohl(v4.s_addr) == INADDR_LOOPBACK ? QStringLiteral("localhost") : h;
    in6_addr v6{};
    if (inet_pton(AF_INET6, latin.constData(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6))
            return QStringLiteral("localhost");
        char text[INET6_ADDRSTRLEN] = {};
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {
            // ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket.
            std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
            if (ntohl(v4.s_addr) == INADDR_LOOPBACK)
                return QStringLiteral("localhost");
            inet_ntop(AF_INET, &v4, text, sizeof text);
        } else {
            inet_ntop(AF_INET6, &v6, text, sizeof text);
        }
        return QString::fromLatin1(text);
    }
    return h;
}

/// Equal for two configs exactly when sameServer() holds.
QString serverKey(const NodeConfig &c)
{
    if (c.transport == NodeConfig::Transport::Unix)
        // cleanPath is lexical ("/run//redis.sock", "/run/./redis.sock"): no symlink is followed.
        return QStringLiteral("unix %1 %2").arg(c.db).arg(QDir::cleanPath(c.unixPath));
    // TLS or not, one host:port is one server: Redis never serves both on one port.
    return QStringLiteral("tcp %1 %2 %3").arg(c.db).arg(c.port).arg(normalisedHost(c.host));
}

} // namespace

bool sameServer(const NodeConfig &a, const NodeConfig &b)
{
    if (a.transport != b.transport || a.db != b.db)
        return false;
    if (a.transport == NodeConfig::Transport::Tcp && a.port != b.port)
        return false;
    return serverKey(a) == serverKey(b);
}

std::optional<std::pair<int, int>> findDuplicateNodes(const std::vector<NodeConfig> &nodes)
{
    // One hash lookup per node: groups files and --nodes lists may hold thousands of nodes.
    QHash<QString, int> seen;
    seen.reserve(static_cast<qsizetype>(nodes.size()));
    for (int second = 0; second < static_cast<int>(nodes.size()); ++second) {
        const QString key = serverKey(nodes[static_cast<size_t>(second)]);
        if (const auto it = seen.constFind(key); it != seen.cend())
            return std::pair{it.value(), second};
        seen.insert(key, second);
    }
    return std::nullopt;
}

} // namespace lockscope::redis
