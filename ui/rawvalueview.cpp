#include "rawvalueview.h"

#include "locktext.h"
#include "util/displaytext.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>
#include <limits>

using lockscope::inspect::NodeEntry;
using lockscope::inspect::RawEntry;

RawValueView::RawValueView(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(tr("Raw value"))), m_hexButton(new QToolButton),
      m_text(new QPlainTextEdit), m_cut(new QWidget), m_cutText(new QLabel)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 8);
    layout->setSpacing(4);
    auto *header = new QHBoxLayout;
    header->setContentsMargins(0, 0, 0, 0);
    m_title->setObjectName(QStringLiteral("rawTitle"));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_title->setMinimumWidth(40);
    m_title->setWordWrap(true);
    header->addWidget(m_title, 1);
    // Text by default (most lock values are text); hex for a byte-exact look.
    m_hexButton->setObjectName(QStringLiteral("rawHex"));
    m_hexButton->setText(tr("Hex"));
    m_hexButton->setCheckable(true);
    m_hexButton->setAutoRaise(true);
    m_hexButton->setToolTip(tr("Show the bytes as a hex dump instead of text"));
    header->addWidget(m_hexButton);
    layout->addLayout(header);

    m_text->setObjectName(QStringLiteral("raw"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_text->setWordWrapMode(QTextOption::WrapAnywhere);
    connect(m_hexButton, &QToolButton::toggled, this, [this](bool hex) {
        m_text->setLineWrapMode(hex ? QPlainTextEdit::NoWrap : QPlainTextEdit::WidgetWidth);
        render();
    });
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_text->setMinimumHeight(m_text->fontMetrics().lineSpacing() * 4);
    layout->addWidget(m_text);

    // Shown when the value is longer than the view shows at first.
    m_cut->setObjectName(QStringLiteral("rawCut"));
    auto *cutLayout = new QHBoxLayout(m_cut);
    cutLayout->setContentsMargins(0, 0, 0, 0);
    m_cutText->setObjectName(QStringLiteral("rawCutText"));
    m_cutText->setWordWrap(true);
    cutLayout->addWidget(m_cutText, 1);
    auto *showAll = new QToolButton;
    showAll->setObjectName(QStringLiteral("rawShowAll"));
    showAll->setText(tr("Show all"));
    showAll->setToolTip(tr("Lay out the whole value: for megabytes this takes a while"));
    cutLayout->addWidget(showAll);
    connect(showAll, &QToolButton::clicked, this, [this] {
        m_showAll = true;
        render();
    });
    m_cut->hide();
    layout->addWidget(m_cut);
}

void RawValueView::showEntry(const NodeEntry *entry)
{
    if (entry)
        m_entry = *entry;
    else
        m_entry.reset();
    render();
}

bool RawValueView::showsHex() const
{
    return m_hexButton->isChecked();
}

void RawValueView::setShowsHex(bool hex)
{
    m_hexButton->setChecked(hex);
}

void RawValueView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    // A narrow pane gets 8 or 4 bytes per line instead of a horizontal scroll bar.
    if (m_entry && showsHex() && bytesPerLine() != m_bytesPerLine)
        render();
}

int RawValueView::bytesPerLine() const
{
    // From the view's width: the text may not be laid out yet when a record arrives.
    const int charWidth = m_text->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const int available = width() - 16 - 2 * m_text->frameWidth() -
                          m_text->verticalScrollBar()->sizeHint().width() -
                          2 * int(m_text->document()->documentMargin());
    // The widest of 16, 8 or 4 bytes per line that fits (offset, hex, gap, text).
    for (const int bytes : {16, 8}) {
        if (available >= (6 + bytes * 3 + 2 + bytes + 1) * charWidth)
            return bytes;
    }
    return 4;
}

void RawValueView::showCut(bool cut, qint64 total)
{
    m_cut->setVisible(cut);
    if (cut)
        m_cutText->setText(
            tr("Showing the first %1 of %2.")
                .arg(QLocale().formattedDataSize(RawViewBytes, 0), QLocale().formattedDataSize(total, 1)));
}

