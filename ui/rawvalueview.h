#pragma once

#include "inspect/lockrecord.h"

#include <QWidget>
#include <optional>

class QLabel;
class QPlainTextEdit;
class QToolButton;

/// One node's value under a key, byte for byte: a title (node, type, size), the text with
/// control and invalid bytes escaped or a hex dump (the Hex button), and, for a value longer
/// than RawViewBytes, only its start with a "Show all" button (laying out megabytes on the GUI
/// thread froze the window). Part of the details pane.
class RawValueView : public QWidget
{
    Q_OBJECT

public:
    explicit RawValueView(QWidget *parent = nullptr);

    /// False, although the title wraps: the view takes the room the details pane leaves it and
    /// scrolls. A height-for-width child makes its parent's box layout count the whole text's
    /// height as the view's minimum, and the items above it (the summary, the Holders list) are
    /// then squeezed below their fixed heights, drawn over each other.
    bool hasHeightForWidth() const override { return false; }

    /// Shows `entry` (null: nothing chosen). "Show all" stays as the operator left it until
    /// forgetShowAll(): a refresh of the same value, or another node's, keeps it.
    void showEntry(const lockscope::inspect::NodeEntry *entry);
    /// Another lock: its values start cut again.
    void forgetShowAll() { m_showAll = false; }

    /// True while the view shows a hex dump instead of the text.
    bool showsHex() const;
    void setShowsHex(bool hex);

    /// Offset, `bytesPerLine` bytes in hex (a gap after 8), and the printable ASCII ('.' for
    /// the rest), one line each.
    static QString hexDump(const QByteArray &bytes, int bytesPerLine = 16);
    /// The bytes as text: valid UTF-8 as is, except control characters and invalid bytes,
    /// which are escaped (\n, \r, \t, \\, \xNN): lockscope::displayText(). One line per value.
    static QString escapedText(const QByteArray &bytes);

    /// Bytes of a value the view lays out until the operator asks for all of it.
    static constexpr qsizetype RawViewBytes = 64 * 1024;

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void render();
    /// A sorted set's members with their scores (a deadline also as ms from the server's time
    /// when read), or a list's elements, as the scanner read them (at most RawEntry::MaxElements).
    void showMembers(const lockscope::inspect::NodeEntry &entry);
    /// Says whether the view shows only the start of a value of `total` bytes.
    void showCut(bool cut, qint64 total);
    /// 16, 8 or 4: the widest hex dump line that fits the view's width.
    int bytesPerLine() const;

    std::optional<lockscope::inspect::NodeEntry> m_entry;
    bool m_showAll = false;
    int m_bytesPerLine = 16;
    QLabel *m_title;
    QToolButton *m_hexButton;
    QPlainTextEdit *m_text;
    QWidget *m_cut;
    QLabel *m_cutText;
};
