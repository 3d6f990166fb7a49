#include "secretstore.h"

#include "util/logging.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QMutexLocker>
#include <QThread>
#include <condition_variable>
#include <mutex>
#include <qt6keychain/keychain.h>

namespace lockscope::inspect {

QString secretKey(const QString &group, const redis::NodeConfig &node)
{
    return QStringLiteral("%1/%2@%3/%4")
        .arg(group, node.username.isEmpty() ? QStringLiteral("default") : node.username, node.address())
        .arg(node.db);
}

SecretStore::~SecretStore() = default;

// --- MemorySecretStore ----------------------------------------------------------------------

QString MemorySecretStore::description() const
{
    return QStringLiteral("this session only (never written to disk)");
}

std::expected<std::optional<QString>, QString> MemorySecretStore::read(const QString &key)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_passwords.constFind(key);
    if (it == m_passwords.cend())
        return std::optional<QString>();
    return std::optional<QString>(*it);
}

std::expected<void, QString> MemorySecretStore::write(const QString &key, const QString &password)
{
    QMutexLocker lock(&m_mutex);
    m_passwords.insert(key, password);
    return {};
}

std::expected<void, QString> MemorySecretStore::remove(const QString &key)
{
    QMutexLocker lock(&m_mutex);
    m_passwords.remove(key);
    return {};
}

// --- KeychainSecretStore --------------------------------------------------------------------

namespace {

/// The one thread every QtKeychain job of the process runs on. QtKeychain queues jobs in a
/// singleton that lives on the thread of the first job and is not thread-safe; a job started
/// on a thread without a running event loop would never finish, and a job finished on another
/// thread would leave that singleton's queue stuck. One thread with its own loop avoids both.
class KeychainThread
{
public:
    static KeychainThread *instance()
    {
        static std::mutex mutex;
        std::lock_guard lock(mutex);
        if (!s_instance) {
            if (!QCoreApplication::instance())
                return nullptr;
            s_instance = new KeychainThread;
            qAddPostRoutine(&KeychainThread::shutdown);
        }
        return s_instance;
    }

    QObject *context() const { return m_context; }

    /// Set when a job did not finish in time: QtKeychain runs one job at a time, so every later
    /// job would queue behind it forever. Returns the reason, empty while not wedged.
    QString wedgedReason() const
    {
        std::lock_guard lock(m_wedgedMutex);
        return m_wedgedReason;
    }
    void setWedged(const QString &reason)
    {
        std::lock_guard lock(m_wedgedMutex);
        if (m_wedgedReason.isEmpty())
            m_wedgedReason = reason;
    }

private:
    KeychainThread()
    {
        m_thread = new QThread;
        m_thread->setObjectName(QStringLiteral("lockscope-keychain"));
        m_context = new QObject;
        m_context->moveToThread(m_thread);
        QObject::connect(m_thread, &QThread::finished, m_context, &QObject::deleteLater);
        m_thread->start();
    }

    static void shutdown()
    {
        KeychainThread *self = s_instance;
        s_instance = nullptr;
        if (!self)
            return;
        self->m_thread->quit();
        // A backend call stuck inside the thread (not just a pending D-Bus reply) would block
        // the quit; then the thread is left to the process exit rather than waited on forever.
        if (self->m_thread->wait(2000))
            delete self->m_thread;
        delete self;
    }

    static inline KeychainThread *s_instance = nullptr;
    QThread *m_thread = nullptr;
    QObject *m_context = nullptr;
    mutable std::mutex m_wedgedMutex;
    QString m_wedgedReason;
};

struct JobAnswer
{
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    QKeychain::Error error = QKeychain::NoError;
    QString errorString;
    QString data;
};

enum class JobKind
{
    Read,
    Write,
    Remove
};

} // namespace

struct KeychainSecretStore::Private
{
    std::chrono::milliseconds timeout;
    QString service;
    QMutex mutex;
    std::optional<bool> available;
    QString reason;

    std::expected<std::shared_ptr<JobAnswer>, QString> run(JobKind kind, const QString &key,
                                                           const QString &password = {});
    bool probe();
};

