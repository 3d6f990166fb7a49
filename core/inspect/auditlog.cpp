// The audit trail of the admin layer: who acts (Operator), one line of the log (AuditEntry) and
// the JSON-lines file it is appended to (AuditLog).

#include "auditlog.h"

#include "util/displaytext.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QSysInfo>
#include <mutex>
#include <pwd.h>
#include <unistd.h>

namespace lockscope::inspect {

namespace {

std::mutex &auditMutex()
{
    static std::mutex mutex;
    return mutex;
}

bool validUtf8(const QByteArray &bytes);

/// Text for a JSON field: the bytes when they are UTF-8, else their displayed form (\xNN; the
/// exact bytes go in the *_base64 field beside it).
QJsonValue bytesJson(const QByteArray &bytes)
{
    return validUtf8(bytes) ? QString::fromUtf8(bytes) : displayText(bytes);
}

bool validUtf8(const QByteArray &bytes)
{
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

} // namespace

Operator Operator::current()
{
    Operator who;
    who.name = qEnvironmentVariable("USER");
    if (who.name.isEmpty()) {
        if (const passwd *entry = getpwuid(getuid()); entry && entry->pw_name)
            who.name = QString::fromLocal8Bit(entry->pw_name);
    }
    if (who.name.isEmpty())
        who.name = QStringLiteral("uid-%1").arg(getuid());
    who.host = QSysInfo::machineHostName();
    return who;
}

QString Operator::label(const QString &note) const
{
    QString text = QStringLiteral("operator %1@%2").arg(name, host);
    if (!note.isEmpty())
        text += QStringLiteral(": ") + note;
    return text;
}

QJsonObject AuditEntry::toJson() const
{
    QJsonObject object{
        {QStringLiteral("time"), time.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("operator"), operatorName},
        {QStringLiteral("host"), host},
        {QStringLiteral("group"), group},
        {QStringLiteral("node"), node},
        {QStringLiteral("key"), bytesJson(key)},
        {QStringLiteral("action"), action},
        {QStringLiteral("value_before"), bytesJson(valueBefore)},
        {QStringLiteral("ttl_before_ms"), ttlBeforeMs},
        {QStringLiteral("result"), result},
    };
    if (!valueAfter.isEmpty())
        object.insert(QStringLiteral("value_after"), bytesJson(valueAfter));
    if (!tokenAfter.isEmpty())
        object.insert(QStringLiteral("token"), bytesJson(tokenAfter));
    if (ttlAfterMs != -2)
        object.insert(QStringLiteral("ttl_after_ms"), ttlAfterMs);
    // Binary keys and values stay recoverable.
    if (!validUtf8(key))
        object.insert(QStringLiteral("key_base64"), QString::fromLatin1(key.toBase64()));
    if (!validUtf8(valueBefore))
        object.insert(QStringLiteral("value_before_base64"), QString::fromLatin1(valueBefore.toBase64()));
    return object;
}

AuditLog::AuditLog(QString path) : m_path(std::move(path)) {}

QString AuditLog::defaultPath()
{
    // One log for every LockScope program (the app and lockctl have different application
    // names), so an operator finds every write in one place.
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/lockscope/audit.jsonl");
}

bool AuditLog::append(const AuditEntry &entry)
{
    QByteArray line = QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact);
    line.append('\n');
    const std::lock_guard guard(auditMutex());
    if (!QDir().mkpath(QFileInfo(m_path).absolutePath()))
        return false;
    QFile file(m_path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append))
        return false;
    const bool written = file.write(line) == line.size();
    return file.flush() && written;
}

} // namespace lockscope::inspect
