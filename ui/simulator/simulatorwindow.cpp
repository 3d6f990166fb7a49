#include "simulatorwindow.h"

#include "simulatorpanel.h"

#include <QScreen>
#include <QVBoxLayout>

SimulatorWindow::SimulatorWindow(QWidget *parent) : QWidget(parent, Qt::Window), m_panel(new SimulatorPanel)
{
    setObjectName(QStringLiteral("simulatorWindow"));
    setWindowTitle(tr("LockScope Simulator"));
    m_panel->setObjectName(QStringLiteral("simulatorPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_panel);
    const QRect screen =
        parent && parent->screen() ? parent->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    resize(std::min(1100, screen.width() - 40), std::min(760, screen.height() - 60));
}

void SimulatorWindow::showAndRaise()
{
    show();
    raise();
    activateWindow();
}

void SimulatorWindow::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    emit visibilityChanged(true);
}

void SimulatorWindow::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    emit visibilityChanged(false);
}
