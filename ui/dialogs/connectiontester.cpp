#include "connectiontester.h"

#include "models/nodelistmodel.h"
#include "themecolors.h"
#include "uilogging.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <inspect/secretstore.h>
#include <redis/connection.h>
#include <util/duration.h>

using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

ConnectionTester::ConnectionTester(QWidget *parent) : QWidget(parent)
{
    m_button = new QPushButton(tr("Test connection"));
    m_button->setObjectName(QStringLiteral("testButton"));
    m_button->setEnabled(false);
    m_result = new QLabel;
    m_result->setObjectName(QStringLiteral("testResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(9, 0, 9, 0);
    layout->addWidget(m_button, 0, Qt::AlignTop);
    layout->addWidget(m_result, 1);
    connect(m_button, &QPushButton::clicked, this, &ConnectionTester::start);
}

void ConnectionTester::setTarget(const std::optional<NodeConfig> &target)
{
    m_target = target;
    m_button->setEnabled(target.has_value());
    if (target && m_shown == target)
        return; // back on the node the line is about: it still holds
    if (!m_shown)
        return;
    // What the line says (or is about to say) is about a node that is not this one any more.
    m_tests.start();
    m_shown.reset();
    m_result->clear();
    theme::setTextColor(m_result, QColor());
}

void ConnectionTester::start()
{
    if (!m_target)
        return;
    const NodeConfig target = *m_target;
    const QString node = target.label();
    m_shown = target;
    theme::setTextColor(m_result, QColor());
    m_result->setText(tr("Connecting to %1…").arg(node));
    // The probe blocks for up to the connect and command timeouts: never on the GUI thread.
    const quint64 generation = m_tests.start();
    runInBackground(
        QThreadPool::globalInstance(), this,
        [target] {
            lockscope::redis::Connection connection(target);
            if (auto connected = connection.connect(); !connected) {
                NodeStatus status;
                status.node = target.label();
                status.error = connected.error();
                return status;
            }
            return lockscope::redis::probeNode(connection);
        },
        m_tests.ifCurrent(generation, [this, node](const NodeStatus &status) { showResult(status, node); }));
}

QString ConnectionTester::resultText(const NodeStatus &status, const QString &node)
{
    if (status.reachable) {
        QStringList parts;
        parts << (status.version.isEmpty() ? tr("Redis (version not permitted)")
                                           : tr("Redis %1").arg(status.version));
        if (!status.role.isEmpty())
            parts << status.role;
        parts << tr("%1 round trip").arg(lockscope::formatLatency(status.latency, QLocale()));
        return tr("✔ %1: %2").arg(node, parts.join(QStringLiteral(", ")));
    }
    QString text =
        tr("✘ %1").arg(status.error ? status.error->toString() : tr("%1: not reachable").arg(node));
    if (status.error && lockscope::inspect::needsPassword(*status.error))
        text += tr(" — check the user and password.");
    return text;
}

void ConnectionTester::showResult(const NodeStatus &status, const QString &node)
{
    const QString text = resultText(status, node);
    theme::setTextColor(m_result, status.reachable ? theme::success(palette()) : theme::danger(palette()));
    m_result->setText(text);
    qCInfo(lcUi) << "connection test:" << text;
}
