#pragma once

#include <QDateTime>
#include <QStatusBar>
#include <chrono>

class QLabel;
class QProgressBar;

/// The main window's status bar: how many nodes are up and when they were last checked (left);
/// a progress bar while a scan runs, the lock counts and when the locks were last read (right).
/// Every figure says when it was read. The labels have fixed sizes, so that a text change costs
/// a repaint, not a relayout of the whole window (tens of milliseconds with 100,000 rows); a
/// label widens (once) when a text does not fit, and the default window fits an 800-pixel screen.
class WindowStatusBar : public QStatusBar
{
    Q_OBJECT

public:
    explicit WindowStatusBar(QWidget *parent = nullptr);

    /// "2 of 3 nodes up · last check 12:00:01"; `lastChecked` null: no probe answered yet.
    void setNodes(int up, int total, const QDateTime &lastChecked);
    /// "1,204 locks · 3 with anomalies", or "12 of 1,204 locks" while a filter hides some.
    void setLocks(int shown, int total, int anomalies);

    void scanStarted();
    void scanProgress(quint64 keys);
    /// Hides the progress; a scan that was not cancelled sets "Refreshed 12:00:01 (35 ms)".
    void scanFinished(std::chrono::milliseconds elapsed, bool cancelled);

private:
    QLabel *m_summary;
    QLabel *m_counts;
    QLabel *m_refreshed;
    QProgressBar *m_progress;
};