std::expected<std::shared_ptr<JobAnswer>, QString>
KeychainSecretStore::Private::run(JobKind kind, const QString &key, const QString &password)
{
    KeychainThread *thread = KeychainThread::instance();
    if (!thread)
        return std::unexpected(QStringLiteral("the keychain needs a running application object"));
    if (const QString wedged = thread->wedgedReason(); !wedged.isEmpty())
        return std::unexpected(wedged);
    auto answer = std::make_shared<JobAnswer>();
    const QString serviceName = service;
    QMetaObject::invokeMethod(
        thread->context(),
        [answer, kind, key, password, serviceName] {
            QKeychain::Job *job = nullptr;
            switch (kind) {
            case JobKind::Read:
                job = new QKeychain::ReadPasswordJob(serviceName);
                break;
            case JobKind::Write: {
                auto *write = new QKeychain::WritePasswordJob(serviceName);
                write->setTextData(password);
                job = write;
                break;
            }
            case JobKind::Remove:
                job = new QKeychain::DeletePasswordJob(serviceName);
                break;
            }
            job->setAutoDelete(true);
            job->setInsecureFallback(false); // never a plain-text file in place of a keychain
            job->setKey(key);
            QObject::connect(job, &QKeychain::Job::finished, job, [answer](QKeychain::Job *finished) {
                std::lock_guard lock(answer->mutex);
                answer->error = finished->error();
                answer->errorString = finished->errorString();
                if (auto *read = qobject_cast<QKeychain::ReadPasswordJob *>(finished))
                    answer->data = read->textData();
                answer->finished = true;
                answer->done.notify_all();
            });
            job->start();
        },
        Qt::QueuedConnection);
    std::unique_lock lock(answer->mutex);
    if (!answer->done.wait_for(lock, timeout, [&] { return answer->finished; })) {
        thread->setWedged(
            QStringLiteral("the system keychain did not answer within %1 ms (is the keyring locked, "
                           "or waiting for an unlock prompt?)")
                .arg(timeout.count()));
        qCDebug(lcSecrets) << thread->wedgedReason();
        return std::unexpected(thread->wedgedReason());
    }
    return answer;
}

bool KeychainSecretStore::Private::probe()
{
    // Reading a key that is never written tells whether a backend answers at all: "not found"
    // means it works.
    auto answer = run(JobKind::Read, QStringLiteral("lockscope-availability-probe"));
    if (!answer) {
        reason = answer.error();
        return false;
    }
    const std::shared_ptr<JobAnswer> &a = *answer;
    if (a->error == QKeychain::NoError || a->error == QKeychain::EntryNotFound)
        return true;
    if (a->error == QKeychain::NoBackendAvailable)
        reason = QStringLiteral("no system keychain is running (no Secret Service or KWallet on the "
                                "D-Bus session bus): %1")
                     .arg(a->errorString);
    else
        reason = QStringLiteral("the system keychain is not usable: %1").arg(a->errorString);
    // Debug only: without a keychain this is the normal case on servers, and callers report it.
    qCDebug(lcSecrets) << "keychain unavailable:" << reason;
    return false;
}

KeychainSecretStore::KeychainSecretStore(std::chrono::milliseconds timeout, QString service)
    : d(std::make_unique<Private>())
{
    d->timeout = timeout;
    d->service = std::move(service);
}

KeychainSecretStore::~KeychainSecretStore() = default;

bool KeychainSecretStore::available()
{
    QMutexLocker lock(&d->mutex);
    if (!d->available)
        d->available = d->probe();
    if (*d->available) {
        if (KeychainThread *thread = KeychainThread::instance();
            thread && !thread->wedgedReason().isEmpty()) {
            d->available = false;
            d->reason = thread->wedgedReason();
        }
    }
    return *d->available;
}

QString KeychainSecretStore::unavailableReason()
{
    if (available())
        return {};
    QMutexLocker lock(&d->mutex);
    return d->reason;
}

QString KeychainSecretStore::description() const
{
    return QStringLiteral("the system keychain");
}

