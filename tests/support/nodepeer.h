#pragma once

// A node.js peer (tests/peers/node/*.js) driven over stdin/stdout: one command per line in, one
// JSON object per line out; the first line says {"ready": true, ...}. The peers run the real npm
// libraries (node-redlock, redis-semaphore) so that tests decode what those libraries write.

#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <expected>
#include <optional>

namespace lockscope::test {

class NodePeer
{
public:
    NodePeer() = default;
    NodePeer(const NodePeer &) = delete;
    NodePeer &operator=(const NodePeer &) = delete;
    /// Says "quit" and waits for the peer to exit (kills it after 10 s).
    ~NodePeer();

    /// Runs `node script arguments...` with NODE_PATH = `modules` and waits for its ready line;
    /// why it did not get ready, or nullopt.
    std::optional<QString> start(const QString &node, const QString &script, const QStringList &arguments,
                                 const QString &modules);
    /// The ready line.
    const QJsonObject &ready() const { return m_ready; }

    /// Sends one command; its answer, or why there is none.
    std::expected<QJsonObject, QString> request(const QByteArray &command);

private:
    std::expected<QJsonObject, QString> readAnswer();

    QProcess m_process;
    QJsonObject m_ready;
};

/// An answer on one line for a failure message: the object as compact JSON, or the error.
QString describeAnswer(const std::expected<QJsonObject, QString> &answer);

} // namespace lockscope::test
