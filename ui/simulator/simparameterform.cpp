#include "simparameterform.h"

#include "ui_simparameterform.h"

#include <QMessageBox>
#include <QPushButton>
#include <cmath>
#include <initializer_list>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
using lockscope::lock::RetryStrategy;
using lockscope::redis::NodeConfig;
using namespace lockscope::sim;
using namespace std::chrono_literals;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

/// Target combo: whether the item is the "local nodes" entry; the group name otherwise.
constexpr int LocalRole = Qt::UserRole + 1;
constexpr int GroupRole = Qt::UserRole + 2;

/// Sections kept for the timeline, the CSV export and the JSON's event count.
constexpr int EventCapacity = 50'000;

} // namespace

SimParameterForm::SimParameterForm(QWidget *parent)
    : QWidget(parent), m_ui(std::make_unique<Ui::SimParameterForm>())
{
    m_ui->setupUi(this);
    // The notes are secondary, as theme::noteLabel() makes them.
    m_ui->simTargetNote->setForegroundRole(QPalette::PlaceholderText);
    m_ui->simScenarioNote->setForegroundRole(QPalette::PlaceholderText);
    connect(m_ui->simTarget, &QComboBox::currentIndexChanged, this, &SimParameterForm::onTargetChanged);
    connect(m_ui->simLocalNodes, &QSpinBox::valueChanged, this, &SimParameterForm::onTargetChanged);

    QComboBox *scenario = m_ui->simScenario;
    scenario->addItem(tr("Custom"), QString());
    for (const Scenario &s : scenarios()) {
        scenario->addItem(s.title, s.name);
        scenario->setItemData(scenario->count() - 1, s.description, Qt::ToolTipRole);
    }
    connect(scenario, &QComboBox::currentIndexChanged, this, &SimParameterForm::onScenarioChanged);
    m_ui->simScenarioNote->setText(tr("Your own parameters, no scheduled faults."));

    m_ui->simLockKindNote->setForegroundRole(QPalette::PlaceholderText);
    m_ui->simLockKind->addItem(tr("Mutex"), int(SimLockKind::Mutex));
    m_ui->simLockKind->addItem(tr("Read/write"), int(SimLockKind::ReadWrite));
    m_ui->simLockKind->addItem(tr("Semaphore"), int(SimLockKind::Semaphore));
    m_ui->simLockKind->addItem(tr("Fair"), int(SimLockKind::Fair));
    m_ui->simLockKind->addItem(tr("Reentrant"), int(SimLockKind::Reentrant));
    connect(m_ui->simLockKind, &QComboBox::currentIndexChanged, this, &SimParameterForm::onLockKindChanged);

    m_ui->simHoldDistribution->addItem(tr("Fixed"), int(HoldDistribution::Fixed));
    m_ui->simHoldDistribution->addItem(tr("Uniform"), int(HoldDistribution::Uniform));
    m_ui->simHoldDistribution->addItem(tr("Exponential"), int(HoldDistribution::Exponential));

    m_ui->simRetryKind->addItem(tr("Exponential"), int(RetryStrategy::Kind::Exponential));
    m_ui->simRetryKind->addItem(tr("Linear"), int(RetryStrategy::Kind::Linear));
    m_ui->simRetryKind->addItem(tr("No retry"), int(RetryStrategy::Kind::None));
    connect(m_ui->simRetryKind, &QComboBox::currentIndexChanged, this, [this] {
        const auto kind = static_cast<RetryStrategy::Kind>(m_ui->simRetryKind->currentData().toInt());
        m_ui->simRetryBase->setEnabled(kind != RetryStrategy::Kind::None);
        m_ui->simRetryMax->setEnabled(kind == RetryStrategy::Kind::Exponential);
    });

    m_ui->simWakeup->addItem(tr("Poll (sleep out the retry delay)"), int(Wakeup::Poll));
    m_ui->simWakeup->addItem(tr("Pub/sub (woken by releases)"), int(Wakeup::PubSub));
    // The fair lock's note depends on the wake-up.
    connect(m_ui->simWakeup, &QComboBox::currentIndexChanged, this, &SimParameterForm::onLockKindChanged);

    // The spin boxes would be as wide as their largest value ("2000000000 acq."); let them
    // shrink with a narrow dock instead.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    for (QAbstractSpinBox *spin : std::initializer_list<QAbstractSpinBox *>{
             m_ui->simWorkers, m_ui->simKeys, m_ui->simHold, m_ui->simTtl, m_ui->simWait, m_ui->simRetryBase,
             m_ui->simRetryMax, m_ui->simDuration, m_ui->simMaxAcquisitions, m_ui->simStall,
             m_ui->simStallEvery, m_ui->simLocalNodes, m_ui->simReadRatio, m_ui->simPermits})
        spin->setMinimumWidth(em * 5);

    // The engine's defaults, with lockctl simulate's 10 s.
    SimConfig defaults;
    defaults.duration = 10s;
    fillForm(defaults);
    onLockKindChanged();
    setGroups({});
}