void RawValueView::render()
{
    m_bytesPerLine = bytesPerLine();
    showCut(false, 0);
    if (!m_entry) {
        m_title->setText(tr("Raw value"));
        m_text->clear();
        return;
    }
    const NodeEntry &entry = *m_entry;
    if (!entry.reachable) {
        m_title->setText(tr("Raw value on %1").arg(entry.node));
        m_text->setPlainText(tr("%1 could not be read: %2").arg(entry.node, entry.error));
        return;
    }
    const auto bytes = [this](const QByteArray &shown) {
        return showsHex() ? hexDump(shown, m_bytesPerLine) : escapedText(shown);
    };
    switch (entry.raw.type) {
    case RawEntry::Type::Missing:
        m_title->setText(tr("Raw value on %1").arg(entry.node));
        m_text->setPlainText(tr("The key does not exist on %1.").arg(entry.node));
        return;
    case RawEntry::Type::String: {
        m_title->setText(
            tr("Raw value on %1 (string, %2)")
                .arg(entry.node, locktext::counted(entry.raw.value.size(), tr("%1 byte"), tr("%1 bytes"))));
        const bool cut = !m_showAll && entry.raw.value.size() > RawViewBytes;
        m_text->setPlainText(bytes(cut ? entry.raw.value.first(RawViewBytes) : entry.raw.value));
        showCut(cut, entry.raw.value.size());
        return;
    }
    case RawEntry::Type::Hash: {
        m_title->setText(tr("Raw value on %1 (hash, %2)")
                             .arg(entry.node, locktext::counted(qint64(entry.raw.fields.size()),
                                                                tr("%1 field"), tr("%1 fields"))));
        QString text;
        qsizetype budget = m_showAll ? std::numeric_limits<qsizetype>::max() : RawViewBytes;
        qsizetype total = 0;
        bool cut = false;
        for (const auto &[field, value] : entry.raw.fields) {
            total += field.size() + value.size();
            if (budget <= 0) {
                cut = true;
                continue;
            }
            const QByteArray shown = value.size() > budget ? value.first(budget) : value;
            cut |= shown.size() < value.size();
            budget -= field.size() + shown.size();
            text += tr("field %1 (%2):")
                        .arg(locktext::shortText(field, 120),
                             locktext::counted(value.size(), tr("%1 byte"), tr("%1 bytes")));
            text += QLatin1Char('\n') + bytes(shown) + QLatin1Char('\n');
        }
        m_text->setPlainText(text.trimmed());
        showCut(cut, total);
        return;
    }
    case RawEntry::Type::Other:
        if (entry.raw.isSortedSet() || entry.raw.isList()) {
            showMembers(entry);
            return;
        }
        m_title->setText(tr("Raw value on %1 (%2)").arg(entry.node, entry.raw.typeName));
        m_text->setPlainText(tr("A %1 is not shown byte for byte.").arg(entry.raw.typeName));
        return;
    }
}

void RawValueView::showMembers(const NodeEntry &entry)
{
    const RawEntry &raw = entry.raw;
    const bool zset = raw.isSortedSet();
    const qsizetype count = zset ? qsizetype(raw.members.size()) : qsizetype(raw.elements.size());
    m_title->setText(tr("Raw value on %1 (%2, %3%4)")
                         .arg(entry.node, raw.typeName,
                              locktext::counted(count, zset ? tr("%1 member") : tr("%1 element"),
                                                zset ? tr("%1 members") : tr("%1 elements")),
                              raw.truncated ? tr(", more not read") : QString()));
    QString text;
    for (qsizetype i = 0; i < count; ++i) {
        const QByteArray &item = zset ? raw.members[size_t(i)].first : raw.elements[size_t(i)];
        QString line = showsHex() ? hexDump(item, m_bytesPerLine) : escapedText(item);
        if (zset) {
            const double score = raw.members[size_t(i)].second;
            // LockScope's kinds score a holder with its deadline (server Unix ms).
            const bool deadline = std::isfinite(score) && raw.serverTimeMs > 0 && score > 1e12;
            line += deadline ? tr("\n  score %1 (%2 ms from the server's time when read)")
                                   .arg(QString::number(score, 'f', 0))
                                   .arg(qint64(score) - raw.serverTimeMs)
                             : tr("\n  score %1")
                                   .arg(std::isinf(score) ? tr("+inf") : QString::number(score, 'g', 17));
        }
        text += line + QLatin1Char('\n');
    }
    m_text->setPlainText(text.trimmed());
}

QString RawValueView::escapedText(const QByteArray &bytes)
{
    return lockscope::displayText(bytes);
}

QString RawValueView::hexDump(const QByteArray &bytes, int bytesPerLine)
{
    QString out;
    const int offsetWidth = bytes.size() > 0xffff ? 8 : 4;
    for (qsizetype offset = 0; offset < bytes.size(); offset += bytesPerLine) {
        const QByteArray line = bytes.mid(offset, bytesPerLine);
        out += QStringLiteral("%1  ").arg(offset, offsetWidth, 16, QLatin1Char('0'));
        for (int i = 0; i < bytesPerLine; ++i) {
            if (i == 8)
                out += QLatin1Char(' ');
            if (i < line.size())
                out += QStringLiteral("%1 ").arg(quint8(line[i]), 2, 16, QLatin1Char('0'));
            else
                out += QStringLiteral("   ");
        }
        out += QLatin1Char(' ');
        for (const char c : line) {
            const auto u = static_cast<unsigned char>(c);
            out += u >= 0x20 && u < 0x7f ? QLatin1Char(c) : QLatin1Char('.');
        }
        out += QLatin1Char('\n');
    }
    if (out.endsWith(QLatin1Char('\n')))
        out.chop(1);
    return out;
}
