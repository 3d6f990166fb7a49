#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>

namespace lockscope::inspect {

/// Who acts, for owner labels and the audit log.
struct Operator
{
    QString name; ///< e.g. the OS user
    QString host;
    static Operator current();
    /// The owner label an operator's lock carries: "operator <name>@<host>", then ": note".
    QString label(const QString &note = {}) const;
};

/// One line of the audit log (JSON lines): every write attempt, including refused ones.
struct AuditEntry
{
    QDateTime time;
    QString operatorName;
    QString host;
    QString group;
    QString node;
    QByteArray key;
    QString action; ///< "acquire", "extend", "extend-add", "force-release", "force-delete"
    QByteArray valueBefore;
    qint64 ttlBeforeMs = -2; ///< the PTTL on the node when the action ran (-2 missing, -1 no TTL)
    QString result; ///< "ok", "changed" (value differed: nothing done), "refused: read-only", "error: ..."
    /// What the action left on the node when it wrote something: the value an acquire wrote
    /// (and its token), the TTL an extend set. Empty / -2 when nothing was written; omitted
    /// from the JSON then.
    QByteArray valueAfter;
    QByteArray tokenAfter;
    qint64 ttlAfterMs = -2;

    QJsonObject toJson() const;
};

/// Appends audit entries to a JSON-lines file (thread-safe; one write + flush per entry).
class AuditLog
{
public:
    explicit AuditLog(QString path);
    /// The default location, shared by the app and lockctl: <GenericDataLocation>/lockscope/audit.jsonl
    /// (~/.local/share/lockscope/audit.jsonl).
    static QString defaultPath();
    bool append(const AuditEntry &entry);
    const QString &path() const { return m_path; }

private:
    QString m_path;
};

} // namespace lockscope::inspect
