#pragma once

#include <QWidget>

class SimulatorPanel;

/// The contention simulator in a window of its own (beside the lock table, its form and charts
/// crushed the lock columns). Says when it is shown or hidden, so that the View menu's check
/// mark follows the window manager's close button.
class SimulatorWindow : public QWidget
{
    Q_OBJECT

public:
    /// A tool window of `parent` (closed with it), sized for the screen `parent` is on.
    explicit SimulatorWindow(QWidget *parent);

    SimulatorPanel *panel() const { return m_panel; }
    /// Shows the window and brings it to the front.
    void showAndRaise();

signals:
    void visibilityChanged(bool visible);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    SimulatorPanel *m_panel;
};
