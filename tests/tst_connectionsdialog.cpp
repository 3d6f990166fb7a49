// The connections dialog driven through its widgets: groups and nodes added, URL and fields in
// sync, inline validation, passwords only in the store, connection test against a real server,
// import / export.

#include "dialogs/connectionsdialog.h"
#include "dialogs/passwordprompt.h"
#include "redis/connection.h"
#include "redisfixture.h"
#include "widgettest.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFile>
#include <QGroupBox>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSemaphore>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <QToolTip>
#include <QTreeWidget>
#include <atomic>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::MemorySecretStore;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::SecretStore;
using lockscope::redis::NodeConfig;
using namespace lockscope;

using widgettest::child;
using widgettest::type;

namespace {

/// A working keychain in memory (persistent() true), for the "Remember in keychain" paths.
class FakeKeychain final : public SecretStore
{
public:
    QHash<QString, QString> stored;
    bool available() override { return true; }
    QString unavailableReason() override { return {}; }
    bool persistent() const override { return true; }
    QString description() const override { return QStringLiteral("fake keychain"); }
    std::expected<std::optional<QString>, QString> read(const QString &key) override
    {
        if (!stored.contains(key))
            return std::optional<QString>();
        return std::optional<QString>(stored.value(key));
    }
    std::expected<void, QString> write(const QString &key, const QString &password) override
    {
        stored.insert(key, password);
        return {};
    }
    std::expected<void, QString> remove(const QString &key) override
    {
        stored.remove(key);
        return {};
    }
};

/// A keychain whose writes wait until the test lets them through: a keychain behind an unlock
/// prompt.
class SlowKeychain final : public SecretStore
{
public:
    FakeKeychain inner;
    QSemaphore unlock;
    std::atomic<int> writes = 0;
    bool available() override { return true; }
    QString unavailableReason() override { return {}; }
    bool persistent() const override { return true; }
    QString description() const override { return QStringLiteral("slow keychain"); }
    std::expected<std::optional<QString>, QString> read(const QString &key) override
    {
        return inner.read(key);
    }
    std::expected<void, QString> write(const QString &key, const QString &password) override
    {
        unlock.acquire();
        auto done = inner.write(key, password);
        ++writes;
        return done;
    }
    std::expected<void, QString> remove(const QString &key) override { return inner.remove(key); }
};

/// Collects the "connection test:" lines the dialog logs when it shows a test result.
class TestResultLog
{
public:
    TestResultLog()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("lockscope.ui.info=true"));
        s_lines.clear();
        s_previous = qInstallMessageHandler(&TestResultLog::handle);
    }
    ~TestResultLog()
    {
        qInstallMessageHandler(s_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    QStringList lines() const { return s_lines; }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (message.contains(QLatin1String("connection test:")))
            s_lines << message;
        else if (s_previous)
            s_previous(type, context, message);
    }
    static inline QStringList s_lines;
    static inline QtMessageHandler s_previous = nullptr;
};

GroupConfig singleNode(const NodeConfig &config)
{
    GroupConfig groups;
    NodeGroup group;
    group.name = QStringLiteral("local");
    GroupNode n;
    n.config = config;
    group.nodes.push_back(n);
    groups.groups.push_back(group);
    return groups;
}

void click(const QWidget &dialog, const char *button)
{
    QTest::mouseClick(child<QPushButton>(dialog, button), Qt::LeftButton);
}

bool okEnabled(const QWidget &dialog)
{
    return child<QDialogButtonBox>(dialog, "buttonBox")->button(QDialogButtonBox::Ok)->isEnabled();
}

void select(const QWidget &dialog, int group, int node = -1)
{
    auto *tree = child<QTreeWidget>(dialog, "groupTree");
    QTreeWidgetItem *item = tree->topLevelItem(group);
    tree->setCurrentItem(node < 0 ? item : item->child(node));
}

/// Selects a group or node as the operator does: a click on its row.
void clickItem(const QWidget &dialog, int group, int node = -1)
{
    auto *tree = child<QTreeWidget>(dialog, "groupTree");
    QTreeWidgetItem *item = node < 0 ? tree->topLevelItem(group) : tree->topLevelItem(group)->child(node);
    tree->scrollToItem(item);
    QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualItemRect(item).center());
    QCOMPARE(tree->currentItem(), item);
}

GroupNode node(const QString &url)
{
    GroupNode n;
    n.config = *NodeConfig::fromUrl(url);
    return n;
}

GroupConfig sampleConfig()
{
    GroupConfig config;
    NodeGroup payments;
    payments.name = QStringLiteral("payments");
    payments.nodes = {node(QStringLiteral("redis://10.0.0.5:6379?name=pay-a")),
                      node(QStringLiteral("redis://10.0.0.6:6379?name=pay-b")),
                      node(QStringLiteral("redis://10.0.0.7:6379?name=pay-c"))};
    payments.nodes[0].production = true;
    payments.nodes[0].color = QStringLiteral("#d04040");
    NodeGroup cache;
    cache.name = QStringLiteral("cache");
    cache.nodes = {
        node(QStringLiteral("rediss://cache.internal:6380/1?user=ops&ca=/etc/ssl/ca.pem&sni=cache"))};
    cache.nodes[0].readOnly = true;
    config.groups = {payments, cache};
    return config;
}

} // namespace

class TestConnectionsDialog : public QObject
{
    Q_OBJECT

private slots:
    void addGroupAndNodeThroughTheWidgets();
    void urlAndFieldsStayInSync();
    void invalidInputIsInlineAndDisablesOk();
    void duplicateAndRemove();
    void passwordsGoToTheStoreNeverToTheConfig();
    void keychainPasswordsFollowTheCheckbox();
    void testConnectionShowsTheVersion();
    void testConnectionUsesTheStoredPassword();
    void closingWhileATestRunsIsSafe();
    void closingWhileATestRunsReturnsAtOnce();
    void staleTestResultsAreDropped();
    void okWaitsForTheStoreWithoutBlocking();
    void closedDialogStillStoresThePasswords();
    void spellingsOfOneServerAreDuplicates();
    void importExportRoundTrip();
    void passwordPromptNamesTheNode();
    void nodeMarkersAreExplained();
    void productionCheckFitsAt1280x800();
    void savingKeepsAHandWrittenFile();
    void screenshot();
};