SimParameterForm::~SimParameterForm() = default;

// --- target ---------------------------------------------------------------------------------

void SimParameterForm::setGroups(const GroupConfig &config)
{
    QComboBox *target = m_ui->simTarget;
    const Target previous = target->count() > 0 ? currentTarget() : Target{};
    m_config = config;
    const QSignalBlocker blocker(target);
    target->clear();
    target->addItem(tr("Local nodes"));
    target->setItemData(0, true, LocalRole);
    target->setItemData(0,
                        tr("redis-server processes on free loopback ports, started for the run and stopped "
                           "after it; they can be paused, killed and restarted"),
                        Qt::ToolTipRole);
    int select = 0;
    for (const NodeGroup &group : m_config.groups) {
        bool production = false;
        for (const auto &node : group.nodes)
            production = production || node.production;
        QString text = group.isRedlockSet()
                           ? tr("%1 (Redlock, %2 nodes)").arg(group.name).arg(group.nodes.size())
                           : tr("%1 (single node)").arg(group.name);
        if (production)
            text += QStringLiteral(" — ") + tr("production");
        target->addItem(text);
        const int index = target->count() - 1;
        target->setItemData(index, false, LocalRole);
        target->setItemData(index, group.name, GroupRole);
        if (!previous.local && previous.group == group.name)
            select = index;
    }
    target->setCurrentIndex(select);
    onTargetChanged();
}

bool SimParameterForm::localTarget() const
{
    return currentTarget().local;
}

int SimParameterForm::localNodeCount() const
{
    return m_ui->simLocalNodes->value();
}

QString SimParameterForm::targetGroupName() const
{
    return currentTarget().group;
}

SimParameterForm::Target SimParameterForm::currentTarget() const
{
    const int index = m_ui->simTarget->currentIndex();
    if (index < 0 || m_ui->simTarget->itemData(index, LocalRole).toBool())
        return Target{};
    return Target{false, m_ui->simTarget->itemData(index, GroupRole).toString()};
}

const NodeGroup *SimParameterForm::targetGroup() const
{
    const Target target = currentTarget();
    return target.local ? nullptr : m_config.group(target.group);
}

void SimParameterForm::onTargetChanged()
{
    QSpinBox *localNodes = m_ui->simLocalNodes;
    localNodes->setSuffix(localNodes->value() == 1 ? tr(" node") : tr(" nodes"));
    const bool local = localTarget();
    localNodes->setVisible(local);
    if (local) {
        const int n = localNodes->value();
        m_ui->simTargetNote->setText(
            n == 1 ? tr("Single-instance lock on one redis-server started for the run (stopped after it).")
                   : tr("Redlock over %1 redis-servers started for the run (stopped after it).").arg(n));
        return;
    }
    const NodeGroup *group = targetGroup();
    if (!group) {
        m_ui->simTargetNote->clear();
        return;
    }
    QStringList names;
    bool production = false;
    for (const auto &node : group->nodes) {
        names << node.config.label();
        production = production || node.production;
    }
    QString text =
        group->isRedlockSet()
            ? tr("Redlock over %1 (quorum %2).").arg(names.join(QStringLiteral(", "))).arg(group->quorum())
            : tr("Single-instance lock on %1.").arg(names.join(QString()));
    text += QLatin1Char(' ') + tr("Writes lockscope:sim:<run id>:* keys and deletes them at the end.");
    if (production)
        text += QLatin1Char(' ') + tr("Production: asks before it starts.");
    m_ui->simTargetNote->setText(text);
}

bool SimParameterForm::confirmProduction()
{
    const NodeGroup *group = targetGroup();
    if (!group)
        return true;
    QStringList production;
    for (const auto &node : group->nodes) {
        if (node.production)
            production << node.config.label();
    }
    if (production.isEmpty())
        return true;
    const SimConfig run = config();
    QMessageBox box(
        QMessageBox::Warning, tr("Run the simulator on production?"),
        tr("<p>Group <b>%1</b> has production nodes: %2.</p>"
           "<p>The simulator will take and release locks there as fast as %3 workers can, on "
           "the keys <code>lockscope:sim:&lt;run id&gt;:k0</code> … <code>k%4</code> and their "
           "fence counters, and delete them when the run ends.</p>")
            .arg(group->name.toHtmlEscaped(), production.join(QStringLiteral(", ")).toHtmlEscaped())
            .arg(run.workers)
            .arg(run.keys - 1),
        QMessageBox::NoButton, this);
    QPushButton *accept = box.addButton(tr("Run on %1").arg(group->name), QMessageBox::AcceptRole);
    QPushButton *cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    cancel->setFocus();
    box.exec();
    return box.clickedButton() == accept;
}

