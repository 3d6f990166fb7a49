#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTextStream>
#include <redis/rediserror.h>

namespace lockctl {

/// Where commands write: stdout for results (tables, JSON), stderr for diagnostics, one
/// "lockctl: ..." line per problem. stdout is flushed before anything goes to stderr so the
/// two stay in order on a terminal.
class Output
{
public:
    Output();
    Output(const Output &) = delete;
    Output &operator=(const Output &) = delete;
    ~Output();

    /// Writes text followed by a newline to stdout. Keys, values, owners and tokens in it must
    /// be lockscope::displayText() already.
    void line(const QString &text = {});
    /// Writes text as is to stdout.
    void write(const QString &text);
    /// Writes "lockctl: message" to stderr, the message passed through lockscope::displayText()
    /// (one line, no control characters): pass keys and values in it raw.
    void error(const QString &message);
    /// Writes an array or object as indented JSON to stdout.
    void json(const QJsonValue &value);
    /// Writes UTF-8 bytes as they are to stdout (after whatever text is buffered).
    void writeUtf8(const char *data, std::size_t size);
    void flush();

private:
    QTextStream m_out;
    QTextStream m_err;
};

/// A plain-text table with a header row, columns padded to their widest cell. Cells are printed
/// as given: a key, value, owner or token goes in as lockscope::displayText().
class Table
{
public:
    enum class Align
    {
        Left,
        Right
    };

    explicit Table(QStringList headers);
    void setAlignment(qsizetype column, Align align);
    void addRow(QStringList cells);
    qsizetype rowCount() const { return m_rows.size(); }
    /// The header and every row, one line each, each ending with a newline.
    QString render() const;

private:
    QStringList m_headers;
    QList<Align> m_align;
    QList<QStringList> m_rows;
};

/// A stable lower-case identifier of an error kind for machine output ("refused", "timeout",
/// "auth_failed", ...), unlike RedisError::kindName(), which is for people.
QString errorKindId(lockscope::redis::ErrorKind kind);

/// What a table cell or a `show` line prints of a value, an owner or a label, and of a key or a
/// token (lockscope::displayTextPrefix): the start, then how large it is in all; --json prints
/// everything.
inline constexpr qsizetype MaxCellChars = 256;
inline constexpr qsizetype MaxKeyChars = 1024;

/// Puts `key` into a JSON object under `name`: as text when it is UTF-8 (exact), else in its
/// displayed form (`\xNN`, which the KEY arguments accept) plus `<name>_base64` with the bytes.
void putBytes(QJsonObject &object, const QString &name, const QByteArray &bytes);

/// `object` with putBytes(object, name, bytes) applied.
QJsonObject withBytes(QJsonObject object, const QString &name, const QByteArray &bytes);

} // namespace lockctl