void TestConnectionsDialog::addGroupAndNodeThroughTheWidgets()
{
    MemorySecretStore store;
    ConnectionsDialog dialog(GroupConfig{}, &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(okEnabled(dialog)); // nothing to fix in an empty configuration

    click(dialog, "addGroupButton");
    type(child<QLineEdit>(dialog, "groupNameEdit"), QStringLiteral("payments"));
    // A group without nodes cannot be saved; the reason is shown under the name.
    QVERIFY(!okEnabled(dialog));
    QVERIFY(child<QLabel>(dialog, "groupNameError")->isVisible());
    QVERIFY(child<QLabel>(dialog, "groupNameError")->text().contains(QLatin1String("at least one node")));

    click(dialog, "addNodeButton");
    type(child<QLineEdit>(dialog, "hostEdit"), QStringLiteral("10.0.0.5"));
    type(child<QLineEdit>(dialog, "portEdit"), QStringLiteral("6380"));
    type(child<QLineEdit>(dialog, "nameEdit"), QStringLiteral("pay-a"));
    child<QCheckBox>(dialog, "productionCheck")->click();
    QVERIFY(okEnabled(dialog));
    QCOMPARE(child<QLineEdit>(dialog, "urlEdit")->text(), QStringLiteral("redis://10.0.0.5:6380?name=pay-a"));

    // A second node starts from the first one, on the next port.
    select(dialog, 0);
    click(dialog, "addNodeButton");
    QCOMPARE(child<QLineEdit>(dialog, "portEdit")->text(), QStringLiteral("6381"));
    QVERIFY(okEnabled(dialog));

    QDialogButtonBox *buttons = child<QDialogButtonBox>(dialog, "buttonBox");
    QTest::mouseClick(buttons->button(QDialogButtonBox::Ok), Qt::LeftButton);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    const GroupConfig config = dialog.config();
    QCOMPARE(config.groups.size(), std::size_t(1));
    const NodeGroup &group = config.groups.front();
    QCOMPARE(group.name, QStringLiteral("payments"));
    QCOMPARE(group.nodes.size(), std::size_t(2));
    QCOMPARE(group.nodes[0].config.host, QStringLiteral("10.0.0.5"));
    QCOMPARE(group.nodes[0].config.port, quint16(6380));
    QCOMPARE(group.nodes[0].config.name, QStringLiteral("pay-a"));
    QVERIFY(group.nodes[0].production);
    QVERIFY(!group.nodes[0].readOnly);
    QCOMPARE(group.nodes[1].config.port, quint16(6381));
    // What the dialog returns is what the file will hold.
    auto reparsed = GroupConfig::fromJson(config.toJson());
    QVERIFY2(reparsed.has_value(), reparsed ? "" : qPrintable(reparsed.error()));
    QCOMPARE(*reparsed, config);
}

void TestConnectionsDialog::urlAndFieldsStayInSync()
{
    MemorySecretStore store;
    ConnectionsDialog dialog(sampleConfig(), &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 1);
    QLineEdit *url = child<QLineEdit>(dialog, "urlEdit");
    QCOMPARE(url->text(), QStringLiteral("redis://10.0.0.6:6379?name=pay-b"));

    // URL -> fields.
    type(url, QStringLiteral("rediss://10.0.0.9:6390/2?user=ops&sni=pay.internal&verify=0&name=pay-b"));
    QCOMPARE(child<QLineEdit>(dialog, "hostEdit")->text(), QStringLiteral("10.0.0.9"));
    QCOMPARE(child<QLineEdit>(dialog, "portEdit")->text(), QStringLiteral("6390"));
    QCOMPARE(child<QSpinBox>(dialog, "dbSpin")->value(), 2);
    QCOMPARE(child<QLineEdit>(dialog, "userEdit")->text(), QStringLiteral("ops"));
    QVERIFY(child<QGroupBox>(dialog, "tlsBox")->isChecked());
    QCOMPARE(child<QLineEdit>(dialog, "sniEdit")->text(), QStringLiteral("pay.internal"));
    QVERIFY(!child<QCheckBox>(dialog, "verifyCheck")->isChecked());

    // Fields -> URL.
    type(child<QLineEdit>(dialog, "caFileEdit"), QStringLiteral("/etc/ssl/pay-ca.pem"));
    child<QCheckBox>(dialog, "verifyCheck")->click();
    child<QSpinBox>(dialog, "dbSpin")->setValue(0);
    auto parsed = NodeConfig::fromUrl(url->text());
    QVERIFY2(parsed.has_value(), qPrintable(url->text()));
    QCOMPARE(parsed->tls.caFile, QStringLiteral("/etc/ssl/pay-ca.pem"));
    QVERIFY(parsed->tls.verifyPeer);
    QCOMPARE(parsed->db, 0);
    QCOMPARE(parsed->username, QStringLiteral("ops"));

    // A password typed into the URL moves to the password field and out of the URL.
    type(url, QStringLiteral("redis://ops:hunter2@10.0.0.9:6390"));
    QCOMPARE(child<QLineEdit>(dialog, "passwordEdit")->text(), QStringLiteral("hunter2"));
    emit url->editingFinished(); // focus moved on
    QVERIFY(!url->text().contains(QLatin1String("hunter2")));
    QCOMPARE(NodeConfig::fromUrl(url->text())->username, QStringLiteral("ops"));
    type(url, QStringLiteral("redis://:other-secret@10.0.0.9:6390"));
    select(dialog, 0, 0); // leaving the node also drops the password from the URL
    select(dialog, 0, 1);
    QVERIFY(!url->text().contains(QLatin1String("other-secret")));
    QCOMPARE(child<QLineEdit>(dialog, "passwordEdit")->text(), QStringLiteral("other-secret"));

    // A unix socket path in the host field.
    type(child<QLineEdit>(dialog, "hostEdit"), QStringLiteral("/run/redis/redis.sock"));
    QVERIFY(url->text().startsWith(QLatin1String("unix:")));
    QVERIFY(!child<QLineEdit>(dialog, "portEdit")->isEnabled());
    QVERIFY(okEnabled(dialog));
}

void TestConnectionsDialog::invalidInputIsInlineAndDisablesOk()
{
    MemorySecretStore store;
    ConnectionsDialog dialog(sampleConfig(), &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 0);
    QVERIFY(okEnabled(dialog));

    QLineEdit *port = child<QLineEdit>(dialog, "portEdit");
    QLabel *portError = child<QLabel>(dialog, "portError");
    type(port, QStringLiteral("70000"));
    QVERIFY(portError->isVisible());
    QVERIFY2(portError->text().contains(QLatin1String("70000")), qPrintable(portError->text()));
    QVERIFY(!okEnabled(dialog));
    QVERIFY(!dialog.isValid());
    QVERIFY(!child<QPushButton>(dialog, "testButton")->isEnabled());
    // The summary line names where the problem is, for when another node is selected.
    select(dialog, 1, 0);
    QLabel *problems = child<QLabel>(dialog, "problemsLabel");
    QVERIFY(problems->isVisible());
    QVERIFY2(problems->text().contains(QLatin1String("pay-a")), qPrintable(problems->text()));
    select(dialog, 0, 0);
    QCOMPARE(port->text(), QStringLiteral("70000")); // the invalid text survives reselection
    QVERIFY(portError->isVisible());
    type(port, QStringLiteral("6390"));
    QVERIFY(!portError->isVisible());
    QVERIFY(okEnabled(dialog));

    QLabel *urlError = child<QLabel>(dialog, "urlError");
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("http://10.0.0.5"));
    QVERIFY(urlError->isVisible());
    QVERIFY(!okEnabled(dialog));
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("redis://10.0.0.5:6390"));
    QVERIFY(!urlError->isVisible());
    QVERIFY(okEnabled(dialog));

    // Two nodes on the same address in one group.
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("redis://10.0.0.6:6379"));
    QVERIFY(child<QLabel>(dialog, "hostError")->isVisible());
    QVERIFY(!okEnabled(dialog));
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("redis://10.0.0.5:6379"));
    QVERIFY(okEnabled(dialog));

    // An empty group name, and a duplicate one.
    select(dialog, 1);
    type(child<QLineEdit>(dialog, "groupNameEdit"), QStringLiteral("payments"));
    QVERIFY(child<QLabel>(dialog, "groupNameError")->isVisible());
    QVERIFY(!okEnabled(dialog));
    type(child<QLineEdit>(dialog, "groupNameEdit"), QString());
    QVERIFY(child<QLabel>(dialog, "groupNameError")->isVisible());
    type(child<QLineEdit>(dialog, "groupNameEdit"), QStringLiteral("cache"));
    QVERIFY(!child<QLabel>(dialog, "groupNameError")->isVisible());
    QVERIFY(okEnabled(dialog));

    // OK while invalid does nothing (also when triggered without the button).
    select(dialog, 0, 0);
    type(port, QStringLiteral("abc"));
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QCOMPARE(dialog.result(), 0);
}