// --- parameters -----------------------------------------------------------------------------

void SimParameterForm::onScenarioChanged()
{
    const QString name = m_ui->simScenario->currentData().toString();
    const std::optional<Scenario> scenario = findScenario(name);
    if (!scenario) {
        m_scenarioConfig = SimConfig{};
        m_ui->simScenarioNote->setText(tr("Your own parameters, no scheduled faults."));
        return;
    }
    SimConfig config;
    applyScenario(name, config);
    m_scenarioConfig = config;
    fillForm(config);
    QString note = scenario->description;
    if (!config.faults.empty()) {
        QStringList faults;
        for (const SimFault &fault : config.faults)
            faults << fault.describe();
        note += QLatin1Char(' ') + tr("Faults: %1.").arg(faults.join(QStringLiteral("; ")));
    }
    m_ui->simScenarioNote->setText(note);
    if (scenario->needsLocal || (localTarget() && scenario->nodes > 0)) {
        m_ui->simTarget->setCurrentIndex(0);
        if (scenario->nodes > 0)
            m_ui->simLocalNodes->setValue(scenario->nodes);
    }
}

void SimParameterForm::onLockKindChanged()
{
    const auto kind = static_cast<SimLockKind>(m_ui->simLockKind->currentData().toInt());
    const bool readWrite = kind == SimLockKind::ReadWrite;
    const bool semaphore = kind == SimLockKind::Semaphore;
    m_ui->simReadRatioLabel->setEnabled(readWrite);
    m_ui->simReadRatio->setEnabled(readWrite);
    m_ui->simPermitsLabel->setEnabled(semaphore);
    m_ui->simPermits->setEnabled(semaphore);
    QString note;
    switch (kind) {
    case SimLockKind::Mutex:
        note = tr("One holder at a time.");
        break;
    case SimLockKind::ReadWrite:
        note = tr("Each critical section reads or writes: readers share a key, a writer holds it alone.");
        break;
    case SimLockKind::Semaphore:
        note = tr("Up to the permits hold a key at once; one more at once is a violation. Fencing does not "
                  "order the holders of a semaphore.");
        break;
    case SimLockKind::Fair:
        note = tr("One holder; waiters are served in the order they arrived.");
        // SimStats::orderViolations: with pub/sub no waiter sleeps on its clock, so the
        // resource never sees one waiting ahead of another.
        if (static_cast<Wakeup>(m_ui->simWakeup->currentData().toInt()) == Wakeup::PubSub)
            note += QLatin1Char(' ') + tr("With pub/sub wake-up that order is not counted.");
        else
            note += QLatin1Char(' ') + tr("The statistics count the sections that jumped the queue.");
        break;
    case SimLockKind::Reentrant:
        note = tr("One holder, who takes the lock again inside its critical section and releases it twice.");
        break;
    }
    m_ui->simLockKindNote->setText(note);
}

