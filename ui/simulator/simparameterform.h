#pragma once

#include "inspect/nodegroup.h"
#include "sim/simconfig.h"

#include <QStringList>
#include <QWidget>
#include <memory>

namespace Ui {
class SimParameterForm;
}

/// The simulator's Setup form: the target (a configured group, or redis-server nodes the
/// simulator starts itself), a ready-made scenario, and the parameters of a run as lockctl
/// simulate takes them. The static form is simparameterform.ui; the combo boxes whose items
/// carry values are filled here.
class SimParameterForm : public QWidget
{
    Q_OBJECT

public:
    explicit SimParameterForm(QWidget *parent = nullptr);
    ~SimParameterForm() override;

    /// The targets: every group (one node: single-instance lock; several: Redlock) plus local
    /// nodes. The selection survives when its group still exists.
    void setGroups(const lockscope::inspect::GroupConfig &config);

    /// The run the form describes. Nodes: the target group's; for local nodes, placeholders
    /// that the nodes started at Start replace.
    lockscope::sim::SimConfig config() const;
    /// What stops the form from running, one problem per entry; empty when it can start.
    QStringList problems() const;

    /// Chooses a ready-made scenario by name (sim::scenarios()); false for an unknown name.
    bool selectScenario(const QString &name);

    bool localTarget() const;
    /// How many local nodes to start (for a local target).
    int localNodeCount() const;
    /// The target group; null for local nodes or a group no longer configured.
    const lockscope::inspect::NodeGroup *targetGroup() const;
    /// The target group's name; empty for local nodes.
    QString targetGroupName() const;
    /// Asks before a run on a group with production nodes, naming the group, its production
    /// nodes and the keys the run writes. True when the target has none or the operator agrees.
    bool confirmProduction();

private:
    struct Target
    {
        bool local = true;
        QString group;
    };

    Target currentTarget() const;
    void onTargetChanged();
    void onScenarioChanged();
    /// Enables the parameters the chosen lock kind takes and says what it does.
    void onLockKindChanged();
    void fillForm(const lockscope::sim::SimConfig &config);

    std::unique_ptr<Ui::SimParameterForm> m_ui;
    lockscope::inspect::GroupConfig m_config;
    /// The scenario's fault schedule (and name), kept while the form overrides its parameters.
    lockscope::sim::SimConfig m_scenarioConfig;
};