void TestConnectionsDialog::duplicateAndRemove()
{
    ConnectionsDialog dialog(sampleConfig(), nullptr);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 1);
    click(dialog, "duplicateButton");
    QCOMPARE(dialog.config().groups.size(), std::size_t(3));
    QCOMPARE(dialog.config().groups[2].name, QStringLiteral("cache copy"));
    QCOMPARE(dialog.config().groups[2].nodes, dialog.config().groups[1].nodes);

    select(dialog, 0, 2);
    click(dialog, "removeButton");
    QCOMPARE(dialog.config().groups[0].nodes.size(), std::size_t(2));
    select(dialog, 0, 0);
    click(dialog, "duplicateButton");
    // Same address twice in a group: the copy is flagged until moved.
    QVERIFY(!okEnabled(dialog));
    type(child<QLineEdit>(dialog, "portEdit"), QStringLiteral("6390"));
    QVERIFY(okEnabled(dialog));
    QCOMPARE(dialog.config().groups[0].nodes.size(), std::size_t(3));
    select(dialog, 2);
    click(dialog, "removeButton");
    QCOMPARE(dialog.config().groups.size(), std::size_t(2));
}

void TestConnectionsDialog::passwordsGoToTheStoreNeverToTheConfig()
{
    MemorySecretStore store; // no keychain: a typed password is kept for the session
    GroupConfig withSecret = sampleConfig();
    withSecret.groups[0].nodes[1].config.password = QStringLiteral("imported-secret");
    ConnectionsDialog dialog(withSecret, &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 1, 0);
    // Without a keychain the checkbox is not offered, and the note says what happens instead.
    QTRY_VERIFY(!child<QCheckBox>(dialog, "rememberCheck")->isVisible());
    QVERIFY2(child<QLabel>(dialog, "secretNote")->text().contains(QLatin1String("No keychain")),
             qPrintable(child<QLabel>(dialog, "secretNote")->text()));
    type(child<QLineEdit>(dialog, "passwordEdit"), QStringLiteral("typed-secret"));

    QVERIFY(!dialog.config().toJson(true).contains("typed-secret"));
    QVERIFY(!dialog.config().toJson(true).contains("imported-secret"));
    dialog.accept();
    QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
    const GroupConfig config = dialog.config();
    QVERIFY(!config.toJson(true).contains("typed-secret"));
    QVERIFY(!config.toJson(true).contains("imported-secret"));
    const QString cacheKey =
        lockscope::inspect::secretKey(QStringLiteral("cache"), config.groups[1].nodes[0].config);
    QCOMPARE(store.read(cacheKey)->value_or(QString()), QStringLiteral("typed-secret"));
    const QString payKey =
        lockscope::inspect::secretKey(QStringLiteral("payments"), config.groups[0].nodes[1].config);
    QCOMPARE(store.read(payKey)->value_or(QString()), QStringLiteral("imported-secret"));
}

