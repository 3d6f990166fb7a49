#include "nodepeer.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QProcessEnvironment>
#include <algorithm>

namespace lockscope::test {

namespace {
constexpr int kReplyTimeoutMs = 60000; // generous: node starts slowly on a busy machine
}

NodePeer::~NodePeer()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.write("quit\n");
    m_process.closeWriteChannel();
    if (!m_process.waitForFinished(10000)) {
        m_process.kill();
        m_process.waitForFinished();
    }
}

std::optional<QString> NodePeer::start(const QString &node, const QString &script,
                                       const QStringList &arguments, const QString &modules)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("NODE_PATH"), modules);
    m_process.setProcessEnvironment(environment);
    m_process.start(node, QStringList{script} + arguments);
    if (!m_process.waitForStarted(kReplyTimeoutMs))
        return QStringLiteral("node did not start: %1").arg(m_process.errorString());
    const auto ready = readAnswer();
    if (!ready || !ready->value(QStringLiteral("ready")).toBool())
        return QStringLiteral("the peer did not get ready: %1").arg(describeAnswer(ready));
    m_ready = *ready;
    return std::nullopt;
}

std::expected<QJsonObject, QString> NodePeer::request(const QByteArray &command)
{
    m_process.write(command + '\n');
    return readAnswer();
}

std::expected<QJsonObject, QString> NodePeer::readAnswer()
{
    const QDeadlineTimer deadline(kReplyTimeoutMs);
    while (!m_process.canReadLine()) {
        if (m_process.state() == QProcess::NotRunning || deadline.hasExpired() ||
            !m_process.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())))) {
            if (m_process.canReadLine())
                break;
            return std::unexpected(QStringLiteral("no answer from the node peer (%1); its stderr: %2")
                                       .arg(m_process.state() == QProcess::NotRunning
                                                ? QStringLiteral("it exited")
                                                : QStringLiteral("timed out"),
                                            QString::fromUtf8(m_process.readAllStandardError())));
        }
    }
    const QByteArray line = m_process.readLine();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(line, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::unexpected(
            QStringLiteral("not a JSON object from the peer: %1").arg(QString::fromUtf8(line)));
    return document.object();
}

QString describeAnswer(const std::expected<QJsonObject, QString> &answer)
{
    if (!answer)
        return answer.error();
    return QString::fromUtf8(QJsonDocument(*answer).toJson(QJsonDocument::Compact));
}

} // namespace lockscope::test
