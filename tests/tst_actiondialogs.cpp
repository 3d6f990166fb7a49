// The operator action dialogs (acquire, extend, force-release, "open in lockctl"): their
// confirmation and validation rules offscreen, then the lockctl commands they build, run for
// real against redis-server nodes this test starts.

#include "actionwidgets.h"
#include "dialogs/acquiredialog.h"
#include "dialogs/extenddialog.h"
#include "dialogs/forcereleasedialog.h"
#include "dialogs/holderdialog.h"
#include "dialogs/lockctlcommanddialog.h"
#include "inspect/keyread.h"
#include "inspect/lockrecord.h"
#include "inspect/lockschema.h"
#include "inspect/nodegroup.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockctlcommand.h"
#include "lockctlrunner.h"
#include "lockdetailswidget.h"
#include "lockfixture.h"
#include "locktext.h"
#include "models/locktablemodel.h"
#include "samplelocks.h"
#include "util/duration.h"
#include "widgettest.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QScopeGuard>
#include <QSet>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace lockscope;
using namespace lockscope::inspect;
using lockscope::test::RunResult;
using lockscope::test::ServerSet;
using std::chrono::milliseconds;
using widgettest::type;

namespace {

/// A group of `count` nodes named node0.. (ports need not be live for the pure UI tests).
NodeGroup makeGroup(const QString &name, int count, std::initializer_list<int> production = {},
                    std::initializer_list<int> readOnly = {})
{
    NodeGroup group;
    group.name = name;
    for (int i = 0; i < count; ++i) {
        GroupNode node;
        node.config.host = QStringLiteral("127.0.0.1");
        node.config.port = quint16(17000 + i);
        node.config.name = QStringLiteral("node%1").arg(i);
        group.nodes.push_back(node);
    }
    for (int i : production)
        group.nodes.at(std::size_t(i)).production = true;
    for (int i : readOnly)
        group.nodes.at(std::size_t(i)).readOnly = true;
    return group;
}

QByteArray lockValue(const QByteArray &token, const QString &label = QStringLiteral("nightly export"))
{
    lock::LockValue value;
    value.token = token;
    value.fence = 17;
    value.host = QStringLiteral("build-7");
    value.pid = 4242;
    value.thread = QStringLiteral("worker-1");
    value.acquiredAt = QDateTime(QDate(2024, 5, 1), QTime(12, 0), Qt::UTC);
    value.label = label;
    return value.encode();
}

/// A record as the scanner would build it: `values[i]` on node i (null = absent), decoded.
LockRecord makeRecord(const QByteArray &key, const std::vector<QByteArray> &values, qint64 pttl = 25'000)
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    std::vector<NodeEntry> entries;
    for (std::size_t i = 0; i < values.size(); ++i) {
        NodeEntry entry;
        entry.node = QStringLiteral("node%1").arg(i);
        if (!values[i].isNull()) {
            entry.raw.type = RawEntry::Type::String;
            entry.raw.typeName = QStringLiteral("string");
            entry.raw.value = values[i];
            entry.raw.pttlMs = pttl;
            entry.decoded = registry.decode(key, entry.raw);
        } else {
            entry.raw.typeName = QStringLiteral("none");
        }
        entries.push_back(std::move(entry));
    }
    LockRecord record = aggregate(key, std::move(entries));
    record.readAt = QDateTime::currentDateTime();
    return record;
}

/// What the nodes of `set` hold under `key` now, as a decoded record (the app's snapshot).
LockRecord readRecord(ServerSet &set, const QByteArray &key)
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    std::vector<NodeEntry> entries;
    for (int i = 0; i < set.size(); ++i) {
        NodeEntry entry;
        entry.node = ServerSet::nodeName(i);
        const QByteArray value = set.get(i, key);
        if (!value.isNull()) {
            entry.raw.type = RawEntry::Type::String;
            entry.raw.typeName = QStringLiteral("string");
            entry.raw.value = value;
            entry.raw.pttlMs = set.pttl(i, key);
            entry.decoded = registry.decode(key, entry.raw);
        }
        entries.push_back(std::move(entry));
    }
    return aggregate(key, std::move(entries));
}

/// The group of a started server set, as the app would hold it.
NodeGroup groupOf(const ServerSet &set, const QString &name)
{
    NodeGroup group;
    group.name = name;
    for (const redis::NodeConfig &config : set.configs())
        group.nodes.push_back(GroupNode{config, false, false, {}});
    return group;
}

/// Runs a command line through /bin/sh exactly as an operator pasting it would.
RunResult runShell(const QString &commandLine, const QString &dataHome)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("LOCKSCOPE_NODES"));
    env.remove(QStringLiteral("LOCKSCOPE_CONFIG"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dataHome);
    process.setProcessEnvironment(env);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), commandLine});
    RunResult result;
    if (!process.waitForStarted(10000) || !process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        result.err = QStringLiteral("sh did not run: ") + process.errorString();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

/// Runs a command line on a pseudo-terminal (util-linux `script`) and types `typed` + Enter,
/// the way an operator answers lockctl force-release's prompt.
RunResult runOnTerminal(const QString &script, const QString &commandLine, const QByteArray &typed,
                        const QString &dataHome)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("LOCKSCOPE_NODES"));
    env.remove(QStringLiteral("LOCKSCOPE_CONFIG"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dataHome);
    process.setProcessEnvironment(env);
    process.start(script, {QStringLiteral("-qec"), commandLine, QStringLiteral("/dev/null")});
    RunResult result;
    if (!process.waitForStarted(10000)) {
        result.err = process.errorString();
        return result;
    }
    process.write(typed + '\n');
    process.closeWriteChannel();
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

template <typename T>
T *child(QWidget &parent, const char *name)
{
    return parent.findChild<T *>(QLatin1String(name));
}

} // namespace