void TestConnectionsDialog::keychainPasswordsFollowTheCheckbox()
{
    FakeKeychain keychain;
    const GroupConfig initial = sampleConfig();
    const QString cacheKey =
        lockscope::inspect::secretKey(QStringLiteral("cache"), initial.groups[1].nodes[0].config);
    keychain.stored.insert(cacheKey, QStringLiteral("stored-secret"));
    {
        ConnectionsDialog dialog(initial, &keychain);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        select(dialog, 1, 0);
        QCheckBox *remember = child<QCheckBox>(dialog, "rememberCheck");
        QTRY_VERIFY(remember->isEnabled());
        QVERIFY(remember->isChecked());
        QCOMPARE(child<QLineEdit>(dialog, "passwordEdit")->placeholderText(),
                 QStringLiteral("stored in keychain"));
        QVERIFY(child<QLineEdit>(dialog, "passwordEdit")->text().isEmpty()); // never shown

        // Renaming the group moves the stored password to the new key.
        select(dialog, 1);
        type(child<QLineEdit>(dialog, "groupNameEdit"), QStringLiteral("cache-eu"));
        // A new password for a payments node, remembered by default.
        select(dialog, 0, 0);
        type(child<QLineEdit>(dialog, "passwordEdit"), QStringLiteral("pay-secret"));
        QVERIFY(child<QCheckBox>(dialog, "rememberCheck")->isChecked());
        dialog.accept();
        QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
        const GroupConfig config = dialog.config();
        QVERIFY(!config.toJson(true).contains("secret"));
        const QString movedKey =
            lockscope::inspect::secretKey(QStringLiteral("cache-eu"), config.groups[1].nodes[0].config);
        QCOMPARE(keychain.stored.value(movedKey), QStringLiteral("stored-secret"));
        QVERIFY(!keychain.stored.contains(cacheKey));
        const QString payKey =
            lockscope::inspect::secretKey(QStringLiteral("payments"), config.groups[0].nodes[0].config);
        QCOMPARE(keychain.stored.value(payKey), QStringLiteral("pay-secret"));
    }
    {
        // Unticking "Remember" removes the stored password at OK.
        GroupConfig renamed = sampleConfig();
        renamed.groups[1].name = QStringLiteral("cache-eu");
        ConnectionsDialog dialog(renamed, &keychain);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        select(dialog, 1, 0);
        QCheckBox *remember = child<QCheckBox>(dialog, "rememberCheck");
        QTRY_VERIFY(remember->isEnabled() && remember->isChecked());
        remember->click();
        QVERIFY(child<QLabel>(dialog, "secretNote")->text().contains(QLatin1String("removed")));
        dialog.accept();
        QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
        const QString movedKey =
            lockscope::inspect::secretKey(QStringLiteral("cache-eu"), renamed.groups[1].nodes[0].config);
        QVERIFY(!keychain.stored.contains(movedKey));
    }
}

void TestConnectionsDialog::testConnectionShowsTheVersion()
{
    LS_START_SERVER(server, test::ServerKind::Plain);
    const NodeConfig target = test::clientConfig(*server, test::ServerKind::Plain);
    redis::Connection admin(target);
    auto info = admin.command({"INFO", "server"});
    LS_VERIFY_OK(info);
    const QString version = QString::fromUtf8(info->bytes())
                                .section(QStringLiteral("redis_version:"), 1)
                                .section(QLatin1Char('\r'), 0, 0);
    QVERIFY(!version.isEmpty());

    GroupConfig config;
    NodeGroup group;
    group.name = QStringLiteral("local");
    GroupNode n;
    n.config = target;
    n.config.name = QStringLiteral("local-a");
    group.nodes.push_back(n);
    config.groups.push_back(group);
    ConnectionsDialog dialog(config, nullptr);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 0);
    click(dialog, "testButton");
    QLabel *result = child<QLabel>(dialog, "testResult");
    QTRY_VERIFY_WITH_TIMEOUT(result->text().contains(QStringLiteral("Redis %1").arg(version)), 30000);
    QVERIFY2(result->text().contains(QLatin1String("local-a")), qPrintable(result->text()));
    QVERIFY2(result->text().contains(QLatin1String("master")), qPrintable(result->text()));

    // A node that refuses: the error names it and the cause.
    server->stop();
    click(dialog, "testButton");
    QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✘")), 30000);
    QVERIFY2(result->text().contains(QLatin1String("local-a")) &&
                 result->text().contains(QLatin1String("refused")),
             qPrintable(result->text()));
}

