#pragma once

#include "backgroundjob.h"
#include "eventlogwidget.h"
#include "inspect/nodegroup.h"

#include <QList>
#include <QObject>
#include <QStringList>
#include <functional>

class QThreadPool;
class QWidget;

namespace lockscope::inspect {
class SecretStore;
}

/// Asks for the password of a node that refused us ("asked at connect"): once per node and
/// session (a cancelled prompt is not repeated), one prompt at a time, each window-modal on
/// `window`. An answer goes to the SecretStore on `pool` (the keychain may take a while), and
/// answered() says to connect again.
class PasswordAsker : public QObject
{
    Q_OBJECT

public:
    /// A prompt to show: node `node` of group `group`, and why it is asked.
    struct Request
    {
        QString group;
        int node = 0;
        QString why;
    };

    /// `window` parents the prompts and this object; `pool` outlives it.
    PasswordAsker(QWidget *window, QThreadPool *pool);

    /// Where passwords go; nothing is asked without one. Not owned.
    void setStore(lockscope::inspect::SecretStore *store) { m_secrets = store; }
    /// The groups as configured and as they run (with the store's passwords): a refusal after
    /// a password was sent says so in red, a first request does not.
    void setGroups(const lockscope::inspect::GroupConfig &plain,
                   const lockscope::inspect::GroupConfig &resolved);
    /// Fills in the passwords `config` lacks from the store (keychain, else this session's
    /// answers) on the pool, since a keychain may take a while; then, on this object's thread:
    /// says what the store reported, calls `apply` with the groups as they will run, and asks
    /// for the passwords still missing. A later resolve() makes an earlier one's result stale:
    /// it is dropped, `apply` is not called. Without a store, `apply(config)` at once.
    void resolve(const lockscope::inspect::GroupConfig &config,
                 std::function<void(const lockscope::inspect::GroupConfig &)> apply);
    /// Asks for node `node` of `group` unless it was asked already in this session.
    void ask(const QString &group, int node, const QString &why = {});
    /// Asks again where a password fails (the operator edited the connections).
    void forgetAsked();

signals:
    /// A password was given: connect again (the store now answers for that node).
    void answered();
    /// A line for the event log.
    void message(EventLogWidget::Kind kind, const QString &node, const QString &text);

private:
    void askNext();

    QWidget *m_window;
    QThreadPool *m_pool;
    lockscope::inspect::SecretStore *m_secrets = nullptr;
    lockscope::inspect::GroupConfig m_plainConfig;
    lockscope::inspect::GroupConfig m_config;
    QList<Request> m_prompts;
    QStringList m_askedKeys; ///< secret keys asked for in this session
    bool m_prompting = false;
    JobTracker m_resolves; ///< drops the result of a resolve() that a later one replaced
};
