#pragma once

#include "backgroundjob.h"

#include <QWidget>
#include <optional>
#include <redis/nodeconfig.h>
#include <redis/nodeprobe.h>

class QLabel;
class QPushButton;

/// The "Test connection" button of the Connections dialog and the line under it: connects to one
/// node and probes it on the global thread pool, then says what answered ("✔ pay-a: Redis 7.2.4,
/// master, 0.31 ms round trip") or why not.
///
/// Only the newest test of the node as it is now reports: a test of a node that was edited since
/// (or was followed by another test) is dropped when it answers. Closing the dialog meanwhile
/// neither waits nor crashes: the job holds copies only. GUI thread.
class ConnectionTester : public QWidget
{
    Q_OBJECT

public:
    explicit ConnectionTester(QWidget *parent = nullptr);

    /// The node the button tests, with the password to use; nullopt (no node, or one with an
    /// error) disables the button. Another node than the last one tested clears the line and drops
    /// a test still running.
    void setTarget(const std::optional<lockscope::redis::NodeConfig> &target);
    /// Tests the target (what the button does).
    void start();

    /// The result line for `status` of `node` ("✔ …" or "✘ …").
    static QString resultText(const lockscope::redis::NodeStatus &status, const QString &node);

private:
    void showResult(const lockscope::redis::NodeStatus &status, const QString &node);

    std::optional<lockscope::redis::NodeConfig> m_target;
    /// The node the line is about (tested, or being tested).
    std::optional<lockscope::redis::NodeConfig> m_shown;
    JobTracker m_tests;
    QPushButton *m_button = nullptr;
    QLabel *m_result = nullptr;
};