void TestConnectionsDialog::testConnectionUsesTheStoredPassword()
{
    LS_START_SERVER(server, test::ServerKind::Password);
    NodeConfig target = test::clientConfig(*server, test::ServerKind::Password);
    target.password.clear();
    target.name = QStringLiteral("vault-a");
    GroupConfig config;
    NodeGroup group;
    group.name = QStringLiteral("secured");
    GroupNode n;
    n.config = target;
    group.nodes.push_back(n);
    config.groups.push_back(group);

    // No password anywhere: the test says the node wants one.
    {
        ConnectionsDialog dialog(config, nullptr);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        select(dialog, 0, 0);
        click(dialog, "testButton");
        QLabel *result = child<QLabel>(dialog, "testResult");
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✘")), 30000);
        QVERIFY2(result->text().contains(QLatin1String("vault-a")) &&
                     result->text().contains(QLatin1String("password")),
                 qPrintable(result->text()));
    }
    // The group was saved without the password; the store supplies it.
    FakeKeychain keychain;
    keychain.stored.insert(lockscope::inspect::secretKey(group.name, target),
                           QString::fromLatin1(test::kPassword));
    ConnectionsDialog dialog(config, &keychain);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 0);
    QTRY_VERIFY(child<QCheckBox>(dialog, "rememberCheck")->isEnabled());
    click(dialog, "testButton");
    QLabel *result = child<QLabel>(dialog, "testResult");
    QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✔")), 30000);
    QVERIFY2(result->text().contains(QLatin1String("Redis ")), qPrintable(result->text()));
}

void TestConnectionsDialog::closingWhileATestRunsIsSafe()
{
    // A port nothing listens on behind a blackhole address would take the connect timeout;
    // a fresh server that is stopped right away refuses fast. Use the slow kind: a TEST-NET
    // address that never answers, with a short timeout.
    GroupConfig config;
    NodeGroup group;
    group.name = QStringLiteral("far");
    group.nodes.push_back(
        node(QStringLiteral("redis://192.0.2.1:6379?name=blackhole&connect_timeout=1500ms")));
    config.groups.push_back(group);
    auto *dialog = new ConnectionsDialog(config, nullptr);
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    select(*dialog, 0, 0);
    click(*dialog, "testButton");
    // "Connecting to blackhole…" while the probe runs; on a machine without a route to the
    // TEST-NET address the refusal may already be back (the click processes events).
    QVERIFY2(child<QLabel>(*dialog, "testResult")->text().contains(QLatin1String("blackhole")),
             qPrintable(child<QLabel>(*dialog, "testResult")->text()));
    delete dialog; // while the probe still runs (or just after)
    // Let the probe finish in the pool and make sure nothing reports to the deleted dialog.
    QTest::qWait(2500);
}

void TestConnectionsDialog::closingWhileATestRunsReturnsAtOnce()
{
    // A real server stopped with SIGSTOP: it accepts the connection and answers nothing, so the
    // test is surely still running when the dialog goes.
    LS_START_SERVER(server, test::ServerKind::Plain);
    NodeConfig target = test::clientConfig(*server, test::ServerKind::Plain);
    target.name = QStringLiteral("frozen");
    TestResultLog log;
    QVERIFY(server->pause());
    auto *dialog = new ConnectionsDialog(singleNode(target), nullptr);
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    select(*dialog, 0, 0);
    click(*dialog, "testButton");
    QVERIFY(child<QLabel>(*dialog, "testResult")->text().contains(QLatin1String("Connecting to frozen")));
    QElapsedTimer closing;
    closing.start();
    dialog->close();
    delete dialog;
    QVERIFY2(closing.elapsed() < 500, qPrintable(QString::number(closing.elapsed())));

    // The server answers now; the result has nowhere to go.
    QVERIFY(server->resume());
    QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));
    QTest::qWait(100); // a queued continuation would run now
    QVERIFY2(log.lines().isEmpty(), qPrintable(log.lines().join(QLatin1Char('\n'))));

    // The same test with the dialog still open does report (the log above could see it).
    ConnectionsDialog open(singleNode(target), nullptr);
    open.show();
    QVERIFY(QTest::qWaitForWindowExposed(&open));
    select(open, 0, 0);
    click(open, "testButton");
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(open, "testResult")->text().startsWith(QStringLiteral("✔")),
                             30000);
    QCOMPARE(log.lines().size(), 1);
}

void TestConnectionsDialog::staleTestResultsAreDropped()
{
    LS_START_SERVER(slow, test::ServerKind::Plain);
    LS_START_SERVER(fast, test::ServerKind::Plain);
    NodeConfig target = test::clientConfig(*slow, test::ServerKind::Plain);
    target.name = QStringLiteral("old-node");
    QVERIFY(slow->pause());
    ConnectionsDialog dialog(singleNode(target), nullptr);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 0);
    QLabel *result = child<QLabel>(dialog, "testResult");
    click(dialog, "testButton");
    QVERIFY(result->text().contains(QLatin1String("old-node")));

    // The URL is edited while the test runs: its line goes, and a new test reports the new URL.
    type(child<QLineEdit>(dialog, "urlEdit"),
         QStringLiteral("redis://127.0.0.1:%1?name=new-node").arg(fast->port()));
    QVERIFY2(!result->text().contains(QLatin1String("old-node")), qPrintable(result->text()));
    click(dialog, "testButton");
    QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✔")), 30000);
    QVERIFY2(result->text().contains(QLatin1String("new-node")), qPrintable(result->text()));

    // The old test answers at last, and is not shown.
    QVERIFY(slow->resume());
    QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));
    QTest::qWait(100);
    QVERIFY2(result->text().startsWith(QStringLiteral("✔")) &&
                 result->text().contains(QLatin1String("new-node")),
             qPrintable(result->text()));

    // Two tests of one node: only the second one's answer counts (both say the same here, but
    // the first one's must not land after the second one's).
    QVERIFY(slow->pause());
    type(child<QLineEdit>(dialog, "urlEdit"),
         QStringLiteral("redis://127.0.0.1:%1?name=old-node&timeout=20000ms").arg(slow->port()));
    click(dialog, "testButton");
    click(dialog, "testButton");
    QVERIFY(slow->resume());
    QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✔")), 30000);
    QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));
    QTest::qWait(100);
    QVERIFY2(result->text().contains(QLatin1String("old-node")), qPrintable(result->text()));
}

