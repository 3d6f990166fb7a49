#pragma once

#include "inspect/nodegroup.h"
#include "redis/rediserror.h"

#include <QHash>
#include <QMutex>
#include <QString>
#include <QStringList>
#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <vector>

namespace lockscope::inspect {

/// The key a node's password is stored under: "<group>/<user>@<address>/<db>", e.g.
/// "payments/ops@10.0.0.5:6379/0" ("default" when the node has no ACL user). It never contains
/// the password, and it is stable across runs as long as the group name, user, address and db
/// stay the same.
QString secretKey(const QString &group, const redis::NodeConfig &node);

/// Where node passwords live. The groups file never holds them (see GroupConfig); a store does.
///
/// Every call is synchronous and thread-safe: any thread may call it, with or without an event
/// loop. A store that needs a backend (the system keychain) answers within a bounded time.
class SecretStore
{
public:
    virtual ~SecretStore();

    /// True when the store works. A keychain probes its backend once, within its timeout.
    virtual bool available() = 0;
    /// Why the store is not available (empty when it is), for the UI and lockctl.
    virtual QString unavailableReason() = 0;
    /// True when stored passwords outlive the process (a keychain), false for a session cache.
    virtual bool persistent() const = 0;
    /// Human-readable name of where passwords go ("the system keychain", "this session").
    virtual QString description() const = 0;

    /// The password stored under `key`, nullopt when there is none; an error when the store
    /// cannot answer.
    virtual std::expected<std::optional<QString>, QString> read(const QString &key) = 0;
    virtual std::expected<void, QString> write(const QString &key, const QString &password) = 0;
    /// Removing a key that holds nothing is not an error.
    virtual std::expected<void, QString> remove(const QString &key) = 0;
};

/// Passwords kept in memory for the life of the process, never on disk: the answers given "at
/// connect" when no keychain is available.
class MemorySecretStore final : public SecretStore
{
public:
    bool available() override { return true; }
    QString unavailableReason() override { return {}; }
    bool persistent() const override { return false; }
    QString description() const override;
    std::expected<std::optional<QString>, QString> read(const QString &key) override;
    std::expected<void, QString> write(const QString &key, const QString &password) override;
    std::expected<void, QString> remove(const QString &key) override;

private:
    QMutex m_mutex;
    QHash<QString, QString> m_passwords;
};

/// The system keychain through QtKeychain (Secret Service / KWallet on Linux, Keychain on
/// macOS, Credential Store on Windows), service name "lockscope".
///
/// QtKeychain's jobs are asynchronous QObjects and its job queue is a process-wide singleton
/// that is not thread-safe, so every job of every KeychainSecretStore runs on one process-wide
/// thread with its own event loop; callers wait for the answer with a timeout. A backend that
/// does not answer in time (no D-Bus session, a keyring waiting for an unlock prompt) makes the
/// store unavailable for the rest of the process instead of blocking every later call.
/// Requires a QCoreApplication.
class KeychainSecretStore final : public SecretStore
{
public:
    static constexpr char kService[] = "lockscope";

    explicit KeychainSecretStore(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                 QString service = QString::fromLatin1(kService));
    ~KeychainSecretStore() override;

    bool available() override;
    QString unavailableReason() override;
    bool persistent() const override { return true; }
    QString description() const override;
    std::expected<std::optional<QString>, QString> read(const QString &key) override;
    std::expected<void, QString> write(const QString &key, const QString &password) override;
    std::expected<void, QString> remove(const QString &key) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/// The store the app and lockctl use: a session cache in front of an optional persistent store.
/// Reads look in the session first, then in the persistent store (caching what they find);
/// writes go to the persistent store when it is available, and always to the session. With no
/// working keychain it degrades to a MemorySecretStore: passwords given at connect are kept for
/// the session only.
class SessionSecretStore final : public SecretStore
{
public:
    explicit SessionSecretStore(std::unique_ptr<SecretStore> persistent = nullptr);

    bool available() override { return true; }
    QString unavailableReason() override { return {}; }
    /// True when writes reach a working persistent store.
    bool persistent() const override;
    QString description() const override;
    std::expected<std::optional<QString>, QString> read(const QString &key) override;
    /// Keychain when available (its error is returned, the session copy is kept anyway).
    std::expected<void, QString> write(const QString &key, const QString &password) override;
    std::expected<void, QString> remove(const QString &key) override;

    /// Keeps a password for this session only (a "don't remember" answer at connect).
    void keepForSession(const QString &key, const QString &password);
    /// The persistent store, or null.
    SecretStore *persistentStore() const { return m_persistent.get(); }
    /// Why the persistent store is not used (empty when it is).
    QString persistentUnavailableReason() const;

private:
    MemorySecretStore m_session;
    std::unique_ptr<SecretStore> m_persistent;
};

/// Result of filling a group's passwords from a store before connecting.
struct CredentialResolution
{
    NodeGroup group;            ///< the group, with passwords filled in from the store
    std::vector<int> fromStore; ///< indexes of nodes whose password came from the store
    std::vector<int> missing;   ///< nodes with an ACL user but no password anywhere: ask
    std::vector<int> anonymous; ///< no user and no password: connect, and ask on AuthFailed
    QStringList storeErrors;    ///< the store failing to answer (never fatal), naming the node
};

/// Fills the password of every node of `group` that has none in its configuration from `store`
/// (null: no store), and reports which nodes still need one. Nothing is contacted.
CredentialResolution resolveCredentials(const NodeGroup &group, SecretStore *store);

/// True when a connection failed because the node wants a (different) password: NOAUTH,
/// WRONGPASS or an AUTH rejection.
bool needsPassword(const redis::RedisError &error);

} // namespace lockscope::inspect
