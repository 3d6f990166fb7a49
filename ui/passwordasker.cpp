#include "passwordasker.h"

#include "backgroundjob.h"
#include "dialogs/passwordprompt.h"
#include "inspect/secretstore.h"

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
using lockscope::redis::NodeConfig;

namespace {

/// What the store gave for a configuration.
struct Resolved
{
    GroupConfig config;
    QList<PasswordAsker::Request> missing;
    QStringList errors;
};

} // namespace

PasswordAsker::PasswordAsker(QWidget *window, QThreadPool *pool)
    : QObject(window), m_window(window), m_pool(pool)
{}

void PasswordAsker::setGroups(const GroupConfig &plain, const GroupConfig &resolved)
{
    m_plainConfig = plain;
    m_config = resolved;
}

void PasswordAsker::forgetAsked()
{
    m_askedKeys.clear();
}

void PasswordAsker::ask(const QString &group, int node, const QString &why)
{
    const NodeGroup *g = m_plainConfig.group(group);
    if (!g || !m_secrets || node < 0 || node >= int(g->nodes.size()))
        return;
    const QString key = lockscope::inspect::secretKey(group, g->nodes[size_t(node)].config);
    if (m_askedKeys.contains(key))
        return;
    m_askedKeys << key;
    m_prompts.append({group, node, why});
    askNext();
}

void PasswordAsker::askNext()
{
    if (m_prompting || m_prompts.isEmpty())
        return;
    const Request next = m_prompts.takeFirst();
    const NodeGroup *g = m_plainConfig.group(next.group);
    if (!g || next.node >= int(g->nodes.size())) {
        askNext();
        return;
    }
    const NodeConfig node = g->nodes[size_t(next.node)].config;
    m_prompting = true;
    auto *prompt = new PasswordPrompt(next.group, node.label(), m_secrets->persistent(), m_window);
    prompt->setAttribute(Qt::WA_DeleteOnClose);
    // Red only when a password was sent and refused; a node that asks for one before anything
    // was typed is no error of the operator's.
    bool sent = false;
    if (const NodeGroup *resolved = m_config.group(next.group);
        resolved && next.node < int(resolved->nodes.size()))
        sent = !resolved->nodes[size_t(next.node)].config.password.isEmpty();
    if (!next.why.isEmpty()) {
        if (sent)
            prompt->setError(tr("The password was refused: %1").arg(next.why));
        else
            prompt->setReason(tr("The node asks for a password."), next.why);
    }
    connect(prompt, &QDialog::finished, this, [this, prompt, next, node](int result) {
        m_prompting = false;
        if (result == QDialog::Accepted) {
            const QString key = lockscope::inspect::secretKey(next.group, node);
            const QString password = prompt->password();
            const bool remember = prompt->remember();
            lockscope::inspect::SecretStore *store = m_secrets;
            runInBackground(
                m_pool, this,
                [store, key, password, remember] {
                    return PasswordPrompt::storeAnswer(*store, key, password, remember);
                },
                [this, node](const auto &stored) {
                    if (!stored)
                        emit message(EventLogWidget::Kind::Error, node.label(),
                                     tr("The password could not be stored: %1").arg(stored.error()));
                    // Connect again with it (the store now answers for this node).
                    emit answered();
                });
        } else {
            emit message(
                EventLogWidget::Kind::Info, node.label(),
                tr("No password given; the node stays unreachable until you add one in Connections"));
        }
        askNext();
    });
    prompt->open();
}

void PasswordAsker::resolve(const GroupConfig &config, std::function<void(const GroupConfig &)> apply)
{
    const quint64 generation = m_resolves.start();
    if (!m_secrets) {
        apply(config);
        return;
    }
    lockscope::inspect::SecretStore *store = m_secrets;
    runInBackground(
        m_pool, this,
        [config, store] {
            Resolved resolved;
            for (const NodeGroup &group : config.groups) {
                auto resolution = lockscope::inspect::resolveCredentials(group, store);
                for (const int node : resolution.missing)
                    resolved.missing.append(
                        {group.name, node, tr("This node has an ACL user but no password")});
                resolved.errors << resolution.storeErrors;
                resolved.config.groups.push_back(std::move(resolution.group));
            }
            return resolved;
        },
        m_resolves.ifCurrent(generation, [this, apply = std::move(apply)](const Resolved &resolved) {
            for (const QString &error : resolved.errors)
                emit message(EventLogWidget::Kind::Info, QString(), tr("Password store: %1").arg(error));
            apply(resolved.config);
            for (const Request &prompt : resolved.missing)
                ask(prompt.group, prompt.node, prompt.why);
        }));
}
