#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <optional>

namespace lockscope {

/// Text of raw bytes (a key, a value, a token) that is safe to print on a terminal or to show
/// in a one-line view. Keys and values are arbitrary bytes written by anyone with access to the
/// server: printed raw, CR/LF forge table rows and escape sequences (ESC [ 2 J) drive the
/// operator's terminal.
///
/// Printable UTF-8 is kept. A backslash becomes `\\`, LF, CR and tab become `\n`, `\r` and `\t`
/// (as redis-cli prints them), every other control or format character (C0, DEL, C1 such as
/// U+009B CSI, bidi overrides) and every byte of invalid UTF-8 becomes `\xNN`, one per byte.
/// The form is unambiguous: a literal `\x1b` in a key prints as `\\x1b`. Thread-safe.
QString displayText(QByteArrayView bytes);

/// Overload that keeps a QByteArray from converting to QString (which would lose invalid bytes).
inline QString displayText(const QByteArray &bytes)
{
    return displayText(QByteArrayView(bytes));
}

/// The bytes of a key (or value) typed in its displayed form: the inverse of displayText(), so
/// that a key copied from `lockctl list` or the app can be pasted into a command. `\\`, `\n`,
/// `\r`, `\t` and `\xNN` are read as displayText() writes them; any other backslash is kept as
/// typed; the rest is UTF-8. Text holding U+FFFD is refused (nullopt, `error` says why): it is
/// what a terminal's bytes that are not UTF-8 turn into on their way to a program, so acting on
/// it would act on another key; such bytes are written as \xNN.
std::optional<QByteArray> bytesFromDisplayText(QStringView text, QString *error = nullptr);

/// Whether displayText() shows `bytes` exactly as they are (valid UTF-8 with nothing escaped).
bool displaysAsIs(QByteArrayView bytes);

/// displayText() of the start of `bytes`, at most `maxChars` characters; longer input ends in
/// "… (52.4 MB in all)". Only the start is looked at: a 50 MB value costs nothing to show.
QString displayTextPrefix(QByteArrayView bytes, qsizetype maxChars);

/// displayText() of text that is already a QString (an owner, a label, a node's error).
QString displayText(const QString &text);

/// One CSV field (RFC 4180) of a cell that already went through displayText(), so it holds no
/// control characters. A cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`
/// so that a spreadsheet shows it as text instead of evaluating it as a formula (the OWASP
/// advice against CSV injection; a lone `-` and a plain number stay as they are); a cell with a comma, a
/// double quote, CR or LF is quoted, its quotes doubled.
QString csvField(const QString &displayed);

} // namespace lockscope
