#pragma once

#include "rediserror.h"

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace lockscope::redis {

/// The URL as typed with every password hidden ("redis://user:***@host", "redis://***@host",
/// "?password=***"), also when it does not parse: what errors, logs and the GUI show of a URL.
QString redactUrl(const QString &url);

struct TlsOptions
{
    bool enabled = false;
    QString caFile;         ///< PEM bundle of trusted CAs; empty = system default paths
    QString caDir;          ///< hashed directory of trusted CAs (c_rehash layout)
    QString certFile;       ///< client certificate (PEM, may hold a chain)
    QString keyFile;        ///< client private key (PEM)
    bool verifyPeer = true; ///< verify the server certificate chain and host name
    QString serverName;     ///< SNI and the name verified; empty = the host

    bool operator==(const TlsOptions &) const = default;
};

/// Everything needed to reach one Redis node. Parsed from a URL or JSON:
///
///   redis://[user[:password]@]host[:port][/db][?option=value&...]
///   rediss://...                       (TLS)
///   unix:///path/to/redis.sock[?db=N&user=U&password=P&...]
///
/// Options: name, db, user, password, client_name, connect_timeout, timeout (durations like
/// 500ms / 2s), spin_us (microseconds), and for rediss://: ca (file), capath (directory), cert, key, sni,
/// verify (1/0, true/false; default on). Unknown options are an error, so a typo never
/// silently weakens TLS.
struct NodeConfig
{
    enum class Transport
    {
        Tcp,
        Unix
    };

    QString name; ///< display name; empty = host:port or the socket path
    Transport transport = Transport::Tcp;
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString unixPath;
    int db = 0;
    QString username; ///< ACL user; empty = "default" (AUTH with password only)
    QString password;
    TlsOptions tls;
    std::chrono::milliseconds connectTimeout{2000};
    std::chrono::milliseconds commandTimeout{2000};
    /// How long a thread waiting for a reply busy-polls the socket before it sleeps in the
    /// kernel (URL option spin_us). On virtual machines an idle vCPU takes tens of
    /// microseconds to wake up, which is most of a loopback round trip; a short spin avoids
    /// it. Process-wide at most (cores - 1) threads spin at once, so contending threads never
    /// starve the server of CPU. 0 = never spin.
    std::chrono::microseconds spin{50};
    QString clientName = QStringLiteral("lockscope"); ///< CLIENT SETNAME; empty = skip
    /// The operator's guard (a group node's read_only): LockScope never writes to this node.
    /// Every write path in core refuses it before anything is sent: the Locker (acquire,
    /// extend, release), the admin actions, the simulator and the lock benchmark. Not part of
    /// the URL; node groups set it from their `read_only` flag.
    bool readOnly = false;
    /// The operator's other guard (a group node's production flag): writes and faults against
    /// this node must be confirmed by the caller (lockctl --yes, a dialog in the app). Carried
    /// here so that it reaches every command; core itself does not ask.
    bool production = false;

    static Result<NodeConfig> fromUrl(const QString &url);
    static Result<NodeConfig> fromJson(const QJsonObject &json);

    /// URL form. The password is replaced by "***" unless includeSecrets.
    QString toUrl(bool includeSecrets = false) const;
    /// JSON form (keys as in fromJson). The password is left out unless includeSecrets.
    QJsonObject toJson(bool includeSecrets = false) const;

    /// The name shown in errors, logs and lists: name, else host:port, else the socket path.
    QString label() const;
    /// host:port or unix path, without user, password or options.
    QString address() const;

    bool operator==(const NodeConfig &) const = default;
};

/// True when both configs address the same server and database: the same host and port and db
/// for TCP/TLS, or the same unix socket path (compared lexically, after QDir::cleanPath) and db.
/// Credentials, names, TLS settings and timeouts do not matter: they change how a client talks
/// to the server, not which server it is.
///
/// Hosts are compared by spelling, resolving nothing (no DNS, no network): case-insensitively,
/// without IPv6 brackets or a trailing dot, IP literals in canonical form (`2001:DB8:0::1` is
/// `2001:db8::1`, `::ffff:10.0.0.5` is `10.0.0.5`). The loopback names `localhost`, `127.0.0.1`
/// and `::1` count as one host: Redis binds `127.0.0.1 -::1` by default and `localhost` may
/// resolve to either, so one server answers on all three and would otherwise vote twice. Other
/// 127.x.y.z addresses are their own hosts (distinct servers may bind 127.0.0.1 and 127.0.0.2 on
/// one port), and a host name and its address still count as different: catching those needs the
/// servers themselves (their run_id, compared at connect).
bool sameServer(const NodeConfig &a, const NodeConfig &b);

/// The first pair of configs that address the same server (sameServer()); nullopt when all
/// differ. Indices are 0-based, first < second: the first entry that repeats an earlier one, and
/// the earliest entry it repeats. A Redlock set that lists a server twice lets that one server
/// cast two votes, so its quorum can rest on a single failure domain.
///
/// Linear in the number of nodes (one hash lookup each).
std::optional<std::pair<int, int>> findDuplicateNodes(const std::vector<NodeConfig> &nodes);

} // namespace lockscope::redis

Q_DECLARE_METATYPE(lockscope::redis::NodeConfig)