void SimParameterForm::fillForm(const SimConfig &config)
{
    m_ui->simLockKind->setCurrentIndex(m_ui->simLockKind->findData(int(config.lockKind)));
    // The fields of the other kinds keep what the operator chose, for when they come back.
    if (config.lockKind == SimLockKind::ReadWrite)
        m_ui->simReadRatio->setValue(static_cast<int>(std::lround(config.effectiveReadRatio() * 100.0)));
    if (config.lockKind == SimLockKind::Semaphore)
        m_ui->simPermits->setValue(config.permits);
    m_ui->simWorkers->setValue(config.workers);
    m_ui->simKeys->setValue(config.keys);
    m_ui->simHold->setValue(static_cast<double>(config.hold.count()) / 1000.0);
    m_ui->simHoldDistribution->setCurrentIndex(
        m_ui->simHoldDistribution->findData(int(config.holdDistribution)));
    m_ui->simTtl->setValue(static_cast<int>(config.ttl.count()));
    m_ui->simWait->setValue(static_cast<int>(config.wait.count()));
    m_ui->simRetryKind->setCurrentIndex(m_ui->simRetryKind->findData(int(config.retry.kind)));
    m_ui->simRetryBase->setValue(static_cast<int>(config.retry.delay.count()));
    m_ui->simRetryMax->setValue(static_cast<int>(config.retry.maxDelay.count()));
    m_ui->simDuration->setValue(static_cast<double>(config.duration.count()) / 1000.0);
    m_ui->simMaxAcquisitions->setValue(
        static_cast<int>(std::min<qint64>(config.maxAcquisitions, 2'000'000'000)));
    m_ui->simStall->setValue(static_cast<int>(config.stall.count()));
    m_ui->simStallEvery->setValue(config.stallEvery);
    m_ui->simFencing->setChecked(config.fencing);
    m_ui->simWatchdog->setChecked(config.watchdog);
    m_ui->simCheckValidity->setChecked(config.checkValidity);
    m_ui->simBreaker->setChecked(config.breaker);
    m_ui->simDegraded->setChecked(config.degraded);
    m_ui->simWakeup->setCurrentIndex(m_ui->simWakeup->findData(int(config.wakeup)));
}

bool SimParameterForm::selectScenario(const QString &name)
{
    const int index = m_ui->simScenario->findData(name);
    if (index < 0)
        return false;
    m_ui->simScenario->setCurrentIndex(index);
    return true;
}

SimConfig SimParameterForm::config() const
{
    // The scenario's fault schedule and name stay; the form overrides its parameters (as the
    // options of lockctl simulate override --scenario).
    SimConfig config = m_scenarioConfig;
    config.workers = m_ui->simWorkers->value();
    config.keys = m_ui->simKeys->value();
    config.hold = microseconds(std::llround(m_ui->simHold->value() * 1000.0));
    config.holdDistribution = static_cast<HoldDistribution>(m_ui->simHoldDistribution->currentData().toInt());
    config.ttl = milliseconds(m_ui->simTtl->value());
    config.wait = milliseconds(m_ui->simWait->value());
    const milliseconds retryBase(m_ui->simRetryBase->value());
    switch (static_cast<RetryStrategy::Kind>(m_ui->simRetryKind->currentData().toInt())) {
    case RetryStrategy::Kind::Exponential:
        config.retry =
            RetryStrategy::exponential(retryBase, milliseconds(m_ui->simRetryMax->value()), 0, 0.5);
        break;
    case RetryStrategy::Kind::Linear:
        config.retry = RetryStrategy::linear(retryBase, 0, 0.5);
        break;
    case RetryStrategy::Kind::None:
        config.retry = RetryStrategy::none();
        break;
    }
    config.duration = milliseconds(std::llround(m_ui->simDuration->value() * 1000.0));
    config.maxAcquisitions = m_ui->simMaxAcquisitions->value();
    config.stall = milliseconds(m_ui->simStall->value());
    config.stallEvery = m_ui->simStallEvery->value();
    config.fencing = m_ui->simFencing->isChecked();
    config.watchdog = m_ui->simWatchdog->isChecked();
    config.checkValidity = m_ui->simCheckValidity->isChecked();
    config.breaker = m_ui->simBreaker->isChecked();
    config.degraded = m_ui->simDegraded->isChecked();
    config.wakeup = static_cast<Wakeup>(m_ui->simWakeup->currentData().toInt());
    // The other kinds take neither (SimConfig::validate refuses them there).
    config.lockKind = static_cast<SimLockKind>(m_ui->simLockKind->currentData().toInt());
    config.readRatio = config.lockKind == SimLockKind::ReadWrite
                           ? std::optional<double>(m_ui->simReadRatio->value() / 100.0)
                           : std::nullopt;
    config.permits = config.lockKind == SimLockKind::Semaphore ? m_ui->simPermits->value() : 0;
    config.eventCapacity = EventCapacity;
    config.nodes.clear();
    if (localTarget()) {
        for (int i = 0; i < localNodeCount(); ++i) {
            NodeConfig node;
            node.name = QStringLiteral("local%1").arg(i);
            config.nodes.push_back(node);
        }
    } else if (const NodeGroup *group = targetGroup()) {
        for (const auto &node : group->nodes)
            config.nodes.push_back(node.clientConfig());
    }
    return config;
}

QStringList SimParameterForm::problems() const
{
    QStringList problems;
    const bool local = localTarget();
    const SimConfig config = this->config();
    // Read-only nodes are refused by SimConfig::validate below (core's rule).
    if (!local && !targetGroup())
        problems << tr("target: the group %1 is no longer configured").arg(currentTarget().group);
    if (const auto scenario = findScenario(config.scenario)) {
        if (scenario->needsLocal && !local)
            problems << tr("scenario %1 kills and restarts nodes: choose local nodes as the target")
                            .arg(scenario->name);
        else if (scenario->nodes > 0 && static_cast<int>(config.nodes.size()) < scenario->nodes)
            problems << tr("scenario %1 needs %2 nodes, the target has %3")
                            .arg(scenario->name)
                            .arg(scenario->nodes)
                            .arg(config.nodes.size());
    }
    if (config.retry.kind == RetryStrategy::Kind::Exponential && config.retry.maxDelay < config.retry.delay)
        problems << tr("retry: the longest delay is below the first");
    problems << config.validate(std::vector<bool>(config.nodes.size(), local));
    return problems;
}