void TestConnectionsDialog::okWaitsForTheStoreWithoutBlocking()
{
    SlowKeychain keychain;
    ConnectionsDialog dialog(sampleConfig(), &keychain);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 0, 0);
    QTRY_VERIFY(child<QCheckBox>(dialog, "rememberCheck")->isEnabled());
    type(child<QLineEdit>(dialog, "passwordEdit"), QStringLiteral("pay-secret"));
    QDialogButtonBox *buttons = child<QDialogButtonBox>(dialog, "buttonBox");
    QElapsedTimer pressing;
    pressing.start();
    QTest::mouseClick(buttons->button(QDialogButtonBox::Ok), Qt::LeftButton);
    QVERIFY(pressing.elapsed() < 500); // the GUI thread does not wait for the keychain
    // Not accepted before the store has the password; no Cancel meanwhile (the store would be
    // ahead of the groups file).
    QVERIFY(dialog.isVisible());
    QCOMPARE(dialog.result(), 0);
    QVERIFY(!buttons->isEnabled());
    QVERIFY(child<QLabel>(dialog, "statusLabel")->text().contains(QLatin1String("Saving")));
    dialog.reject();
    QVERIFY(dialog.isVisible());
    keychain.unlock.release();
    QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
    const QString payKey =
        lockscope::inspect::secretKey(QStringLiteral("payments"), dialog.config().groups[0].nodes[0].config);
    QCOMPARE(keychain.inner.stored.value(payKey), QStringLiteral("pay-secret"));
}

void TestConnectionsDialog::closedDialogStillStoresThePasswords()
{
    SlowKeychain keychain;
    const GroupConfig config = sampleConfig();
    {
        auto dialog = std::make_unique<ConnectionsDialog>(config, &keychain);
        dialog->show();
        QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
        select(*dialog, 0, 0);
        QTRY_VERIFY(child<QCheckBox>(*dialog, "rememberCheck")->isEnabled());
        type(child<QLineEdit>(*dialog, "passwordEdit"), QStringLiteral("pay-secret"));
        dialog->accept();
        QElapsedTimer closing;
        closing.start();
        dialog.reset(); // the window goes away (its owner quit) while the keychain waits
        QVERIFY(closing.elapsed() < 500);
    }
    keychain.unlock.release();
    QTRY_COMPARE(keychain.writes.load(), 1);
    const QString payKey =
        lockscope::inspect::secretKey(QStringLiteral("payments"), config.groups[0].nodes[0].config);
    QCOMPARE(keychain.inner.stored.value(payKey), QStringLiteral("pay-secret"));
    QVERIFY(QThreadPool::globalInstance()->waitForDone(5000));
}

void TestConnectionsDialog::spellingsOfOneServerAreDuplicates()
{
    // One server under two spellings would vote twice: flagged as the groups file's own check
    // does (else the file saved here would not load).
    GroupConfig config;
    NodeGroup group;
    group.name = QStringLiteral("local");
    group.nodes = {node(QStringLiteral("redis://localhost:7000")),
                   node(QStringLiteral("redis://10.0.0.1:7000")),
                   node(QStringLiteral("redis://10.0.0.2:7000"))};
    config.groups.push_back(group);
    ConnectionsDialog dialog(config, nullptr);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(okEnabled(dialog));
    select(dialog, 0, 2);
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("redis://127.0.0.1:7000"));
    QVERIFY(child<QLabel>(dialog, "hostError")->isVisible());
    QVERIFY(!okEnabled(dialog));
    // Both entries are marked, the first one too.
    select(dialog, 0, 0);
    QVERIFY(child<QLabel>(dialog, "hostError")->isVisible());
    select(dialog, 0, 2);
    type(child<QLineEdit>(dialog, "urlEdit"), QStringLiteral("redis://127.0.0.1:7000/1"));
    QVERIFY(okEnabled(dialog)); // another database is another key space
}

void TestConnectionsDialog::importExportRoundTrip()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("export.json"));
    GroupConfig withSecret = sampleConfig();
    withSecret.groups[1].nodes[0].config.password = QStringLiteral("never-exported");
    {
        ConnectionsDialog dialog(withSecret, nullptr);
        QVERIFY(dialog.exportTo(path));
        QVERIFY(child<QLabel>(dialog, "statusLabel")->text().contains(QLatin1String("without passwords")));
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray json = file.readAll();
    QVERIFY(!json.contains("never-exported"));

    GroupConfig existing;
    NodeGroup other;
    other.name = QStringLiteral("other");
    other.nodes.push_back(node(QStringLiteral("redis://10.9.9.9:6379")));
    existing.groups.push_back(other);
    ConnectionsDialog dialog(existing, nullptr);
    QVERIFY(dialog.importFrom(path));
    const GroupConfig merged = dialog.config();
    QCOMPARE(merged.groups.size(), std::size_t(3));
    QCOMPARE(merged.groups[0].name, QStringLiteral("other"));
    GroupConfig expected = sampleConfig();
    QCOMPARE(merged.groups[1], expected.groups[0]);
    QCOMPARE(merged.groups[2], expected.groups[1]);
    QVERIFY(dialog.isValid());

    // A malformed file changes nothing and says why, inline.
    const QString bad = dir.filePath(QStringLiteral("bad.json"));
    QFile badFile(bad);
    QVERIFY(badFile.open(QIODevice::WriteOnly));
    badFile.write("{\"version\":1,\"groups\":[{\"name\":\"x\",\"nodes\":[{\"url\":\"http://nope\"}]}]}");
    badFile.close();
    QVERIFY(!dialog.importFrom(bad));
    QCOMPARE(dialog.config(), merged);
    QLabel *problems = child<QLabel>(dialog, "problemsLabel");
    QVERIFY2(problems->text().contains(QLatin1String("bad.json")) &&
                 problems->text().contains(QLatin1String("nothing imported")),
             qPrintable(problems->text()));
}

