// The display form of raw bytes (keys, values, tokens written by anyone with access to the
// server): displayText() must be undone exactly by bytesFromDisplayText(), so that a key copied
// from `lockctl list` or the app names the same key; displayTextPrefix() is a prefix of it.

#include "fuzzcheck.h"
#include "util/displaytext.h"

using lockscope::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes = lockscope::fuzz::bytesOf(data, size);
    const QString shown = lockscope::displayText(bytes);

    for (const QChar c : shown) {
        require(c.unicode() >= 0x20 && c.unicode() != 0x7f && !(c.unicode() >= 0x80 && c.unicode() < 0xa0),
                "displayText() shows no control character", shown);
    }
    QString error;
    const auto back = lockscope::bytesFromDisplayText(shown, &error);
    require(back.has_value(), "bytesFromDisplayText() reads what displayText() writes", shown + u' ' + error);
    require(*back == bytes, "bytesFromDisplayText(displayText(bytes)) == bytes", shown);
    require(lockscope::displaysAsIs(bytes) == (shown == QString::fromUtf8(bytes)),
            "displaysAsIs() tells whether the bytes are shown as they are", shown);

    for (const qsizetype max : {qsizetype(0), qsizetype(1), qsizetype(7), qsizetype(80), shown.size()}) {
        const QString prefix = lockscope::displayTextPrefix(bytes, max);
        require(prefix.startsWith(shown.left(max)), "displayTextPrefix() starts as displayText()", prefix);
        if (shown.size() <= max)
            require(prefix == shown, "displayTextPrefix() of a short text is all of it", prefix);
    }

    // Text typed by an operator: any string, read and shown again.
    const QString typed = QString::fromUtf8(bytes);
    if (const auto fromTyped = lockscope::bytesFromDisplayText(typed))
        (void)lockscope::displayText(*fromTyped);
    (void)lockscope::csvField(shown);
    (void)lockscope::displayText(typed);
    return 0;
}
