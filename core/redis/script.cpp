#include "script.h"

#include <QCryptographicHash>

namespace lockscope::redis {

Script::Script(QByteArray source)
    : m_source(std::move(source)),
      m_sha1(QCryptographicHash::hash(m_source, QCryptographicHash::Sha1).toHex())
{}

} // namespace lockscope::redis