void TestConnectionsDialog::passwordPromptNamesTheNode()
{
    {
        PasswordPrompt prompt(QStringLiteral("payments"), QStringLiteral("pay-a"), true);
        QVERIFY(child<QLabel>(prompt, "promptMessage")->text().contains(QLatin1String("pay-a")));
        QVERIFY(child<QLabel>(prompt, "promptMessage")->text().contains(QLatin1String("payments")));
        QLineEdit *password = child<QLineEdit>(prompt, "passwordEdit");
        QCOMPARE(password->echoMode(), QLineEdit::Password);
        QVERIFY(prompt.remember());
        type(password, QStringLiteral("pw"));
        QCOMPARE(prompt.password(), QStringLiteral("pw"));

        FakeKeychain keychain;
        QVERIFY(
            PasswordPrompt::storeAnswer(keychain, QStringLiteral("k"), prompt.password(), prompt.remember()));
        QCOMPARE(keychain.stored.value(QStringLiteral("k")), QStringLiteral("pw"));
        lockscope::inspect::SessionSecretStore session(std::make_unique<FakeKeychain>());
        QVERIFY(PasswordPrompt::storeAnswer(session, QStringLiteral("k"), QStringLiteral("pw"), false));
        QVERIFY(!session.persistentStore()->read(QStringLiteral("k"))->has_value());
        QCOMPARE(session.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("pw"));
    }
    {
        PasswordPrompt prompt(QStringLiteral("payments"), QStringLiteral("pay-a"), false);
        QVERIFY(!prompt.remember());
        QVERIFY(child<QLabel>(prompt, "promptNote")->text().contains(QLatin1String("No keychain")));
        prompt.setError(QStringLiteral("pay-a: auth-failed: WRONGPASS"));
        QVERIFY(!child<QLabel>(prompt, "promptError")->isHidden());
        MemorySecretStore memory;
        QVERIFY(PasswordPrompt::storeAnswer(memory, QStringLiteral("k"), QStringLiteral("pw"), false));
        QCOMPARE(memory.read(QStringLiteral("k"))->value_or(QString()), QStringLiteral("pw"));
    }
}

/// With $LOCKSCOPE_SCREENSHOT_DIR set, saves the dialog with a realistic configuration there
/// (for docs/ and for looking at it); otherwise skipped.
void TestConnectionsDialog::nodeMarkersAreExplained()
{
    // Issue 11: the mark beside every node looked like an unticked checkbox (an empty colour
    // swatch) and hovering showed only the URL.
    MemorySecretStore store;
    ConnectionsDialog dialog(sampleConfig(), &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto *tree = child<QTreeWidget>(dialog, "groupTree");
    QTreeWidgetItem *tagged = tree->topLevelItem(0)->child(0); // pay-a, #d04040
    QTreeWidgetItem *plain = tree->topLevelItem(0)->child(1);  // pay-b, no colour tag

    // A node without a colour tag has nothing drawn beside it (no empty box)...
    const QImage plainIcon = plain->icon(0).pixmap(16, 16).toImage();
    int drawn = 0;
    for (int y = 0; y < plainIcon.height(); ++y)
        for (int x = 0; x < plainIcon.width(); ++x)
            drawn += plainIcon.pixelColor(x, y).alpha() > 0 ? 1 : 0;
    QCOMPARE(drawn, 0);
    // ...a tagged one a filled dot of its colour, not a square.
    const QImage taggedIcon = tagged->icon(0).pixmap(16, 16).toImage();
    QCOMPARE(taggedIcon.pixelColor(taggedIcon.width() / 2, taggedIcon.height() / 2).rgb(),
             QColor(QStringLiteral("#d04040")).rgb());
    QCOMPARE(taggedIcon.pixelColor(1, 1).alpha(), 0);

    // Hovering the tagged node says what the dot is and where it is set.
    const QPoint at = tree->visualItemRect(tagged).center();
    QTest::mouseMove(tree->viewport(), at);
    QHelpEvent help(QEvent::ToolTip, at, tree->viewport()->mapToGlobal(at));
    QApplication::sendEvent(tree->viewport(), &help);
    QTRY_VERIFY(QToolTip::isVisible());
    QVERIFY2(QToolTip::text().contains(QStringLiteral("redis://10.0.0.5:6379")),
             qPrintable(QToolTip::text()));
    QVERIFY2(QToolTip::text().contains(QStringLiteral("colour tag")), qPrintable(QToolTip::text()));
    QVERIFY2(QToolTip::text().contains(QStringLiteral("Guards")), qPrintable(QToolTip::text()));
    QToolTip::hideText();

    // The colour button says the same.
    clickItem(dialog, 0, 0);
    QVERIFY(child<QPushButton>(dialog, "colorButton")->toolTip().contains(QStringLiteral("dot")));
}

void TestConnectionsDialog::productionCheckFitsAt1280x800()
{
    // Issue 11: at 1280x800 the Production checkbox was cut off at the bottom of the node page.
    QWidget screen;
    screen.resize(1280, 800);
    screen.show();
    MemorySecretStore store;
    ConnectionsDialog dialog(sampleConfig(), &store, &screen);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY2(dialog.width() <= 1280 && dialog.height() <= 800,
             qPrintable(QStringLiteral("%1x%2").arg(dialog.width()).arg(dialog.height())));

    auto *production = child<QCheckBox>(dialog, "productionCheck");
    QScrollArea *scroll = nullptr;
    for (QWidget *w = production->parentWidget(); w && !scroll; w = w->parentWidget())
        scroll = qobject_cast<QScrollArea *>(w);
    QVERIFY(scroll);
    // A plain node, and a TLS node (its TLS fields are shown).
    for (const auto &[group, node] : {std::pair{0, 0}, std::pair{1, 0}}) {
        clickItem(dialog, group, node);
        QVERIFY(production->isVisible());
        QWidget *viewport = scroll->viewport();
        const QRect shown(production->mapTo(viewport, QPoint(0, 0)), production->size());
        QVERIFY2(viewport->rect().contains(shown),
                 qPrintable(QStringLiteral("group %1: the checkbox at %2,%3 %4x%5, the viewport %6x%7")
                                .arg(group)
                                .arg(shown.x())
                                .arg(shown.y())
                                .arg(shown.width())
                                .arg(shown.height())
                                .arg(viewport->width())
                                .arg(viewport->height())));
        QCOMPARE(scroll->verticalScrollBar()->value(), 0);
    }
    // The TLS node shows its TLS fields; the plain node does not (nothing to fill in there).
    QVERIFY(child<QLineEdit>(dialog, "caFileEdit")->isVisible());
    clickItem(dialog, 0, 1);
    QVERIFY(!child<QLineEdit>(dialog, "caFileEdit")->isVisible());
    // Ticking TLS shows them.
    auto *tls = child<QGroupBox>(dialog, "tlsBox");
    tls->setFocus(); // tabbed to, then Space ticks it
    QTest::keyClick(tls, Qt::Key_Space);
    QVERIFY(tls->isChecked());
    QVERIFY(child<QLineEdit>(dialog, "caFileEdit")->isVisible());
}

void TestConnectionsDialog::savingKeepsAHandWrittenFile()
{
    // Issue 11: OK rewrote a compact hand-written groups.json into one listing every default,
    // keys sorted. Only what changed may change: here one node gets the Production flag.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    const QByteArray handWritten = R"({
  "version": 1,
  "groups": [
    { "name": "payments",
      "nodes": [
        { "url": "redis://10.0.0.5:6379", "name": "pay-a", "production": true },
        { "url": "redis://10.0.0.6" },
        { "host": "10.0.0.7", "port": 6380, "db": 2 }
      ] },
    { "name": "cache", "match": ["cache:*"],
      "nodes": [ { "url": "rediss://cache.internal:6380?sni=cache", "read_only": true } ] }
  ]
}
)";
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(handWritten);
    }
    const auto loaded = GroupConfig::load(path);
    QVERIFY2(loaded.has_value(), qPrintable(loaded ? QString() : loaded.error()));

    MemorySecretStore store;
    ConnectionsDialog dialog(*loaded, &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    // Look at every node (as an operator checking them would), then tick Production on the
    // second one.
    for (const auto &[group, node] : {std::pair{0, 0}, std::pair{0, 2}, std::pair{1, 0}, std::pair{0, 1}})
        clickItem(dialog, group, node);
    auto *production = child<QCheckBox>(dialog, "productionCheck");
    QVERIFY(!production->isChecked());
    QTest::mouseClick(production, Qt::LeftButton, {}, QPoint(8, production->height() / 2));
    QVERIFY(production->isChecked());
    QDialogButtonBox *buttons = child<QDialogButtonBox>(dialog, "buttonBox");
    QTest::mouseClick(buttons->button(QDialogButtonBox::Ok), Qt::LeftButton);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    // What the main window does with an accepted dialog.
    const auto saved = dialog.config().save(path);
    QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error()));

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QByteArray expected = handWritten;
    expected.replace(R"({ "url": "redis://10.0.0.6" })",
                     R"({ "url": "redis://10.0.0.6", "production": true })");
    const QByteArray written = file.readAll();
    QVERIFY2(written == expected, written.constData());

    // Saved again without a change: the file stays as it is, byte for byte.
    const auto again = GroupConfig::load(path);
    QVERIFY(again.has_value());
    QVERIFY(again->save(path).has_value());
    QFile reread(path);
    QVERIFY(reread.open(QIODevice::ReadOnly));
    QCOMPARE(reread.readAll(), expected);
}

