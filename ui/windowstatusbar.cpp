#include "windowstatusbar.h"

#include "locktext.h"

#include <QLabel>
#include <QProgressBar>

namespace {

/// Sets `text`, widening the label when it does not fit, never narrowing it: the width changes
/// (and the window lays itself out again) only when a count gets a digit more than ever before.
void setStableText(QLabel *label, const QString &text)
{
    const QFontMetrics metrics = label->fontMetrics();
    const int needed = metrics.horizontalAdvance(text) + metrics.horizontalAdvance(QLatin1Char('m'));
    if (needed > label->width())
        label->setFixedWidth(needed);
    label->setText(text);
}

} // namespace

WindowStatusBar::WindowStatusBar(QWidget *parent)
    : QStatusBar(parent), m_summary(new QLabel), m_counts(new QLabel), m_refreshed(new QLabel),
      m_progress(new QProgressBar)
{
    m_summary->setObjectName(QStringLiteral("statusSummary"));
    m_counts->setObjectName(QStringLiteral("lockCounts"));
    m_refreshed->setObjectName(QStringLiteral("lastRefresh"));
    m_progress->setObjectName(QStringLiteral("scanProgress"));
    m_progress->setRange(0, 0);
    m_progress->setFixedWidth(fontMetrics().horizontalAdvance(QLatin1Char('m')) * 14);
    m_progress->setTextVisible(true);
    m_progress->hide();

    const QFontMetrics metrics = fontMetrics();
    const int height = std::max(metrics.height() + 4, m_progress->sizeHint().height());
    // Room for what most sites show; a longer text widens its label once (setStableText).
    auto reserve = [&](QLabel *label, const QString &sample) {
        label->setFixedSize(metrics.horizontalAdvance(sample) + metrics.horizontalAdvance(QLatin1Char('m')),
                            height);
    };
    reserve(m_summary, tr("%1 of %2 nodes up").arg(99).arg(99) + QStringLiteral(" · ") +
                           tr("last check %1").arg(QStringLiteral("00:00:00")));
    reserve(m_counts, tr("%L1 of %L2 locks").arg(99999).arg(99999) + QStringLiteral(" · ") +
                          tr("%L1 with anomalies").arg(999));
    reserve(m_refreshed, tr("Refreshed %1 (%L2 ms)").arg(QStringLiteral("00:00:00")).arg(9999));
    m_counts->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_refreshed->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_progress->setFixedHeight(height);
    addWidget(m_summary);
    addPermanentWidget(m_progress);
    addPermanentWidget(m_counts);
    addPermanentWidget(m_refreshed);
}

void WindowStatusBar::setNodes(int up, int total, const QDateTime &lastChecked)
{
    if (total == 0) {
        setStableText(m_summary, tr("No nodes"));
        return;
    }
    const QString nodes =
        total == 1 ? tr("%1 of 1 node up").arg(up) : tr("%1 of %2 nodes up").arg(up).arg(total);
    m_summary->setText(
        nodes + QStringLiteral(" · ") +
        (lastChecked.isNull()
             ? tr("checking…")
             : tr("last check %1").arg(lastChecked.toLocalTime().toString(QStringLiteral("HH:mm:ss")))));
}

void WindowStatusBar::setLocks(int shown, int total, int anomalies)
{
    const QString locks = locktext::counted(total, tr("%1 lock"), tr("%1 locks"));
    QString text = shown == total ? locks : tr("%L1 of %2").arg(shown).arg(locks);
    text += QStringLiteral(" · ") + tr("%L1 with anomalies").arg(anomalies);
    setStableText(m_counts, text);
}

void WindowStatusBar::scanStarted()
{
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("Scanning…"));
    m_progress->show();
}

void WindowStatusBar::scanProgress(quint64 keys)
{
    m_progress->setFormat(tr("%L1 keys scanned").arg(keys));
}

void WindowStatusBar::scanFinished(std::chrono::milliseconds elapsed, bool cancelled)
{
    m_progress->hide();
    if (cancelled)
        return;
    setStableText(m_refreshed, tr("Refreshed %1 (%L2 ms)")
                                   .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")))
                                   .arg(elapsed.count()));
}
