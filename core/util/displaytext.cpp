#include "displaytext.h"

#include <QLocale>
#include <QStringDecoder>
#include <algorithm>

namespace lockscope {

namespace {

void appendHex(QString &out, unsigned char byte)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += QLatin1String("\\x");
    out += QLatin1Char(hex[byte >> 4]);
    out += QLatin1Char(hex[byte & 0xf]);
}

/// Length of the UTF-8 sequence a lead byte announces; 0 for a byte that cannot lead one.
qsizetype sequenceLength(unsigned char lead)
{
    if (lead >= 0xc2 && lead <= 0xdf)
        return 2;
    if (lead >= 0xe0 && lead <= 0xef)
        return 3;
    if (lead >= 0xf0 && lead <= 0xf4)
        return 4;
    return 0;
}

} // namespace

QString displayText(QByteArrayView bytes)
{
    QString out;
    out.reserve(bytes.size());
    qsizetype i = 0;
    while (i < bytes.size()) {
        const auto u = static_cast<unsigned char>(bytes[i]);
        if (u >= 0x80) {
            // A whole UTF-8 sequence when it is a valid one and prints as a character; otherwise
            // its bytes one by one, so nothing the terminal would act on (C1 CSI, U+202E) passes.
            const qsizetype length = sequenceLength(u);
            if (length > 0 && i + length <= bytes.size()) {
                QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
                const QString decoded = decoder(bytes.sliced(i, length));
                const char32_t code = decoded.size() == 2   ? QChar::surrogateToUcs4(decoded[0], decoded[1])
                                      : decoded.size() == 1 ? decoded[0].unicode()
                                                            : 0;
                if (!decoder.hasError() && code != 0 && code != QChar::ReplacementCharacter &&
                    QChar::isPrint(code)) {
                    out += decoded;
                    i += length;
                    continue;
                }
                for (qsizetype k = 0; k < length; ++k)
                    appendHex(out, static_cast<unsigned char>(bytes[i + k]));
                i += length;
                continue;
            }
            appendHex(out, u);
        } else if (u == '\\') {
            out += QLatin1String("\\\\");
        } else if (u == '\n') {
            out += QLatin1String("\\n");
        } else if (u == '\r') {
            out += QLatin1String("\\r");
        } else if (u == '\t') {
            out += QLatin1String("\\t");
        } else if (u < 0x20 || u == 0x7f) {
            appendHex(out, u);
        } else {
            out += QLatin1Char(char(u));
        }
        ++i;
    }
    return out;
}

QString displayText(const QString &text)
{
    return displayText(QByteArrayView(text.toUtf8()));
}

QString csvField(const QString &displayed)
{
    QString field = displayed;
    if (!field.isEmpty()) {
        const QChar first = field.front();
        const bool formula = first == QLatin1Char('=') || first == QLatin1Char('+') ||
                             first == QLatin1Char('-') || first == QLatin1Char('@') ||
                             first == QLatin1Char('\t') || first == QLatin1Char('\r');
        // A lone "-" (our empty cell) and a plain number ("-1") are no formula: kept as is so
        // that the columns stay numeric in a spreadsheet.
        bool number = false;
        (void)field.toDouble(&number);
        if (formula && field != QLatin1String("-") && !number)
            field.prepend(QLatin1Char('\''));
    }
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) &&
        !field.contains(QLatin1Char('\n')) && !field.contains(QLatin1Char('\r')))
        return field;
    field.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + field + QLatin1Char('"');
}

std::optional<QByteArray> bytesFromDisplayText(QStringView text, QString *error)
{
    if (text.contains(QChar::ReplacementCharacter)) {
        if (error)
            *error =
                QStringLiteral("it holds U+FFFD, the mark of bytes that are not UTF-8: write such bytes "
                               "as \\xNN, as 'lockctl list' shows them (a real U+FFFD is \\xef\\xbf\\xbd)");
        return std::nullopt;
    }
    const auto hexValue = [](QChar c) {
        const char16_t u = c.unicode();
        if (u >= '0' && u <= '9')
            return int(u - '0');
        if (u >= 'a' && u <= 'f')
            return int(u - 'a' + 10);
        if (u >= 'A' && u <= 'F')
            return int(u - 'A' + 10);
        return -1;
    };
    QByteArray out;
    out.reserve(text.size());
    qsizetype plainFrom = 0;
    const auto flushPlain = [&](qsizetype to) {
        if (to > plainFrom)
            out += text.sliced(plainFrom, to - plainFrom).toUtf8();
    };
    qsizetype i = 0;
    while (i < text.size()) {
        if (text[i] != QLatin1Char('\\') || i + 1 >= text.size()) {
            ++i;
            continue;
        }
        const QChar next = text[i + 1];
        int consumed = 0;
        char byte = 0;
        if (next == QLatin1Char('\\')) {
            byte = '\\';
            consumed = 2;
        } else if (next == QLatin1Char('n')) {
            byte = '\n';
            consumed = 2;
        } else if (next == QLatin1Char('r')) {
            byte = '\r';
            consumed = 2;
        } else if (next == QLatin1Char('t')) {
            byte = '\t';
            consumed = 2;
        } else if (next == QLatin1Char('x') && i + 3 < text.size() && hexValue(text[i + 2]) >= 0 &&
                   hexValue(text[i + 3]) >= 0) {
            byte = char(hexValue(text[i + 2]) * 16 + hexValue(text[i + 3]));
            consumed = 4;
        }
        if (consumed == 0) {
            ++i; // kept as typed
            continue;
        }
        flushPlain(i);
        out += byte;
        i += consumed;
        plainFrom = i;
    }
    flushPlain(text.size());
    return out;
}

QString displayTextPrefix(QByteArrayView bytes, qsizetype maxChars)
{
    // An escaped byte takes 4 characters and a UTF-8 character at most 4 bytes: this many bytes
    // give maxChars characters, whatever they are.
    const qsizetype look = std::min<qsizetype>(bytes.size(), maxChars * 4);
    QString text = displayText(bytes.first(look));
    if (text.size() <= maxChars && look == bytes.size())
        return text;
    text.truncate(maxChars);
    return text +
           QStringLiteral("\u2026 (%1 in all)")
               .arg(QLocale::c().formattedDataSize(bytes.size(), 1, QLocale::DataSizeTraditionalFormat));
}

bool displaysAsIs(QByteArrayView bytes)
{
    return displayText(bytes) == QString::fromUtf8(bytes);
}

} // namespace lockscope