void TestConnectionsDialog::screenshot()
{
    const QString dir = qEnvironmentVariable("LOCKSCOPE_SCREENSHOT_DIR");
    if (dir.isEmpty())
        QSKIP("set LOCKSCOPE_SCREENSHOT_DIR to save screenshots");
    GroupConfig config = sampleConfig();
    config.groups[0].nodes[0].readOnly = false;
    config.groups[1].name = QStringLiteral("cache-eu");
    NodeConfig &tls = config.groups[1].nodes[0].config;
    tls.name = QStringLiteral("cache-eu-1");
    tls.tls.certFile = QStringLiteral("/etc/lockscope/tls/client.crt");
    tls.tls.keyFile = QStringLiteral("/etc/lockscope/tls/client.key");
    tls.tls.caFile = QStringLiteral("/etc/lockscope/tls/ca.pem");
    tls.tls.serverName = QStringLiteral("cache-eu.internal");
    config.groups[1].nodes[0].color = QStringLiteral("#3a7bd5");
    NodeGroup local;
    local.name = QStringLiteral("local dev");
    local.nodes.push_back(node(QStringLiteral("redis://127.0.0.1:6379")));
    config.groups.push_back(local);
    MemorySecretStore store;
    ConnectionsDialog dialog(config, &store);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    select(dialog, 1, 0);
    QTest::qWait(200);
    QVERIFY(dialog.grab().save(dir + QStringLiteral("/connections-tls.png")));
    select(dialog, 0, 0);
    type(child<QLineEdit>(dialog, "portEdit"), QStringLiteral("6379x"));
    QTest::qWait(200);
    QVERIFY(dialog.grab().save(dir + QStringLiteral("/connections-invalid.png")));
    select(dialog, 0);
    QTest::qWait(200);
    QVERIFY(dialog.grab().save(dir + QStringLiteral("/connections-group.png")));
    PasswordPrompt prompt(QStringLiteral("payments"), QStringLiteral("pay-a"), false);
    prompt.show();
    QVERIFY(QTest::qWaitForWindowExposed(&prompt));
    QVERIFY(prompt.grab().save(dir + QStringLiteral("/password-prompt.png")));
}

QTEST_MAIN(TestConnectionsDialog)
#include "tst_connectionsdialog.moc"
