#include "script.h"

#include <QCryptographicHash>

namespace lockscope::redis {

Script::Script(QByteArray source)
    : m_source(std::move(source)),
      m_sha1(QCryptographicHash::hash(m_source, QCryptographicHash::Sha1).toHex())
{}

std::vector<QByteArray> Script::evalshaCommand(std::span<const QByteArray> keys,
                                               std::span<const QByteArray> args) const
{
    std::vector<QByteArray> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.emplace_back(QByteArrayLiteral("EVALSHA"));
    argv.push_back(m_sha1);
    argv.push_back(QByteArray::number(static_cast<qulonglong>(keys.size())));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

} // namespace lockscope::redis
