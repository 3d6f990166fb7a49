#pragma once

#include "rediserror.h"

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <chrono>

namespace lockscope::redis {

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

} // namespace lockscope::redis

Q_DECLARE_METATYPE(lockscope::redis::NodeConfig)