std::expected<std::optional<QString>, QString> KeychainSecretStore::read(const QString &key)
{
    if (!available())
        return std::unexpected(unavailableReason());
    auto answer = d->run(JobKind::Read, key);
    if (!answer)
        return std::unexpected(answer.error());
    const std::shared_ptr<JobAnswer> &a = *answer;
    if (a->error == QKeychain::EntryNotFound)
        return std::optional<QString>();
    if (a->error != QKeychain::NoError)
        return std::unexpected(QStringLiteral("keychain: %1").arg(a->errorString));
    return std::optional<QString>(a->data);
}

std::expected<void, QString> KeychainSecretStore::write(const QString &key, const QString &password)
{
    if (!available())
        return std::unexpected(unavailableReason());
    auto answer = d->run(JobKind::Write, key, password);
    if (!answer)
        return std::unexpected(answer.error());
    if ((*answer)->error != QKeychain::NoError)
        return std::unexpected(QStringLiteral("keychain: %1").arg((*answer)->errorString));
    return {};
}

std::expected<void, QString> KeychainSecretStore::remove(const QString &key)
{
    if (!available())
        return std::unexpected(unavailableReason());
    auto answer = d->run(JobKind::Remove, key);
    if (!answer)
        return std::unexpected(answer.error());
    const QKeychain::Error error = (*answer)->error;
    if (error != QKeychain::NoError && error != QKeychain::EntryNotFound)
        return std::unexpected(QStringLiteral("keychain: %1").arg((*answer)->errorString));
    return {};
}

// --- SessionSecretStore ---------------------------------------------------------------------

SessionSecretStore::SessionSecretStore(std::unique_ptr<SecretStore> persistent)
    : m_persistent(std::move(persistent))
{}

bool SessionSecretStore::persistent() const
{
    return m_persistent && m_persistent->available();
}

QString SessionSecretStore::description() const
{
    return persistent() ? m_persistent->description() : m_session.description();
}

QString SessionSecretStore::persistentUnavailableReason() const
{
    if (!m_persistent)
        return QStringLiteral("no keychain is configured");
    return m_persistent->unavailableReason();
}

std::expected<std::optional<QString>, QString> SessionSecretStore::read(const QString &key)
{
    if (auto cached = m_session.read(key); cached && *cached)
        return cached;
    if (!persistent())
        return std::optional<QString>();
    auto stored = m_persistent->read(key);
    if (stored && *stored)
        m_session.write(key, **stored);
    return stored;
}

std::expected<void, QString> SessionSecretStore::write(const QString &key, const QString &password)
{
    m_session.write(key, password);
    if (!persistent())
        return {};
    return m_persistent->write(key, password);
}

std::expected<void, QString> SessionSecretStore::remove(const QString &key)
{
    m_session.remove(key);
    if (!persistent())
        return {};
    return m_persistent->remove(key);
}

void SessionSecretStore::keepForSession(const QString &key, const QString &password)
{
    m_session.write(key, password);
}

// --- resolution -----------------------------------------------------------------------------

CredentialResolution resolveCredentials(const NodeGroup &group, SecretStore *store)
{
    CredentialResolution resolution;
    resolution.group = group;
    for (int i = 0; i < static_cast<int>(resolution.group.nodes.size()); ++i) {
        redis::NodeConfig &node = resolution.group.nodes[static_cast<std::size_t>(i)].config;
        if (!node.password.isEmpty())
            continue;
        if (store) {
            auto stored = store->read(secretKey(group.name, node));
            if (!stored) {
                resolution.storeErrors << QStringLiteral("%1: %2").arg(node.label(), stored.error());
            } else if (*stored && !(*stored)->isEmpty()) {
                node.password = **stored;
                resolution.fromStore.push_back(i);
                continue;
            }
        }
        if (!node.username.isEmpty())
            resolution.missing.push_back(i);
        else
            resolution.anonymous.push_back(i);
    }
    return resolution;
}

bool needsPassword(const redis::RedisError &error)
{
    return error.kind == redis::ErrorKind::AuthFailed;
}

} // namespace lockscope::inspect
