#pragma once

#include "sim/simulation.h"

#include <QString>
#include <QToolButton>
#include <expected>
#include <vector>

/// The simulator's export files: the report as JSON (reportToJson), the critical sections and
/// the per-worker counts as CSV (eventsToCsv, workersToCsv). Each file is written whole or not
/// at all (QSaveFile); a failure comes back as its reason.
namespace simexport {

/// `~/lockscope-sim-<yyyyMMdd-HHmmss>.<suffix>`: what the save dialogs propose.
QString defaultPath(const QString &suffix);

/// The file writeCsv() writes the per-worker counts to: `<eventsPath without .csv>-workers.csv`.
QString workersCsvPath(const QString &eventsPath);

std::expected<void, QString> writeJson(const QString &path, const lockscope::sim::SimReport &report);

/// The critical sections to `eventsPath`, the per-worker counts to workersCsvPath(eventsPath).
std::expected<void, QString> writeCsv(const QString &eventsPath,
                                      const std::vector<lockscope::sim::SectionEvent> &events,
                                      const lockscope::sim::SimStats &stats);

} // namespace simexport

class QAction;

/// The Export button and its menu: JSON, or CSV (the critical sections to the chosen file, the
/// per-worker counts next to it). Asks for the file and hands the path on.
class SimExportButton : public QToolButton
{
    Q_OBJECT

public:
    explicit SimExportButton(QWidget *parent = nullptr);

    /// Whether there is a run (current or finished) to export.
    void setExportable(bool exportable);

signals:
    void jsonChosen(const QString &path);
    void csvChosen(const QString &path);

private:
    QAction *m_jsonAction = nullptr;
    QAction *m_csvAction = nullptr;
};
