#include "output.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringDecoder>
#include <algorithm>
#include <cstdio>
#include <util/displaytext.h>

namespace lockctl {

Output::Output() : m_out(stdout), m_err(stderr) {}

Output::~Output()
{
    flush();
}

void Output::line(const QString &text)
{
    m_out << text << '\n';
}

void Output::write(const QString &text)
{
    m_out << text;
}

void Output::error(const QString &message)
{
    m_out.flush();
    // Messages quote keys, values and server replies: escaped here, once, for all of them.
    m_err << "lockctl: " << lockscope::displayText(message) << '\n';
    m_err.flush();
}

void Output::json(const QJsonValue &value)
{
    const QJsonDocument document =
        value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    m_out << QString::fromUtf8(document.toJson(QJsonDocument::Indented));
}

void Output::writeUtf8(const char *data, std::size_t size)
{
    m_out.flush();
    std::fwrite(data, 1, size, stdout);
}

void Output::flush()
{
    m_out.flush();
    m_err.flush();
}

Table::Table(QStringList headers) : m_headers(std::move(headers)), m_align(m_headers.size(), Align::Left) {}

void Table::setAlignment(qsizetype column, Align align)
{
    if (column >= 0 && column < m_align.size())
        m_align[column] = align;
}

void Table::addRow(QStringList cells)
{
    cells.resize(m_headers.size());
    m_rows.append(std::move(cells));
}

QString Table::render() const
{
    QList<qsizetype> widths(m_headers.size());
    for (qsizetype c = 0; c < m_headers.size(); ++c)
        widths[c] = m_headers[c].size();
    for (const QStringList &row : m_rows)
        for (qsizetype c = 0; c < row.size(); ++c)
            widths[c] = std::max(widths[c], row[c].size());

    QString text;
    const auto renderRow = [&](const QStringList &cells) {
        QString line;
        for (qsizetype c = 0; c < cells.size(); ++c) {
            if (c > 0)
                line += QLatin1String("  ");
            const bool last = c == cells.size() - 1;
            if (m_align[c] == Align::Right)
                line += cells[c].rightJustified(widths[c]);
            else
                line += last ? cells[c] : cells[c].leftJustified(widths[c]);
        }
        text += line + QLatin1Char('\n');
    };
    renderRow(m_headers);
    for (const QStringList &row : m_rows)
        renderRow(row);
    return text;
}

QString errorKindId(lockscope::redis::ErrorKind kind)
{
    using lockscope::redis::ErrorKind;
    switch (kind) {
    case ErrorKind::InvalidConfig:
        return QStringLiteral("invalid_config");
    case ErrorKind::Resolve:
        return QStringLiteral("resolve");
    case ErrorKind::Refused:
        return QStringLiteral("refused");
    case ErrorKind::Unreachable:
        return QStringLiteral("unreachable");
    case ErrorKind::Timeout:
        return QStringLiteral("timeout");
    case ErrorKind::AuthFailed:
        return QStringLiteral("auth_failed");
    case ErrorKind::NoPerm:
        return QStringLiteral("no_perm");
    case ErrorKind::ReadOnlyReplica:
        return QStringLiteral("read_only_replica");
    case ErrorKind::OutOfMemory:
        return QStringLiteral("out_of_memory");
    case ErrorKind::WrongType:
        return QStringLiteral("wrong_type");
    case ErrorKind::Tls:
        return QStringLiteral("tls");
    case ErrorKind::NotTls:
        return QStringLiteral("not_tls");
    case ErrorKind::Protocol:
        return QStringLiteral("protocol");
    case ErrorKind::Server:
        return QStringLiteral("server");
    case ErrorKind::ConnectionClosed:
        return QStringLiteral("connection_closed");
    case ErrorKind::NoScript:
        return QStringLiteral("no_script");
    case ErrorKind::PoolExhausted:
        return QStringLiteral("pool_exhausted");
    case ErrorKind::Io:
        return QStringLiteral("io");
    case ErrorKind::ClusterRedirect:
        return QStringLiteral("cluster_redirect");
    }
    return QStringLiteral("unknown");
}

void putBytes(QJsonObject &object, const QString &name, const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(bytes);
    if (!decoder.hasError()) {
        object.insert(name, text);
        return;
    }
    object.insert(name, lockscope::displayText(bytes));
    object.insert(name + QStringLiteral("_base64"), QString::fromLatin1(bytes.toBase64()));
}

QJsonObject withBytes(QJsonObject object, const QString &name, const QByteArray &bytes)
{
    putBytes(object, name, bytes);
    return object;
}

} // namespace lockctl