class TestActionDialogs : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    // --- force-release ------------------------------------------------------------------------

    void forceReleaseProductionNeedsTheTypedKey()
    {
        const NodeGroup group = makeGroup(QStringLiteral("payments"), 3, {1});
        const QByteArray key = "jobs:nightly export";
        const LockRecord record = makeRecord(key, {lockValue("t1"), lockValue("t1"), lockValue("t1")});
        QVERIFY(ForceReleaseDialog::needsTypedKey(record, group));
        QVERIFY(ForceReleaseDialog::blockedReason(record, group).isEmpty());

        ForceReleaseDialog dialog(group.name, record, group);
        auto *release = child<QPushButton>(dialog, "releaseButton");
        auto *typed = child<QLineEdit>(dialog, "typedKey");
        QVERIFY(release && typed);
        QVERIFY(!release->isEnabled());
        QTest::keyClicks(typed, QStringLiteral("jobs:nightly expor")); // one character short
        QVERIFY(!release->isEnabled());
        typed->setText(QStringLiteral("JOBS:NIGHTLY EXPORT")); // case matters
        QVERIFY(!release->isEnabled());
        typed->setText(QStringLiteral("jobs:nightly export ")); // so does a trailing space
        QVERIFY(!release->isEnabled());
        typed->clear();
        QTest::keyClicks(typed, QString::fromUtf8(key));
        QVERIFY(release->isEnabled());
        QTest::keyClick(typed, Qt::Key_Backspace);
        QVERIFY(!release->isEnabled());
    }

    void forceReleaseProductionNodeWithoutTheKeyNeedsNoTyping()
    {
        // node1 is production, but the key is only on node0 and node2.
        const NodeGroup group = makeGroup(QStringLiteral("mixed"), 3, {1});
        const LockRecord record = makeRecord("k", {lockValue("t1"), QByteArray(), lockValue("t1")});
        QVERIFY(!ForceReleaseDialog::needsTypedKey(record, group));
    }

    void forceReleaseNonProductionEnablesDirectly()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:a", {lockValue("t1")});
        QVERIFY(!ForceReleaseDialog::needsTypedKey(record, group));
        ForceReleaseDialog dialog(group.name, record, group);
        QVERIFY(!child<QLineEdit>(dialog, "typedKey"));
        auto *release = child<QPushButton>(dialog, "releaseButton");
        QVERIFY(release->isEnabled());
        QCOMPARE(release->text(), QStringLiteral("Force release"));
        QVERIFY(!dialog.unconditional());
    }

    void forceReleaseReadOnlyIsDisabledWithTheReason()
    {
        const NodeGroup group = makeGroup(QStringLiteral("replica"), 3, {}, {2});
        const LockRecord record = makeRecord("jobs:ro", {lockValue("t1"), lockValue("t1"), lockValue("t1")});
        const QString reason = ForceReleaseDialog::blockedReason(record, group);
        QVERIFY2(reason.contains(QLatin1String("node2")) && reason.contains(QLatin1String("read-only")),
                 qPrintable(reason));

        ForceReleaseDialog dialog(group.name, record, group);
        auto *release = child<QPushButton>(dialog, "releaseButton");
        QVERIFY(!release->isEnabled());
        QCOMPARE(release->toolTip(), reason);
        auto *message = child<InlineMessage>(dialog, "blockedMessage");
        QVERIFY(message->isVisibleTo(&dialog));
        QCOMPARE(message->text(), reason);
        // Checking "unconditional" does not get around it.
        child<QCheckBox>(dialog, "unconditional")->setChecked(true);
        QVERIFY(!release->isEnabled());

        // A read-only node that does not hold the key does not block.
        const LockRecord elsewhere = makeRecord("jobs:ro", {lockValue("t1"), lockValue("t1"), QByteArray()});
        QVERIFY(ForceReleaseDialog::blockedReason(elsewhere, group).isEmpty());
        // Nor does anything when no node holds it... except that there is nothing to release.
        const LockRecord gone = makeRecord("jobs:gone", {QByteArray(), QByteArray(), QByteArray()});
        QVERIFY(!ForceReleaseDialog::blockedReason(gone, group).isEmpty());
    }

    void forceReleaseCancelIsFocusedAndDefault()
    {
        const NodeGroup group = makeGroup(QStringLiteral("payments"), 3, {0});
        const QByteArray key = "jobs:enter";
        const LockRecord record = makeRecord(key, {lockValue("t1"), lockValue("t1"), lockValue("t1")});
        ForceReleaseDialog dialog(group.name, record, group);
        auto *cancel = child<QPushButton>(dialog, "cancelButton");
        auto *release = child<QPushButton>(dialog, "releaseButton");
        dialog.show();
        dialog.activateWindow(); // no window manager under Xvfb activates it for us
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        QCOMPARE(QApplication::focusWidget(), cancel);
        QVERIFY(cancel->isDefault());
        QVERIFY(!release->isDefault());
        QVERIFY(!release->autoDefault());

        // Even with the key typed, Enter in the field cancels: only a click releases.
        auto *typed = child<QLineEdit>(dialog, "typedKey");
        typed->setFocus();
        QTest::keyClicks(typed, QString::fromUtf8(key));
        QVERIFY(release->isEnabled());
        QTest::keyClick(typed, Qt::Key_Return);
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY(!dialog.isVisible());
    }

    void forceReleaseUnconditionalWarns()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:u", {lockValue("t1")});
        ForceReleaseDialog dialog(group.name, record, group);
        auto *box = child<QCheckBox>(dialog, "unconditional");
        auto *warning = child<InlineMessage>(dialog, "unconditionalWarning");
        QVERIFY(!box->isChecked());
        QVERIFY(!warning->isVisibleTo(&dialog));
        box->setChecked(true);
        QVERIFY(dialog.unconditional());
        QVERIFY(warning->isVisibleTo(&dialog));
        QVERIFY(warning->text().contains(QLatin1String("another owner")));
        QCOMPARE(warning->kind(), InlineMessage::Kind::Warning);
    }

    void forceReleaseNamesKeyOwnerTokenAndNodes()
    {
        const NodeGroup group = makeGroup(QStringLiteral("payments"), 3);
        const LockRecord record =
            makeRecord("jobs:named", {lockValue("tok-abc"), lockValue("tok-abc"), QByteArray()});
        ForceReleaseDialog dialog(group.name, record, group);
        QCOMPARE(child<QLabel>(dialog, "keyLabel")->text(), QStringLiteral("jobs:named"));
        QCOMPARE(child<QLabel>(dialog, "tokenLabel")->text(), QStringLiteral("tok-abc"));
        const QString owner = child<QLabel>(dialog, "ownerLabel")->text();
        QVERIFY2(owner.contains(QLatin1String("build-7")) && owner.contains(QLatin1String("nightly export")),
                 qPrintable(owner));
        auto *nodes = child<QTreeWidget>(dialog, "nodeList");
        QCOMPARE(nodes->topLevelItemCount(), 3);
        QCOMPARE(nodes->topLevelItem(0)->text(2), QString::fromUtf8(lockValue("tok-abc")));
        QCOMPARE(nodes->topLevelItem(2)->text(2), QStringLiteral("(absent)"));
    }

    // --- acquire ------------------------------------------------------------------------------

    void acquireValidation()
    {
        const std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1),
                                            makeGroup(QStringLiteral("payments"), 3, {0})};
        AcquireDialog dialog(groups, QStringLiteral("payments"));
        dialog.setOperator(Operator{QStringLiteral("alice"), QStringLiteral("ops-box")});
        auto *ok = child<QPushButton>(dialog, "acquireButton");
        auto *key = child<QLineEdit>(dialog, "key");
        auto *ttl = child<QLineEdit>(dialog, "ttl");
        auto *ttlMessage = child<InlineMessage>(dialog, "ttlMessage");
        QCOMPARE(dialog.group(), QStringLiteral("payments"));
        QVERIFY(!ok->isEnabled()); // no key yet

        QTest::keyClicks(key, QStringLiteral("maint:orders db"));
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.key(), QByteArray("maint:orders db"));
        QCOMPARE(dialog.ttl(), milliseconds(std::chrono::minutes(5)));

        ttl->setText(QStringLiteral("soon"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(ttlMessage->isVisibleTo(&dialog));
        QVERIFY2(ttlMessage->text().contains(QLatin1String("soon")), qPrintable(ttlMessage->text()));
        QCOMPARE(dialog.ttl(), milliseconds(0));
        ttl->setText(QStringLiteral("30")); // a bare number would be 30 ms: refused
        QVERIFY(!ok->isEnabled());
        QVERIFY2(ttlMessage->text().contains(QLatin1String("unit")), qPrintable(ttlMessage->text()));
        ttl->setText(QStringLiteral("0s"));
        QVERIFY(!ok->isEnabled());
        ttl->setText(QStringLiteral("90s"));
        QVERIFY(ok->isEnabled());
        QVERIFY(ttlMessage->text().isEmpty()); // its room stays (the dialog keeps its size)
        QCOMPARE(dialog.ttl(), milliseconds(90'000));
        ttl->setText(QStringLiteral("1m30s")); // what formatDuration writes reads back
        QCOMPARE(dialog.ttl(), milliseconds(90'000));

        auto *wait = child<QLineEdit>(dialog, "wait");
        QCOMPARE(dialog.wait(), milliseconds(0)); // empty: one attempt
        wait->setText(QStringLiteral("whenever"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(child<InlineMessage>(dialog, "waitMessage")->isVisibleTo(&dialog));
        wait->setText(QStringLiteral("10s"));
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.wait(), milliseconds(10'000));

        child<QLineEdit>(dialog, "note")->setText(QStringLiteral("db upgrade"));
        QCOMPARE(dialog.note(), QStringLiteral("db upgrade"));
        QCOMPARE(child<QLabel>(dialog, "ownerPreview")->text(),
                 QStringLiteral("operator alice@ops-box: db upgrade"));

        key->clear();
        QVERIFY(!ok->isEnabled());
        QVERIFY(child<InlineMessage>(dialog, "keyMessage")->isVisibleTo(&dialog));
        QVERIFY(!child<InlineMessage>(dialog, "keyMessage")->text().isEmpty());
    }

    // The Acquire dialog reads a key as the app shows keys: \xNN is a byte.
    void acquireKeyIsTypedInItsDisplayedForm()
    {
        const std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1)};
        AcquireDialog dialog(groups, QStringLiteral("staging"));
        type(child<QLineEdit>(dialog, "key"), QStringLiteral("bin:\\xff:lock"));
        QCOMPARE(dialog.key(), QByteArray("bin:\xff:lock"));
        QVERIFY(child<QPushButton>(dialog, "acquireButton")->isEnabled());
    }

    void acquireDialogKeepsItsSizeWhileTyping()
    {
        const std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1)};
        AcquireDialog dialog(groups, QStringLiteral("staging"));
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::qWait(50);
        const QSize size = dialog.size();
        const auto typeChecking = [&](const char *name, const QString &text) {
            auto *edit = child<QLineEdit>(dialog, name);
            edit->setFocus();
            edit->selectAll();
            QTest::keyClick(edit, Qt::Key_Backspace);
            QTest::qWait(30);
            QCOMPARE(dialog.size(), size);
            for (const QChar c : text) {
                QTest::keyClicks(edit, QString(c));
                QTest::qWait(30);
                QCOMPARE(dialog.size(), size);
            }
        };
        typeChecking("key", QStringLiteral("maint:db"));
        typeChecking("ttl", QStringLiteral("12xm"));
        typeChecking("ttl", QStringLiteral("5m"));
        typeChecking("wait", QStringLiteral("3x"));
        typeChecking("wait", QStringLiteral("3s"));
        typeChecking("key", QString());
        QVERIFY(!child<QPushButton>(dialog, "acquireButton")->isEnabled());
    }

    void acquireReadOnlyGroupsCannotBeChosen()
    {
        const std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1),
                                            makeGroup(QStringLiteral("replica"), 2, {}, {1})};
        {
            AcquireDialog dialog(groups, QStringLiteral("staging"));
            auto *combo = child<QComboBox>(dialog, "group");
            auto *model = qobject_cast<QStandardItemModel *>(combo->model());
            QVERIFY(model);
            QVERIFY(model->item(0)->isEnabled());
            QVERIFY(!model->item(1)->isEnabled());
            const QString tip = combo->itemData(1, Qt::ToolTipRole).toString();
            QVERIFY2(tip.contains(QLatin1String("read-only")) && tip.contains(QLatin1String("node1")),
                     qPrintable(tip));
        }
        // Preselected anyway (the operator's current group): OK is disabled, with the reason.
        AcquireDialog dialog(groups, QStringLiteral("replica"));
        child<QLineEdit>(dialog, "key")->setText(QStringLiteral("k"));
        QCOMPARE(dialog.group(), QStringLiteral("replica"));
        QVERIFY(!child<QPushButton>(dialog, "acquireButton")->isEnabled());
        auto *message = child<InlineMessage>(dialog, "groupMessage");
        QVERIFY(message->isVisibleTo(&dialog));
        QCOMPARE(message->text(), AcquireDialog::groupBlockedReason(groups[1]));
        child<QComboBox>(dialog, "group")->setCurrentIndex(0);
        QVERIFY(child<QPushButton>(dialog, "acquireButton")->isEnabled());
        QVERIFY(!message->isVisibleTo(&dialog));
    }

    /// The lock kind, chosen as a person does: the Permits box is there for a semaphore only
    /// (OK waits for a valid number), the Owner id field for a reentrant lock only.
    void acquireKindChosenWithMouseAndKeyboard()
    {
        const std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1)};
        AcquireDialog dialog(groups, QStringLiteral("staging"));
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *ok = child<QPushButton>(dialog, "acquireButton");
        auto *kind = child<QComboBox>(dialog, "kind");
        auto *permits = child<QSpinBox>(dialog, "permits");
        auto *owner = child<QLineEdit>(dialog, "owner");
        auto *summary = child<QLabel>(dialog, "kindSummary");
        type(child<QLineEdit>(dialog, "key"), QStringLiteral("maint:pool"));
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.kind(), lock::LockKind::Mutex);
        QVERIFY(!permits->isVisibleTo(&dialog));
        QVERIFY(!owner->isVisibleTo(&dialog));

        // Click the box, then arrows and Enter in its list: "index" rows below the current one.
        const auto choose = [&](int rows, Qt::Key key) {
            QTest::mouseClick(kind, Qt::LeftButton);
            QTRY_VERIFY(kind->view()->isVisible());
            for (int i = 0; i < rows; ++i)
                QTest::keyClick(kind->view(), key);
            QTest::keyClick(kind->view(), Qt::Key_Return);
            QTRY_VERIFY(!kind->view()->isVisible());
        };
        choose(3, Qt::Key_Down); // Mutex -> Read, Write, Semaphore
        QCOMPARE(kind->currentText(), QStringLiteral("Semaphore"));
        QCOMPARE(dialog.kind(), lock::LockKind::Semaphore);
        QVERIFY(permits->isVisibleTo(&dialog));
        QVERIFY(permits->isEnabled());
        QVERIFY(!owner->isVisibleTo(&dialog));

        permits->setFocus();
        permits->selectAll();
        QTest::keyClicks(permits, QStringLiteral("3"));
        QCOMPARE(dialog.permits(), 3);
        QVERIFY(ok->isEnabled());
        QVERIFY2(summary->text().contains(QLatin1String("1 of 3 permits")), qPrintable(summary->text()));

        // Emptied: no number of permits, OK waits, and says why.
        permits->selectAll();
        QTest::keyClick(permits, Qt::Key_Backspace);
        QCOMPARE(dialog.permits(), 0);
        QVERIFY(!ok->isEnabled());
        auto *message = child<InlineMessage>(dialog, "permitsMessage");
        QVERIFY(message->isVisibleTo(&dialog));
        QVERIFY2(message->text().contains(QLatin1String("permits")), qPrintable(message->text()));
        QTest::keyClicks(permits, QStringLiteral("2"));
        QCOMPARE(dialog.permits(), 2);
        QVERIFY(ok->isEnabled());
        QVERIFY(message->text().isEmpty());

        choose(3, Qt::Key_Up); // back to Mutex
        QCOMPARE(dialog.kind(), lock::LockKind::Mutex);
        QVERIFY(!permits->isVisibleTo(&dialog));
        QCOMPARE(dialog.permits(), 0); // a mutex takes no permits
        QVERIFY(ok->isEnabled());
        QVERIFY(!message->isVisibleTo(&dialog));

        choose(4, Qt::Key_Down); // Read, Write, Semaphore, Reentrant
        QCOMPARE(dialog.kind(), lock::LockKind::Reentrant);
        QVERIFY(owner->isVisibleTo(&dialog));
        QVERIFY(owner->isEnabled());
        QVERIFY(!permits->isVisibleTo(&dialog));
        QCOMPARE(owner->placeholderText(), QStringLiteral("default: a new owner id"));
        QCOMPARE(dialog.owner(), QByteArray()); // a new owner id
        type(owner, QStringLiteral("ops-owner-7"));
        QCOMPARE(dialog.owner(), QByteArray("ops-owner-7"));
        QVERIFY(ok->isEnabled());
        QVERIFY2(summary->text().contains(QLatin1String("ops-owner-7")), qPrintable(summary->text()));

        // The setters choose the same way.
        dialog.setKind(lock::LockKind::Semaphore);
        dialog.setPermits(5);
        QCOMPARE(dialog.permits(), 5);
        QCOMPARE(dialog.owner(), QByteArray()); // the owner id is a reentrant lock's only
        QVERIFY(!owner->isVisibleTo(&dialog));
        dialog.setKind(lock::LockKind::Fair);
        QCOMPARE(kind->currentText(), QStringLiteral("Fair"));
        QCOMPARE(dialog.permits(), 0);
    }

    // --- extend -------------------------------------------------------------------------------

    void extendModeAndTtl()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:x", {lockValue("t1")}, 20'000);
        ExtendDialog dialog(group.name, record, group);
        auto *ok = child<QPushButton>(dialog, "extendButton");
        QCOMPARE(dialog.mode(), lock::ExtendMode::Add);
        QCOMPARE(dialog.ttl(), milliseconds(60'000));
        QVERIFY(ok->isEnabled());
        QVERIFY(child<QLabel>(dialog, "explanation")->text().contains(QLatin1String("Owner-checked")));
        // 1 minute added to the 20 s left, counted down since the read (1m 19s a moment later).
        QVERIFY2(child<QLabel>(dialog, "resultLabel")->text().startsWith(QLatin1String("about 1m ")) &&
                     child<QLabel>(dialog, "resultLabel")->text().contains(QLatin1String("left now + 1m")),
                 qPrintable(child<QLabel>(dialog, "resultLabel")->text()));

        child<QRadioButton>(dialog, "replaceMode")->click();
        QCOMPARE(dialog.mode(), lock::ExtendMode::Replace);
        auto *duration = child<QLineEdit>(dialog, "duration");
        duration->setText(QStringLiteral("10m"));
        QCOMPARE(dialog.ttl(), milliseconds(600'000));
        duration->setText(QStringLiteral("ten minutes"));
        QVERIFY(!ok->isEnabled());
        QCOMPARE(dialog.ttl(), milliseconds(0));
        QVERIFY(child<InlineMessage>(dialog, "durationMessage")->isVisibleTo(&dialog));
        dialog.setTtl(std::chrono::seconds(45));
        dialog.setMode(lock::ExtendMode::Add);
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.ttl(), milliseconds(45'000));
        QCOMPARE(dialog.mode(), lock::ExtendMode::Add);
    }

    void extendReadOnlyIsDisabled()
    {
        const NodeGroup group = makeGroup(QStringLiteral("replica"), 1, {}, {0});
        const LockRecord record = makeRecord("jobs:x", {lockValue("t1")});
        ExtendDialog dialog(group.name, record, group);
        auto *ok = child<QPushButton>(dialog, "extendButton");
        QVERIFY(!ok->isEnabled());
        QVERIFY(ok->toolTip().contains(QLatin1String("read-only")));
        QVERIFY(child<InlineMessage>(dialog, "blockedMessage")->isVisibleTo(&dialog));
    }

    // --- lockctl command lines ----------------------------------------------------------------

    void shellQuoting()
    {
        QCOMPARE(shellQuote(QStringLiteral("jobs:nightly")), QStringLiteral("jobs:nightly"));
        QCOMPARE(shellQuote(QStringLiteral("redis://127.0.0.1:6380/2,redis://h:1")),
                 QStringLiteral("redis://127.0.0.1:6380/2,redis://h:1"));
        QCOMPARE(shellQuote(QStringLiteral("a key")), QStringLiteral("'a key'"));
        QCOMPARE(shellQuote(QStringLiteral("it's")), QStringLiteral("'it'\\''s'"));
        QCOMPARE(shellQuote(QString()), QStringLiteral("''"));
        QCOMPARE(shellQuote(QStringLiteral("$(rm -rf ~) `x` \"y\" *")),
                 QStringLiteral("'$(rm -rf ~) `x` \"y\" *'"));
        QCOMPARE(shellQuote(QStringLiteral("redis://h:1?name=a&db=2")),
                 QStringLiteral("'redis://h:1?name=a&db=2'"));

        // Durations in a command are formatDuration()'s, which lockctl reads back exactly.
        for (const auto &[ms, text] :
             {std::pair{30'000, "30s"}, std::pair{300'000, "5m"}, std::pair{7'200'000, "2h"},
              std::pair{90'500, "1m30.5s"}, std::pair{90'000, "1m30s"}}) {
            QCOMPARE(lockscope::formatDuration(milliseconds(ms)), QLatin1String(text));
            QCOMPARE(lockscope::parseDuration(QString::fromLatin1(text)), milliseconds(ms));
        }

        QCOMPARE(escapeGlob(QStringLiteral("a*b?c[d]e\\f")), QStringLiteral("a\\*b\\?c\\[d\\]e\\\\f"));
    }

    void commandLines()
    {
        NodeGroup group = makeGroup(QStringLiteral("pay ments"), 2);
        group.nodes[1].config.password = QStringLiteral("hunter2");
        LockctlTarget target{group, false, {}, QStringLiteral("lockctl")};

        const LockctlCommand acquire =
            lockctlAcquireCommand(target, "ops: it's \"mine\"", milliseconds(30'000),
                                  QStringLiteral("operator alice@box: db"), milliseconds(5000));
        QVERIFY2(acquire.isValid(), qPrintable(acquire.error));
        QCOMPARE(acquire.text,
                 QStringLiteral(
                     "lockctl acquire 'ops: it'\\''s \"mine\"' --nodes "
                     "'redis://127.0.0.1:17000?name=node0,redis://127.0.0.1:17001?name=node1' --ttl 30s "
                     "--wait 5s --label 'operator alice@box: db'"));
        QVERIFY(!acquire.text.contains(QLatin1String("hunter2")));
        QVERIFY(!acquire.text.contains(QLatin1String("***")));
        QVERIFY(acquire.notes.join(u' ').contains(QLatin1String("node1")));

        target.saved = true;
        target.configPath = QStringLiteral("/tmp/my groups.json");
        const LockctlCommand show = lockctlShowCommand(target, "-dash");
        QCOMPARE(show.text,
                 QStringLiteral(
                     "LOCKSCOPE_CONFIG='/tmp/my groups.json' lockctl show --group 'pay ments' -- -dash"));
        const LockctlCommand list = lockctlListCommand(target, "a*b");
        QCOMPARE(list.text,
                 QStringLiteral("LOCKSCOPE_CONFIG='/tmp/my groups.json' lockctl list --group 'pay ments' "
                                "--match 'a\\*b'"));

        const LockRecord record = makeRecord("jobs:x", {lockValue("t1"), lockValue("t1")});
        const LockctlCommand extend =
            lockctlExtendCommand(target, record, milliseconds(60'000), lock::ExtendMode::Add);
        QVERIFY(extend.text.endsWith(
            QLatin1String("lockctl extend jobs:x --group 'pay ments' --token t1 --ttl 1m --add")));

        const LockctlCommand release = lockctlForceReleaseCommand(target, record, false);
        QVERIFY(release.text.contains(QStringLiteral("--expect-value ") +
                                      shellQuote(QString::fromUtf8(lockValue("t1")))));
        QVERIFY(!release.text.contains(QLatin1String("--yes")));
        QVERIFY(
            lockctlForceReleaseCommand(target, record, true).text.endsWith(QLatin1String("--unconditional")));

        // An unsaved group with a read-only node: lockctl is told which.
        NodeGroup guarded = makeGroup(QStringLiteral("g"), 2, {}, {1});
        const LockctlCommand guardedRelease = lockctlForceReleaseCommand(
            LockctlTarget{guarded, false, {}, QStringLiteral("lockctl")}, record, false);
        QVERIFY2(guardedRelease.text.endsWith(QLatin1String("--read-only-nodes node1")),
                 qPrintable(guardedRelease.text));
        // lockctl acquire and extend would write to it: no command, the reason instead.
        const LockctlTarget guardedTarget{guarded, true, {}, QStringLiteral("lockctl")};
        const LockctlCommand guardedAcquire =
            lockctlAcquireCommand(guardedTarget, "k", milliseconds(30'000), QStringLiteral("x"));
        QVERIFY(!guardedAcquire.isValid());
        QVERIFY2(guardedAcquire.error.contains(QLatin1String("read-only node node1")),
                 qPrintable(guardedAcquire.error));
        QVERIFY(!lockctlExtendCommand(guardedTarget, record, milliseconds(60'000), lock::ExtendMode::Add)
                     .isValid());

        // Another library's lock: lockctl extend cannot do it, and says why.
        LockRecord foreign = makeRecord("jobs:py", {QByteArray("5f0c-uuid-like")});
        foreign.schema = QStringLiteral("redis-py");
        const LockctlCommand foreignExtend =
            lockctlExtendCommand(target, foreign, milliseconds(60'000), lock::ExtendMode::Replace);
        QVERIFY(!foreignExtend.isValid());
        QVERIFY(foreignExtend.error.contains(QLatin1String("redis-py")));

        // Values that differ between nodes: no --expect-value, with a note.
        const LockRecord split = makeRecord("jobs:split", {lockValue("t1"), lockValue("t2")});
        const LockctlCommand splitRelease = lockctlForceReleaseCommand(target, split, false);
        QVERIFY(!splitRelease.text.contains(QLatin1String("--expect-value")));
        QVERIFY(splitRelease.notes.join(u' ').contains(QLatin1String("different values")));
    }

    /// With a reader picked in Details: set its TTL, then release it alone, by the commands the
    /// dialog offers, run against a real 3-node group; the other reader is never touched.
    void holderCommandsRunAgainstRealNodes()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        const NodeGroup group = groupOf(*set, QStringLiteral("live"));
        const LockctlTarget target{group, false, {}, QStringLiteral(LOCKCTL_PATH)};
        const QByteArray key = "catalog:prices";
        lock::Locker locker(set->configs());
        std::vector<QByteArray> tokens;
        for (int i = 0; i < 2; ++i) {
            lock::AcquireOptions options;
            options.kind = lock::LockKind::Read;
            options.ttl = std::chrono::seconds(30);
            const auto reader = locker.tryAcquire(key, options);
            QVERIFY(reader.has_value());
            tokens.push_back(reader->token);
        }
        const LockRecord record =
            lockscope::inspect::readRecord(set->configs(), key, SchemaRegistry::builtins());
        QCOMPARE(record.schema, QStringLiteral("lockscope-kinds"));
        const NodeEntry *entry = majorityEntry(record);
        QVERIFY(entry && entry->decoded && entry->decoded->holders.size() == 2);
        const LockHolder picked = entry->decoded->holders.front();
        const QByteArray other = picked.token == tokens[0] ? tokens[1] : tokens[0];

        const QList<LockctlCommandDialog::Entry> entries =
            LockctlCommandDialog::commandsForRecord(target, record, picked);
        QCOMPARE(entries.size(), 5);
        const LockctlCommand extend = entries[2].second;
        const LockctlCommand release = entries[3].second;
        QVERIFY2(extend.text.contains(QStringLiteral("--token ") + QString::fromUtf8(picked.token) +
                                      QStringLiteral(" --ttl 1m")),
                 qPrintable(extend.text));
        QVERIFY2(release.text.contains(QStringLiteral("--holder ") + QString::fromUtf8(picked.token)),
                 qPrintable(release.text));
        // The whole-lock extend is not offered while a holder is picked.
        for (const auto &offered : entries)
            QVERIFY(!offered.second.text.contains(QLatin1String("--add")));

        // The picked reader's deadline: a minute from now on every node; the other's unchanged.
        const auto scoreOf = [&](int node, const QByteArray &token) -> qint64 {
            const auto members = set->admin(node).command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
            for (std::size_t i = 0; members && i + 1 < members->elements().size(); i += 2) {
                if (members->elements()[i].bytes().contains("tok=" + token + ' '))
                    return qint64(members->elements()[i + 1].bytes().toDouble());
            }
            return -1;
        };
        const auto nowOn = [&](int node) {
            const auto time = set->admin(node).command({"TIME"});
            return time->elements()[0].bytes().toLongLong() * 1000 +
                   time->elements()[1].bytes().toLongLong() / 1000;
        };
        std::vector<qint64> otherBefore;
        for (int i = 0; i < 3; ++i)
            otherBefore.push_back(scoreOf(i, other));
        const RunResult extended = runShell(extend.text, dir.path());
        QVERIFY2(extended.exitCode == 0, lockscope::test::describe(extended));
        for (int i = 0; i < 3; ++i) {
            const qint64 left = scoreOf(i, picked.token) - nowOn(i);
            QVERIFY2(left > 50'000 && left <= 60'000, QByteArray::number(left));
            QCOMPARE(scoreOf(i, other), otherBefore[std::size_t(i)]);
        }

        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("util-linux 'script' is not installed: no pseudo-terminal for the force-release prompt");
        const LockRecord shown =
            lockscope::inspect::readRecord(set->configs(), key, SchemaRegistry::builtins());
        const LockctlCommand releaseShown = lockctlForceReleaseHolderCommand(target, shown, picked.token);
        const RunResult released = runOnTerminal(script, releaseShown.text, key, dir.path());
        QVERIFY2(released.exitCode == 0, lockscope::test::describe(released));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(scoreOf(i, picked.token), qint64(-1));
            QCOMPARE(scoreOf(i, other), otherBefore[std::size_t(i)]);
        }

        // Another library's lock: no holder command, the reason instead.
        LockRecord foreign = makeRecord("jobs:py", {QByteArray("5f0c-uuid-like")});
        foreign.schema = QStringLiteral("redis-py");
        const LockctlCommand foreignExtend =
            lockctlExtendHolderCommand(target, foreign, "5f0c-uuid-like", std::chrono::minutes(1));
        QVERIFY(!foreignExtend.isValid());
        QVERIFY(foreignExtend.error.contains(QLatin1String("redis-py")));
    }

    /// One holder: releasing it on a production node asks for the key; extending it does not
    /// (it destroys nothing) but needs a valid duration; a format whose holders core cannot
    /// change one by one is refused with the reason.
    void holderDialogConfirmsAndRefuses()
    {
        const NodeGroup group = makeGroup(QStringLiteral("orders"), 1, {0});
        const LockRecord record = samplelocks::heldOn(
            "orders:rw",
            samplelocks::kindRaw({{"r1", QStringLiteral("web-1")}, {"r2", QStringLiteral("web-2")}}),
            {QStringLiteral("node0")});
        const LockHolder holder = majorityEntry(record)->decoded->holders.front();

        HolderDialog release(HolderDialog::Action::Release, QStringLiteral("orders"), record, holder, group);
        auto *ok = child<QPushButton>(release, "okButton");
        QCOMPARE(ok->text(), QStringLiteral("Release reader"));
        QVERIFY(
            child<QLabel>(release, "explanation")->text().contains(QStringLiteral("1 other holder keeps")));
        QVERIFY(!ok->isEnabled());
        QVERIFY(!ok->isDefault()); // Enter never releases
        QLineEdit *typed = child<QLineEdit>(release, "typedKey");
        type(typed, QStringLiteral("orders:r"));
        QVERIFY(!ok->isEnabled());
        type(typed, QStringLiteral("orders:rw"));
        QVERIFY(ok->isEnabled());

        HolderDialog extend(HolderDialog::Action::Extend, QStringLiteral("orders"), record, holder, group);
        QVERIFY(!extend.findChild<QLineEdit *>(QStringLiteral("typedKey")));
        auto *extendOk = child<QPushButton>(extend, "okButton");
        QVERIFY(extendOk->isEnabled());
        QCOMPARE(extend.ttl(), std::chrono::milliseconds(30'000));
        type(child<DurationEdit>(extend, "duration"), QStringLiteral("soon"));
        QVERIFY(!extendOk->isEnabled());
        QCOMPARE(extend.ttl(), std::chrono::milliseconds(0));
        type(child<DurationEdit>(extend, "duration"), QStringLiteral("2m"));
        QCOMPARE(extend.ttl(), std::chrono::milliseconds(120'000));

        LockRecord redisson = record;
        redisson.schema = QStringLiteral("redisson-rwlock");
        HolderDialog refused(HolderDialog::Action::Release, QStringLiteral("orders"), redisson, holder,
                             makeGroup(QStringLiteral("orders"), 1));
        QVERIFY(!child<QPushButton>(refused, "okButton")->isEnabled());
        QVERIFY2(child<InlineMessage>(refused, "blockedMessage")
                     ->text()
                     .contains(QStringLiteral("redisson-rwlock")),
                 qPrintable(child<InlineMessage>(refused, "blockedMessage")->text()));
    }

    void commandDialogCopies()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:copy", {lockValue("t1")});
        const LockctlTarget target{group, true, {}, QStringLiteral("lockctl")};
        LockctlCommandDialog dialog(QStringLiteral("Open in lockctl"),
                                    LockctlCommandDialog::commandsForRecord(target, record));
        QCOMPARE(dialog.commandText(0), QStringLiteral("lockctl show jobs:copy --group staging"));
        child<QPushButton>(dialog, "copy0")->click();
        QCOMPARE(QGuiApplication::clipboard()->text(), dialog.commandText(0));
    }

    // --- the commands, run ----------------------------------------------------------------------

    /// Acquire, show, list, extend and force-release commands, pasted into a shell as built,
    /// against a real 3-node group: each does what the dialog said.
    void commandsRunAgainstRealNodes()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        const NodeGroup group = groupOf(*set, QStringLiteral("live"));
        const LockctlTarget target{group, false, {}, QStringLiteral(LOCKCTL_PATH)};
        const QByteArray key = "ops: it's \"quoted\" [1]";
        const QString label =
            Operator{QStringLiteral("alice"), QStringLiteral("ops-box")}.label(QStringLiteral("db upgrade"));

        const LockctlCommand acquire = lockctlAcquireCommand(target, key, milliseconds(30'000), label);
        QVERIFY2(acquire.isValid(), qPrintable(acquire.error));
        const RunResult acquired = runShell(acquire.text, dir.path());
        QVERIFY2(acquired.exitCode == 0, lockscope::test::describe(acquired));
        QByteArray token;
        for (int i = 0; i < 3; ++i) {
            const auto value = lock::LockValue::parse(set->get(i, key));
            QVERIFY2(value.has_value(), set->get(i, key).constData());
            QCOMPARE(value->label, label);
            token = value->token;
        }

        const LockRecord record = readRecord(*set, key);
        QCOMPARE(record.schema, QStringLiteral("lockscope"));
        QCOMPARE(record.token, token);

        const RunResult shown = runShell(lockctlShowCommand(target, key).text, dir.path());
        QVERIFY2(shown.exitCode == 0, lockscope::test::describe(shown));
        QVERIFY2(shown.out.contains(QString::fromUtf8(token)), lockscope::test::describe(shown));

        // --match with the glob characters escaped: this key, not its look-alike.
        const QByteArray lookAlike = "ops: it's \"quoted\" 1";
        QVERIFY(set->set(0, lookAlike, lockValue("other"), 30000));
        const RunResult listed =
            runShell(lockctlListCommand(target, key).text + QStringLiteral(" --json"), dir.path());
        QVERIFY2(listed.exitCode == 0, lockscope::test::describe(listed));
        QVERIFY2(listed.out.contains(QString::fromUtf8(token)), lockscope::test::describe(listed));
        QVERIFY2(!listed.out.contains(QLatin1String("tok=other")), lockscope::test::describe(listed));

        const RunResult extended = runShell(
            lockctlExtendCommand(target, record, std::chrono::minutes(10), lock::ExtendMode::Add).text,
            dir.path());
        QVERIFY2(extended.exitCode == 0, lockscope::test::describe(extended));
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->pttl(i, key) > 600'000);

        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("util-linux 'script' is not installed: no pseudo-terminal for the force-release prompt");

        // Node 1 changed hands after the lock was shown: the previewed command leaves it alone
        // there (exit 5) and deletes the value shown where it is still there.
        const LockRecord shownBefore = readRecord(*set, key);
        const LockctlCommand release = lockctlForceReleaseCommand(target, shownBefore, false);
        QVERIFY(release.text.contains(QLatin1String("--expect-value")));
        const QByteArray original = set->get(1, key);
        QVERIFY(set->set(1, key, lockValue("intruder"), 60000));
        const RunResult changed = runOnTerminal(script, release.text, key, dir.path());
        QVERIFY2(changed.exitCode == 5, lockscope::test::describe(changed));
        QCOMPARE(set->get(1, key), lockValue("intruder"));
        QVERIFY(set->get(0, key).isNull());
        QVERIFY(set->get(2, key).isNull());

        // The value shown back on every node: the same command releases it everywhere.
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, key, original, 60000));
        const RunResult released = runOnTerminal(script, release.text, key, dir.path());
        QVERIFY2(released.exitCode == 0, lockscope::test::describe(released));
        for (int i = 0; i < 3; ++i)
            QVERIFY2(set->get(i, key).isNull(), qPrintable(ServerSet::nodeName(i)));
        // Audited in the default log, where the app writes too.
        QFile audit(dir.filePath(QStringLiteral("lockscope/audit.jsonl")));
        QVERIFY(audit.open(QIODevice::ReadOnly));
        QVERIFY(audit.readAll().contains("force-release"));
    }

    /// A saved production group: the --group command reads the groups file (LOCKSCOPE_CONFIG
    /// prefix), and lockctl asks for the typed key; a typo deletes nothing.
    void savedProductionGroupCommand()
    {
        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("util-linux 'script' is not installed: no pseudo-terminal for the force-release prompt");
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        NodeGroup group = groupOf(*set, QStringLiteral("prod orders"));
        group.nodes[0].production = true;
        GroupConfig config;
        config.groups.push_back(group);
        const QString configPath = dir.filePath(QStringLiteral("groups file.json"));
        QVERIFY(config.save(configPath).has_value());
        const LockctlTarget target{group, true, configPath, QStringLiteral(LOCKCTL_PATH)};

        const QByteArray key = "orders:reindex";
        QVERIFY(set->set(0, key, lockValue("t9"), 60000));
        const LockRecord record = readRecord(*set, key);
        QVERIFY(ForceReleaseDialog::needsTypedKey(record, group));
        const LockctlCommand release = lockctlForceReleaseCommand(target, record, false);
        QVERIFY2(release.text.startsWith(QLatin1String("LOCKSCOPE_CONFIG=")), qPrintable(release.text));
        QVERIFY(release.text.contains(QLatin1String("--group 'prod orders'")));

        const RunResult typo = runOnTerminal(script, release.text, "orders:reindx", dir.path());
        QVERIFY2(typo.exitCode == 2, lockscope::test::describe(typo));
        QCOMPARE(set->get(0, key), lockValue("t9"));
        const RunResult typed = runOnTerminal(script, release.text, key, dir.path());
        QVERIFY2(typed.exitCode == 0, lockscope::test::describe(typed));
        QVERIFY(set->get(0, key).isNull());
    }

    // --- issue 11: sizes, time, guesses, bytes -------------------------------------------------

    // OK stays under the cursor: the dialog does not grow or shrink while the operator types,
    // even when a validation message comes and goes.
    void extendDialogKeepsItsSizeWhileTyping()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:x", {lockValue("t1")}, 20'000);
        ExtendDialog dialog(group.name, record, group);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::qWait(50);
        const QSize size = dialog.size();
        auto *duration = child<QLineEdit>(dialog, "duration");
        duration->setFocus();
        duration->selectAll();
        QTest::keyClick(duration, Qt::Key_Backspace);
        for (const QChar c : QStringLiteral("12x")) {
            QTest::keyClicks(duration, QString(c));
            QTest::qWait(30);
            QCOMPARE(dialog.size(), size);
        }
        QVERIFY(!child<QPushButton>(dialog, "extendButton")->isEnabled());
        QTest::keyClick(duration, Qt::Key_Backspace);
        QTest::keyClicks(duration, QStringLiteral("m"));
        QTest::qWait(30);
        QCOMPARE(dialog.size(), size);
        QVERIFY(child<QPushButton>(dialog, "extendButton")->isEnabled());
    }

    void forceReleaseDialogKeepsItsSizeWhileTyping()
    {
        const NodeGroup group = makeGroup(QStringLiteral("prod"), 1, {0});
        const LockRecord record = makeRecord("jobs:typed", {lockValue("t1")});
        ForceReleaseDialog dialog(group.name, record, group);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::qWait(50);
        const QSize size = dialog.size();
        auto *typed = child<QLineEdit>(dialog, "typedKey");
        typed->setFocus();
        for (const QChar c : QStringLiteral("jobs:x")) { // wrong from the 6th character on
            QTest::keyClicks(typed, QString(c));
            QTest::qWait(30);
            QCOMPARE(dialog.size(), size);
        }
        QTest::keyClick(typed, Qt::Key_Backspace);
        QTest::keyClicks(typed, QStringLiteral("typed"));
        QTest::qWait(30);
        QCOMPARE(dialog.size(), size);
        QVERIFY(child<QPushButton>(dialog, "releaseButton")->isEnabled());
    }

    // Until when? The dialogs count the TTL down from the read, give the expiry as a time of
    // day and say when the lock was read; the new TTL is computed from what is left now.
    void dialogsSayUntilWhenAndWhenRead()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        LockRecord record = makeRecord("jobs:x", {lockValue("t1")}, 300'000);
        record.readAt = QDateTime::currentDateTimeUtc().addSecs(-100);
        record.readAtSteady = std::chrono::steady_clock::now() - std::chrono::seconds(100);
        const QString until =
            QLocale().toString(record.readAt.addSecs(300).toLocalTime().time(), QStringLiteral("HH:mm:ss"));
        const QString read =
            QLocale().toString(record.readAt.toLocalTime().time(), QStringLiteral("HH:mm:ss"));
        {
            ExtendDialog dialog(group.name, record, group);
            const QString ttl = child<QLabel>(dialog, "ttlLabel")->text();
            QVERIFY2(ttl.startsWith(QStringLiteral("3m 2")) || ttl.startsWith(QStringLiteral("3m 1")),
                     qPrintable(ttl));
            QVERIFY2(ttl.contains(QStringLiteral("until ") + until), qPrintable(ttl));
            QVERIFY2(ttl.contains(QStringLiteral("read at ") + read), qPrintable(ttl));
            // 1 minute added to the 3m 20s left now (not to the 5 minutes read back then).
            const QString result = child<QLabel>(dialog, "resultLabel")->text();
            QVERIFY2(result.startsWith(QStringLiteral("about 4m 2")) ||
                         result.startsWith(QStringLiteral("about 4m 1")),
                     qPrintable(result));
        }
        {
            ForceReleaseDialog dialog(group.name, record, group);
            const QString ttl = child<QLabel>(dialog, "ttlLabel")->text();
            QVERIFY2(ttl.contains(QStringLiteral("until ") + until), qPrintable(ttl));
            QVERIFY2(ttl.contains(QStringLiteral("read at ") + read), qPrintable(ttl));
        }
    }

    // A format that is only a guess may not be a lock at all: both actions ask the operator
    // to confirm before anything is written.
    void guessedFormatAsksForConfirmation()
    {
        const NodeGroup group = makeGroup(QStringLiteral("cache"), 1);
        // 32 hex characters with a 1 h TTL on a key that does not name a lock: maybe an md5.
        const LockRecord record =
            makeRecord("etag:avatar:42", {"0cc175b9c0f1b6a831c399e269772661"}, 3'600'000);
        QVERIFY2(record.confidence == lockscope::inspect::Confidence::Guess, qPrintable(record.schema));
        {
            ForceReleaseDialog dialog(group.name, record, group);
            QVERIFY(dialog.findChild<InlineMessage *>(QStringLiteral("guessMessage")));
            auto *release = child<QPushButton>(dialog, "releaseButton");
            QVERIFY(!release->isEnabled());
            type(child<QLineEdit>(dialog, "typedKey"), QStringLiteral("etag:avatar:42"));
            QVERIFY(release->isEnabled());
        }
        {
            ExtendDialog dialog(group.name, record, group);
            dialog.show();
            auto *ok = child<QPushButton>(dialog, "extendButton");
            QVERIFY(!ok->isEnabled());
            auto *confirm = child<QCheckBox>(dialog, "guessConfirm");
            QTest::mouseClick(confirm, Qt::LeftButton, {}, QPoint(8, confirm->height() / 2));
            QVERIFY(confirm->isChecked());
            QVERIFY(ok->isEnabled());
        }
    }

    // Keys are bytes: a key that is not UTF-8 is shown escaped, and typing the escaped form
    // confirms exactly that key.
    void binaryKeyIsShownEscapedAndCanBeTyped()
    {
        const NodeGroup group = makeGroup(QStringLiteral("prod"), 1, {0});
        const QByteArray key("bin:\xff:lock");
        const LockRecord record = makeRecord(key, {lockValue("t1")});
        ForceReleaseDialog dialog(group.name, record, group);
        QCOMPARE(child<QLabel>(dialog, "keyLabel")->text(), QStringLiteral("bin:\\xff:lock"));
        auto *release = child<QPushButton>(dialog, "releaseButton");
        type(child<QLineEdit>(dialog, "typedKey"), QStringLiteral("bin:xff:lock"));
        QVERIFY(!release->isEnabled()); // not the key
        type(child<QLineEdit>(dialog, "typedKey"), QStringLiteral("bin:\\xff:lock"));
        QVERIFY(release->isEnabled());
    }

    // One owner text for the same lock in the table, Details and both dialogs: label and owner
    // both, no stray quote.
    void ownerTextIsTheSameEverywhere()
    {
        const NodeGroup group = makeGroup(QStringLiteral("staging"), 1);
        const LockRecord record = makeRecord("jobs:x", {lockValue("t1", QStringLiteral("nightly export"))});
        const QString owner = locktext::ownerText(record);
        QVERIFY2(owner.startsWith(QStringLiteral("“nightly export” — ")) &&
                     owner.contains(QStringLiteral("pid")),
                 qPrintable(owner));
        QCOMPARE(owner.count(QStringLiteral("“")), owner.count(QStringLiteral("”")));
        ExtendDialog extend(group.name, record, group);
        auto *extendOwner = child<QLabel>(extend, "ownerLabel");
        QCOMPARE(extendOwner->toolTip().isEmpty() ? extendOwner->text() : extendOwner->toolTip(), owner);
        ForceReleaseDialog release(group.name, record, group);
        auto *releaseOwner = child<QLabel>(release, "ownerLabel");
        QCOMPARE(releaseOwner->toolTip().isEmpty() ? releaseOwner->text() : releaseOwner->toolTip(), owner);
        LockDetailsWidget details;
        details.setRecord(group.name, &record);
        QCOMPARE(details.findChild<QLabel *>(QStringLiteral("owner"))->text(), owner);
        LockTableModel model;
        model.applyDelta(group.name, {record}, {}, /*replaceAll=*/true);
        model.finishApplying();
        QCOMPARE(model.index(0, LockTableModel::Owner).data().toString(), owner);
        // A decoded lock whose format names no owner, and an undecoded value, say so the same way.
        const LockRecord raw = makeRecord("jobs:raw", {"hello"});
        QCOMPARE(locktext::ownerText(raw), QStringLiteral("unknown: the value is not decoded"));
    }

    // The table and the force-release dialog name the same owner for the same lock, whatever
    // wrote it: LockScope (label, host, pid), Redisson, ShedLock, redis-py (no owner recorded), an
    // undecoded value.
    void tableAndForceReleaseNameTheSameOwner()
    {
        const QStringList three{QStringLiteral("node0"), QStringLiteral("node1"), QStringLiteral("node2")};
        const std::vector<std::pair<NodeGroup, std::vector<LockRecord>>> groups{
            {makeGroup(QStringLiteral("payments"), 3), samplelocks::redlockGroup(three)},
            {makeGroup(QStringLiteral("cache"), 1), samplelocks::singleNode(QStringLiteral("node0"))}};
        LockTableModel model;
        QSet<QString> schemas;
        for (const auto &[group, records] : groups) {
            model.applyDelta(group.name, records, {}, /*replaceAll=*/true);
            model.finishApplying();
            for (const LockRecord &record : records) {
                const QString owner = ownerText(record);
                const QString key = QString::fromUtf8(record.key);
                QCOMPARE(model.indexFor(group.name, record.key, LockTableModel::Owner).data().toString(),
                         owner);
                ForceReleaseDialog dialog(group.name, record, group);
                auto *shown = child<QLabel>(dialog, "ownerLabel");
                QVERIFY2(
                    (shown->toolTip().isEmpty() ? shown->text() : shown->toolTip()) == owner,
                    qPrintable(key + QStringLiteral(": ") + shown->text() + QStringLiteral(" != ") + owner));
                schemas.insert(record.schema);
            }
        }
        for (const char *schema : {"lockscope", "redisson-rlock", "shedlock", "redis-py", ""})
            QVERIFY2(schemas.contains(QLatin1String(schema)), schema);
    }

    // --- screenshots (only when asked for) ------------------------------------------------------

    void screenshots()
    {
        const QString out = qEnvironmentVariable("LOCKSCOPE_SCREENSHOT_DIR");
        if (out.isEmpty())
            QSKIP("set LOCKSCOPE_SCREENSHOT_DIR to write the dialogs' screenshots");
        QVERIFY(QDir().mkpath(out));
        const QPalette original = QApplication::palette();
        if (qEnvironmentVariableIsSet("LOCKSCOPE_SCREENSHOT_DARK")) {
            // A dark palette as a desktop would set it: nothing in the dialogs may assume light.
            QPalette dark;
            dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
            dark.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
            dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
            dark.setColor(QPalette::AlternateBase, QColor(0x33, 0x33, 0x33));
            dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
            dark.setColor(QPalette::Button, QColor(0x3a, 0x3a, 0x3a));
            dark.setColor(QPalette::ButtonText, QColor(0xe0, 0xe0, 0xe0));
            dark.setColor(QPalette::Highlight, QColor(0x3d, 0x7a, 0xd6));
            dark.setColor(QPalette::HighlightedText, Qt::white);
            dark.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
            dark.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x70, 0x70, 0x70));
            dark.setColor(QPalette::Disabled, QPalette::Text, QColor(0x70, 0x70, 0x70));
            dark.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x70, 0x70, 0x70));
            QApplication::setPalette(dark);
        }
        const auto restorePalette = qScopeGuard([&] { QApplication::setPalette(original); });
        const NodeGroup prod = makeGroup(QStringLiteral("payments"), 3, {0, 1, 2});
        const LockRecord record =
            makeRecord("payments:settlement:2024-05-01",
                       {lockValue("9f1c2e7a4b", QStringLiteral("nightly settlement")),
                        lockValue("9f1c2e7a4b", QStringLiteral("nightly settlement")), QByteArray()});
        const auto save = [&](QWidget &widget, const QString &name) {
            widget.show();
            QVERIFY(QTest::qWaitForWindowExposed(&widget));
            QVERIFY(widget.grab().save(QDir(out).filePath(name)));
            widget.close();
        };
        {
            ForceReleaseDialog dialog(prod.name, record, prod);
            child<QLineEdit>(dialog, "typedKey")->setText(QStringLiteral("payments:settlement"));
            save(dialog, QStringLiteral("forcerelease-production.png"));
        }
        {
            const NodeGroup replica = makeGroup(QStringLiteral("replica"), 3, {}, {2});
            LockRecord all =
                makeRecord("payments:settlement:2024-05-01",
                           {lockValue("9f1c2e7a4b"), lockValue("9f1c2e7a4b"), lockValue("9f1c2e7a4b")});
            ForceReleaseDialog dialog(replica.name, all, replica);
            child<QCheckBox>(dialog, "unconditional")->setChecked(true);
            save(dialog, QStringLiteral("forcerelease-readonly.png"));
        }
        {
            ExtendDialog dialog(prod.name, record, prod);
            save(dialog, QStringLiteral("extend.png"));
        }
        {
            std::vector<NodeGroup> groups{makeGroup(QStringLiteral("staging"), 1), prod,
                                          makeGroup(QStringLiteral("replica"), 2, {}, {1})};
            AcquireDialog dialog(groups, QStringLiteral("payments"));
            child<QLineEdit>(dialog, "key")->setText(QStringLiteral("maintenance:orders-db"));
            child<QLineEdit>(dialog, "ttl")->setText(QStringLiteral("30"));
            child<QLineEdit>(dialog, "note")->setText(QStringLiteral("schema migration"));
            save(dialog, QStringLiteral("acquire.png"));
            AcquireDialog readOnly(groups, QStringLiteral("replica"));
            child<QLineEdit>(readOnly, "key")->setText(QStringLiteral("maintenance:orders-db"));
            save(readOnly, QStringLiteral("acquire-readonly.png"));
        }
        {
            LockctlTarget target{prod, false, {}, QStringLiteral("lockctl")};
            LockctlCommandDialog dialog(QStringLiteral("Open in lockctl"),
                                        LockctlCommandDialog::commandsForRecord(target, record));
            save(dialog, QStringLiteral("lockctl.png"));
        }
    }
};

QTEST_MAIN(TestActionDialogs)
#include "tst_actiondialogs.moc"
