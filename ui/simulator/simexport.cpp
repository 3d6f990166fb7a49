#include "simexport.h"

#include "sim/simreport.h"

#include <QAction>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QJsonDocument>
#include <QMenu>
#include <QObject>
#include <QSaveFile>

using namespace lockscope::sim;

namespace simexport {

namespace {

std::expected<void, QString> writeFile(const QString &path, const QByteArray &data)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit())
        return std::unexpected(QObject::tr("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace

QString defaultPath(const QString &suffix)
{
    return QDir::home().filePath(
        QStringLiteral("lockscope-sim-%1.%2")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")), suffix));
}

QString workersCsvPath(const QString &eventsPath)
{
    QString base = eventsPath;
    if (base.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        base.chop(4);
    return base + QStringLiteral("-workers.csv");
}

std::expected<void, QString> writeJson(const QString &path, const SimReport &report)
{
    return writeFile(path, QJsonDocument(reportToJson(report)).toJson());
}

std::expected<void, QString> writeCsv(const QString &eventsPath, const std::vector<SectionEvent> &events,
                                      const SimStats &stats)
{
    if (auto written = writeFile(eventsPath, eventsToCsv(events)); !written)
        return written;
    return writeFile(workersCsvPath(eventsPath), workersToCsv(stats));
}

} // namespace simexport

SimExportButton::SimExportButton(QWidget *parent) : QToolButton(parent)
{
    setObjectName(QStringLiteral("simExport"));
    m_jsonAction = new QAction(tr("Export JSON…"), this);
    m_jsonAction->setObjectName(QStringLiteral("simExportJson"));
    m_csvAction = new QAction(tr("Export CSV…"), this);
    m_csvAction->setObjectName(QStringLiteral("simExportCsv"));
    m_csvAction->setToolTip(tr("Critical sections to the chosen file, per-worker counts to a second "
                               "file next to it (…-workers.csv)"));
    auto *menu = new QMenu(this);
    menu->setToolTipsVisible(true);
    menu->addAction(m_jsonAction);
    menu->addAction(m_csvAction);
    setText(tr("Export"));
    setMenu(menu);
    setPopupMode(QToolButton::InstantPopup);
    setToolButtonStyle(Qt::ToolButtonTextOnly);
    connect(m_jsonAction, &QAction::triggered, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export the simulation as JSON"),
                                         simexport::defaultPath(QStringLiteral("json")), tr("JSON (*.json)"));
        if (!path.isEmpty())
            emit jsonChosen(path);
    });
    connect(m_csvAction, &QAction::triggered, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export the critical sections as CSV"),
                                         simexport::defaultPath(QStringLiteral("csv")), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            emit csvChosen(path);
    });
}

void SimExportButton::setExportable(bool exportable)
{
    setEnabled(exportable);
    m_jsonAction->setEnabled(exportable);
    m_csvAction->setEnabled(exportable);
}
