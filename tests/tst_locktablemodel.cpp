// LockTableModel, LockFilterProxy and NamespaceModel: merges, the TTL countdown, filters and the
// namespace tree, every model under QAbstractItemModelTester. Pure model tests (no Redis): the
// records are real lock values decoded by the built-in schemas and aggregated by core.

#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "models/namespacemodel.h"
#include "samplelocks.h"

#include <QAbstractItemModelTester>
#include <QColor>
#include <QElapsedTimer>
#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QTest>

using namespace std::chrono_literals;
using lockscope::inspect::LockRecord;
using lockscope::inspect::RawEntry;
namespace anomaly = lockscope::inspect::anomaly;
using Clock = std::chrono::steady_clock;
using samplelocks::held;
using samplelocks::heldOn;
using samplelocks::missing;
using samplelocks::stringRaw;

namespace {

const QStringList kNodes{QStringLiteral("demo-1"), QStringLiteral("demo-2"), QStringLiteral("demo-3")};
const QString kRedlock = QStringLiteral("payments");
const QString kSingle = QStringLiteral("cache");

/// A fake steady clock the tests move by hand.
struct FakeClock
{
    Clock::time_point now = Clock::time_point(std::chrono::hours(1000));
    std::function<Clock::time_point()> fn()
    {
        return [this] {
            return now;
        };
    }
};

std::vector<LockRecord> redlockAt(Clock::time_point at)
{
    auto records = samplelocks::redlockGroup(kNodes);
    samplelocks::setReadAt(records, at);
    return records;
}

std::vector<LockRecord> singleAt(Clock::time_point at)
{
    auto records = samplelocks::singleNode(QStringLiteral("cache-1"));
    samplelocks::setReadAt(records, at);
    return records;
}

LockRecord lockscopeRecord(const QByteArray &key, qint64 ttl, Clock::time_point at, const QString &host = {},
                           qint64 fence = 5)
{
    const RawEntry raw = stringRaw(
        samplelocks::lockscopeValue(
            samplelocks::token(key + host.toUtf8()), fence, host.isEmpty() ? QStringLiteral("web-1") : host,
            4711, QStringLiteral("main"), QString(),
            QDateTime::fromString(QStringLiteral("2025-01-01T10:00:00.000Z"), Qt::ISODateWithMs)),
        ttl);
    LockRecord record = heldOn(key, raw, kNodes);
    record.readAtSteady = at;
    record.readAt = QDateTime::fromString(QStringLiteral("2025-01-01T10:05:00.000Z"), Qt::ISODateWithMs);
    return record;
}

/// A group's full snapshot, loaded as the app loads one (MainWindow::onGroupScanned: applyDelta
/// with replaceAll), with every slice applied before the test goes on.
void load(LockTableModel &model, const QString &group, std::vector<LockRecord> records)
{
    model.applyDelta(group, std::move(records), {}, /*replaceAll=*/true);
    model.finishApplying();
}

int rowOf(const LockTableModel &model, const QByteArray &key, const QString &group = kRedlock)
{
    return model.indexFor(group, key).row();
}

QString cell(const LockTableModel &model, const QByteArray &key, int column, const QString &group = kRedlock)
{
    return model.index(rowOf(model, key, group), column).data().toString();
}

QStringList proxyKeys(const QAbstractItemModel &proxy)
{
    QStringList keys;
    for (int row = 0; row < proxy.rowCount(); ++row)
        keys << proxy.index(row, LockTableModel::Key).data().toString();
    keys.sort();
    return keys;
}

/// Counts filterAcceptsRow and lessThan calls, to show what a countdown tick costs the proxy.
class CountingProxy : public LockFilterProxy
{
public:
    mutable int filterCalls = 0;
    mutable int lessThanCalls = 0;

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        ++filterCalls;
        return LockFilterProxy::filterAcceptsRow(row, parent);
    }
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override
    {
        ++lessThanCalls;
        return LockFilterProxy::lessThan(left, right);
    }
};

} // namespace

class TestLockTableModel : public QObject
{
    Q_OBJECT

private slots:
    void modelsPassTesterThroughMerges();
    void showsColumns();
    void rolesAndCounts();
    void tickChangesOnlyTtlColumn();
    void tickDoesNotRefilterOrResort();
    void ttlColours();
    void expiredWhileShown();
    void refreshClearsExpired();
    void mergeKeepsSelectionWithoutReset();
    void mergeSignalsOnlyChangedCells();
    void kindColumnCountsHolders();
    void removeGroup();
    void proxyFilters();
    void proxySortsByRawValues();
    void namespaceTree();
    void namespaceMergeKeepsIndexes();
    void deltasApplyInSlicesAndInOrder();
    void largeMerge();
    void ageCountsOn();
    void ttlTooltipSaysUntilWhen();
    void staleRowsAreKeptAndMarked();
    void binaryKeysAreEscaped();
};

/// The model's running per-namespace counts equal a recount of its rows.
bool namespaceCountsAgree(const LockTableModel &model)
{
    QHash<QString, int> recount;
    for (int row = 0; row < model.rowCount(); ++row)
        ++recount[model.namespaceOf(row)];
    return recount == model.namespaceCounts();
}

void TestLockTableModel::modelsPassTesterThroughMerges()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Ttl);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
    NamespaceModel namespaces;
    namespaces.setSourceModel(&model);
    QAbstractItemModelTester namespaceTester(&namespaces,
                                             QAbstractItemModelTester::FailureReportingMode::Fatal);

    load(model, kRedlock, redlockAt(clock.now));
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    load(model, kSingle, singleAt(clock.now));
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    proxy.setFilterText(QStringLiteral("jobs"));
    proxy.setAnomaliesOnly(true);
    proxy.setAnomaliesOnly(false);
    proxy.setFilterText(QString());

    // Refresh: some keys gone, some new, some changed; the clock moved.
    clock.now += 2s;
    auto next = redlockAt(clock.now);
    next.erase(next.begin() + 3, next.begin() + 7);
    next.push_back(lockscopeRecord("aaa:first", 5'000, clock.now));
    next.push_back(lockscopeRecord("jobs:lock:new", 7'000, clock.now));
    next.push_back(lockscopeRecord("zzz:ns:deep:last", 9'000, clock.now));
    next[0].owner = QStringLiteral("changed owner");
    next[1].anomalies.append(QLatin1String(anomaly::NoTtl));
    load(model, kRedlock, next);
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));

    // The countdown runs out on some rows.
    clock.now += 10s;
    model.tick();
    proxy.setAnomaliesOnly(true);
    clock.now += 1h;
    model.tick();
    proxy.setAnomaliesOnly(false);

    proxy.setGroupFilter(kSingle);
    proxy.setNamespaceFilter(QStringLiteral("inventory"));
    proxy.setGroupFilter(QString());
    proxy.setNamespaceFilter(QString());
    proxy.sort(LockTableModel::Key, Qt::DescendingOrder);

    load(model, kRedlock, {});
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    model.removeGroup(kSingle);
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(namespaces.rowCount(namespaces.allIndex()), 0);
    load(model, kSingle, singleAt(clock.now));
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    model.clear();
    namespaces.rebuild();
    QVERIFY(namespaceCountsAgree(model));
    QCOMPARE(proxy.rowCount(), 0);
}

void TestLockTableModel::showsColumns()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock, redlockAt(clock.now));
    load(model, kSingle, singleAt(clock.now));
    QCOMPARE(model.columnCount(), int(LockTableModel::ColumnCount));
    QCOMPARE(model.headerData(LockTableModel::Ttl, Qt::Horizontal).toString(), QStringLiteral("TTL"));
    QVERIFY(!model.headerData(LockTableModel::Held, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());

    const QByteArray invoice = "billing:invoice:2024-113";
    QCOMPARE(cell(model, invoice, LockTableModel::Group), kRedlock);
    QCOMPARE(cell(model, invoice, LockTableModel::Key), QString::fromLatin1(invoice));
    QCOMPARE(cell(model, invoice, LockTableModel::Schema), QStringLiteral("lockscope"));
    QVERIFY(cell(model, invoice, LockTableModel::Owner)
                .startsWith(QStringLiteral("“monthly invoices” — web-1 pid ")));
    QCOMPARE(cell(model, invoice, LockTableModel::Ttl), QStringLiteral("28 s"));
    QCOMPARE(cell(model, invoice, LockTableModel::Held), QStringLiteral("3/3 ✓"));
    QCOMPARE(cell(model, invoice, LockTableModel::Fence), QStringLiteral("42"));
    const QString token = QString::fromLatin1(samplelocks::token(invoice));
    QCOMPARE(cell(model, invoice, LockTableModel::Token), token.left(8) + QStringLiteral("…"));
    QCOMPARE(model.index(rowOf(model, invoice), LockTableModel::Token).data(Qt::ToolTipRole).toString(),
             token);
    QVERIFY(
        cell(model, invoice, LockTableModel::Age).endsWith(QStringLiteral(" s"))); // acquired ~18 s before
    QVERIFY(model.index(rowOf(model, invoice), LockTableModel::Key).data(Qt::DecorationRole).isNull());

    QCOMPARE(cell(model, "jobs:lock:cleanup", LockTableModel::Held), QStringLiteral("1/3 ✗"));
    QCOMPARE(cell(model, "jobs:lock:reindex", LockTableModel::Held), QStringLiteral("2/3 ✓"));
    QCOMPARE(cell(model, "jobs:lock:reindex", LockTableModel::Ttl), QStringLiteral("4.2 s"));
    QCOMPARE(cell(model, "billing:migrate", LockTableModel::Ttl), QStringLiteral("no TTL"));
    QCOMPARE(cell(model, "legacy:mutex:report", LockTableModel::Schema), QStringLiteral("raw"));
    // A bare redsync token on a key that does not name a lock: only a guess, and it says so.
    QCOMPARE(cell(model, "payments:settle:eu", LockTableModel::Schema), QStringLiteral("redsync?"));
    QVERIFY(model.index(rowOf(model, "payments:settle:eu"), LockTableModel::Schema)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("guess")));
    QCOMPARE(cell(model, "payments:settle:eu", LockTableModel::Fence), QString());
    QCOMPARE(cell(model, "payments:settle:eu", LockTableModel::Age), QString());
    QCOMPARE(cell(model, "inventory:sku:88123", LockTableModel::Schema, kSingle),
             QStringLiteral("redisson-rlock"));
    QCOMPARE(cell(model, "inventory:sku:88123", LockTableModel::Held, kSingle), QStringLiteral("1/1"));
    QCOMPARE(cell(model, "job-lock:default:sendNewsletter", LockTableModel::Owner, kSingle),
             QStringLiteral("batch-host-2"));
    QCOMPARE(cell(model, "job-lock:default:sendNewsletter", LockTableModel::Ttl, kSingle),
             QStringLiteral("9m 00s"));
    QCOMPARE(cell(model, "orders:lock:checkout-5521", LockTableModel::Schema, kSingle),
             QStringLiteral("redis-py"));

    // Anomalies: a decoration on the key and the anomalies in words in its tooltip.
    const QModelIndex cleanupKey = model.indexFor(kRedlock, "jobs:lock:cleanup");
    QVERIFY(!cleanupKey.data(Qt::DecorationRole).value<QIcon>().isNull());
    const QString tip = cleanupKey.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("Quorum lost")), qPrintable(tip));
}

void TestLockTableModel::rolesAndCounts()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    QSignalSpy counts(&model, &LockTableModel::countsChanged);
    load(model, kRedlock, redlockAt(clock.now));
    QCOMPARE(counts.size(), 1);
    load(model, kSingle, singleAt(clock.now));

    const int redlockRows = int(samplelocks::redlockGroup(kNodes).size());
    const int singleRows = int(samplelocks::singleNode(QStringLiteral("cache-1")).size());
    QCOMPARE(model.rowCount(), redlockRows + singleRows);
    QCOMPARE(model.lockCount(), redlockRows + singleRows);
    QCOMPARE(model.lockCount(kSingle), singleRows);
    QCOMPARE(model.groups(), (QStringList{kSingle, kRedlock}));

    // cleanup (quorum lost), export (tokens differ), settle:us (unreachable), migrate (no TTL),
    // legacy (undecoded); lock:migrations (no TTL, single node).
    QCOMPARE(model.anomalyCount(), 6);

    const QModelIndex exportOwner = model.indexFor(kRedlock, "jobs:lock:export", LockTableModel::Owner);
    QVERIFY(exportOwner.isValid());
    QCOMPARE(exportOwner.column(), int(LockTableModel::Owner));
    QCOMPARE(exportOwner.data(LockTableModel::AnomaliesRole).toStringList(),
             QStringList{QLatin1String(anomaly::TokensDiffer)});
    QCOMPARE(exportOwner.data(LockTableModel::GroupRole).toString(), kRedlock);
    QCOMPARE(exportOwner.data(LockTableModel::KeyRole).toByteArray(), QByteArray("jobs:lock:export"));
    QCOMPARE(exportOwner.data(LockTableModel::SchemaRole).toString(), QStringLiteral("lockscope"));
    QCOMPARE(exportOwner.data(LockTableModel::NamespaceRole).toString(), QStringLiteral("jobs:lock"));
    QCOMPARE(model.group(exportOwner.row()), kRedlock);
    QCOMPARE(model.record(exportOwner)->key, QByteArray("jobs:lock:export"));
    QCOMPARE(model.record(exportOwner.row())->held, 2);
    QVERIFY(!model.indexFor(kSingle, "jobs:lock:export").isValid());
    QVERIFY(!model.record(-1));
    QVERIFY(!model.record(model.rowCount()));

    const int reindex = rowOf(model, "jobs:lock:reindex");
    QCOMPARE(model.index(reindex, LockTableModel::Held).data(LockTableModel::SortRole).toLongLong(), 2003);
    QCOMPARE(model.index(reindex, LockTableModel::Fence).data(LockTableModel::SortRole).toLongLong(), 77);
    QCOMPARE(model.index(reindex, LockTableModel::Ttl).data(LockTableModel::TtlRemainingRole).toLongLong(),
             4200);
    QCOMPARE(model.remainingMs(reindex), 4200);
    const int migrate = rowOf(model, "billing:migrate");
    QCOMPARE(model.remainingMs(migrate), -1);
    QCOMPARE(model.index(migrate, LockTableModel::Ttl).data(LockTableModel::SortRole).toLongLong(),
             std::numeric_limits<qint64>::max());
    QCOMPARE(LockTableModel::keyNamespace("jobs:lock:nightly"), QStringLiteral("jobs:lock"));
    QCOMPARE(LockTableModel::keyNamespace("plain"), QString());
}

void TestLockTableModel::tickChangesOnlyTtlColumn()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock, redlockAt(clock.now));
    QVERIFY(model.isTicking());
    const QByteArray key = "jobs:lock:nightly-report"; // 9.5 s
    QCOMPARE(cell(model, key, LockTableModel::Ttl), QStringLiteral("9.5 s"));

    // Every other column as shown before the tick.
    const int row = rowOf(model, key);
    QStringList others;
    for (int column = 0; column < LockTableModel::ColumnCount; ++column) {
        if (column != LockTableModel::Ttl)
            others << model.index(row, column).data().toString();
    }
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy ticked(&model, &LockTableModel::countdownTicked);
    clock.now += 500ms; // nothing expires yet (the shortest TTL is 800 ms)
    model.tick();
    // Only the TTL text moved: announced once, with no dataChanged over the other columns (nor
    // over the TTL column of every row, which would make a sorting proxy revisit them all).
    QCOMPARE(ticked.size(), 1);
    QCOMPARE(changed.size(), 0);
    QCOMPARE(cell(model, key, LockTableModel::Ttl), QStringLiteral("9.0 s"));
    QStringList othersAfter;
    for (int column = 0; column < LockTableModel::ColumnCount; ++column) {
        if (column != LockTableModel::Ttl)
            othersAfter << model.index(row, column).data().toString();
    }
    QCOMPARE(othersAfter, others);

    // The timer drives the same tick.
    model.setTickInterval(10ms);
    ticked.clear();
    QTRY_VERIFY(ticked.size() >= 2);
    QCOMPARE(changed.size(), 0);

    // Without any countdown (no TTL, no acquisition time to count an age from) there is no timer.
    LockRecord raw = lockscopeRecord("no:ttl", -1, clock.now);
    for (lockscope::inspect::NodeEntry &node : raw.nodes)
        node.decoded.reset();
    load(model, kRedlock, {raw});
    QVERIFY(!model.isTicking());
}

void TestLockTableModel::tickDoesNotRefilterOrResort()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    CountingProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Ttl);
    load(model, kRedlock, redlockAt(clock.now));
    proxy.setFilterText(QStringLiteral("lock"));
    QStringList before;
    for (int row = 0; row < proxy.rowCount(); ++row)
        before << proxy.index(row, LockTableModel::Key).data().toString();
    QVERIFY(before.size() > 5);

    QSignalSpy layout(&proxy, &QAbstractItemModel::layoutChanged);
    QSignalSpy proxyChanged(&proxy, &QAbstractItemModel::dataChanged);
    proxy.filterCalls = 0;
    proxy.lessThanCalls = 0;
    clock.now += 500ms;
    model.tick();
    qInfo("after a tick: %d filterAcceptsRow, %d lessThan calls", proxy.filterCalls, proxy.lessThanCalls);
    QCOMPARE(proxyChanged.size(), 0); // views repaint the column on countdownTicked
    QCOMPARE(layout.size(), 0);
    QCOMPARE(proxy.lessThanCalls, 0);
    QCOMPARE(proxy.filterCalls, 0);
    QStringList after;
    for (int row = 0; row < proxy.rowCount(); ++row)
        after << proxy.index(row, LockTableModel::Key).data().toString();
    QCOMPARE(after, before);
}

void TestLockTableModel::ttlColours()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock,
         {lockscopeRecord("a:countdown", 6'000, clock.now), lockscopeRecord("a:no-ttl", -1, clock.now)});
    const QModelIndex ttl = model.indexFor(kRedlock, "a:countdown", LockTableModel::Ttl);
    QVERIFY(ttl.data(Qt::ForegroundRole).isNull());
    clock.now += 2s; // 4 s left
    const QColor amber = ttl.data(Qt::ForegroundRole).value<QColor>();
    QVERIFY(amber.isValid());
    clock.now += 3500ms; // 0.5 s left
    const QColor red = ttl.data(Qt::ForegroundRole).value<QColor>();
    QVERIFY(red.isValid());
    QVERIFY(red != amber);
    QCOMPARE(ttl.data().toString(), QStringLiteral("0.5 s"));
    const QModelIndex noTtlIndex = model.indexFor(kRedlock, "a:no-ttl", LockTableModel::Ttl);
    QCOMPARE(noTtlIndex.data().toString(), QStringLiteral("no TTL"));
    QCOMPARE(noTtlIndex.data(Qt::ForegroundRole).value<QColor>(), red);
}

void TestLockTableModel::expiredWhileShown()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setAnomaliesOnly(true);
    load(model, kRedlock, redlockAt(clock.now));
    const int anomaliesBefore = model.anomalyCount();
    QCOMPARE(proxy.rowCount(), anomaliesBefore);
    const QByteArray key = "jobs:lock:reindex"; // 4.2 s, no anomaly
    const int row = rowOf(model, key);
    QVERIFY(model.record(row)->anomalies.isEmpty());

    QSignalSpy counts(&model, &LockTableModel::countsChanged);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    // jobs:lock:cleanup (0.8 s) and sessions:lock:u-2281 (2.4 s) run out first.
    clock.now += 1s;
    model.tick();
    clock.now += 1500ms;
    model.tick();
    QCOMPARE(counts.size(), 2);
    counts.clear();
    clock.now += 1600ms;
    model.tick();
    QCOMPARE(counts.size(), 0);
    QCOMPARE(cell(model, key, LockTableModel::Ttl), QStringLiteral("0.1 s"));
    clock.now += 200ms; // 4.3 s: past the TTL on both holders
    model.tick();
    QCOMPARE(model.record(row)->anomalies, QStringList{QLatin1String(anomaly::Expired)});
    QCOMPARE(cell(model, key, LockTableModel::Ttl), QStringLiteral("expired"));
    QVERIFY(model.index(row, LockTableModel::Key)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("Expired while shown")));
    QVERIFY(model.anomalyCount() > anomaliesBefore);
    QCOMPARE(counts.size(), 1);
    // Which rows expired at 4.3 s: jobs:lock:reindex, jobs:lock:cleanup (0.8 s, already an
    // anomaly) and the shorter shard and session locks.
    int expiredRows = 0;
    int newAnomalies = 0;
    for (int r = 0; r < model.rowCount(); ++r) {
        if (model.record(r)->anomalies.contains(QLatin1String(anomaly::Expired))) {
            ++expiredRows;
            if (model.record(r)->anomalies.size() == 1)
                ++newAnomalies;
        }
    }
    QCOMPARE(model.anomalyCount(), anomaliesBefore + newAnomalies);
    QVERIFY(expiredRows >= 3);
    // The whole row changed (the anomaly decoration and filters), and the proxy shows it now.
    const auto last = changed.constLast();
    QCOMPARE(last.at(0).value<QModelIndex>().column(), 0);
    QCOMPARE(last.at(1).value<QModelIndex>().column(), int(LockTableModel::ColumnCount) - 1);
    QCOMPARE(proxy.rowCount(), model.anomalyCount());
    QVERIFY(proxyKeys(proxy).contains(QString::fromLatin1(key)));

    // Expired rows stop counting; once every row expired, the timer stops.
    clock.now += 1h;
    model.tick();
    const int noTtl = 1; // billing:migrate
    int expired = 0;
    for (int r = 0; r < model.rowCount(); ++r)
        expired += model.record(r)->anomalies.contains(QLatin1String(anomaly::Expired)) ? 1 : 0;
    // payments:settle:us has a TTL on its two reachable holders: it expires too.
    QCOMPARE(expired, model.rowCount() - noTtl);
    QCOMPARE(cell(model, key, LockTableModel::Ttl), QStringLiteral("expired"));
}

void TestLockTableModel::refreshClearsExpired()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock, {lockscopeRecord("a:short", 1'000, clock.now)});
    clock.now += 2s;
    model.tick();
    QCOMPARE(model.anomalyCount(), 1);
    // The next snapshot still finds it (re-acquired with a fresh TTL): no longer expired.
    load(model, kRedlock, {lockscopeRecord("a:short", 5'000, clock.now)});
    QCOMPARE(model.anomalyCount(), 0);
    QCOMPARE(cell(model, "a:short", LockTableModel::Ttl), QStringLiteral("5.0 s"));
    QVERIFY(model.isTicking());
}

void TestLockTableModel::mergeKeepsSelectionWithoutReset()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Key);
    QItemSelectionModel selection(&proxy);
    load(model, kRedlock, redlockAt(clock.now));

    const QByteArray selectedKey = "jobs:lock:nightly-report";
    const QModelIndex source = model.indexFor(kRedlock, selectedKey);
    const QModelIndex selected = proxy.mapFromSource(source);
    selection.setCurrentIndex(selected, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    const int proxyRowBefore = selected.row();

    QSignalSpy reset(&model, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy proxyReset(&proxy, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

    clock.now += 3s;
    auto next = redlockAt(clock.now);
    // Remove two keys before the selected one in the sort and one after; add three before it.
    std::erase_if(next, [](const LockRecord &r) {
        return r.key == "billing:invoice:2024-113" || r.key == "jobs:lock:cleanup" ||
               r.key == "sessions:lock:u-1029";
    });
    for (const QByteArray key : {"aaa:one", "aaa:two", "jobs:lock:a-new"})
        next.push_back(lockscopeRecord(key, 10'000, clock.now));
    load(model, kRedlock, next);

    QCOMPARE(reset.size(), 0);
    QCOMPARE(proxyReset.size(), 0);
    QVERIFY(inserted.size() >= 1);
    QVERIFY(removed.size() >= 1);
    QVERIFY(selection.hasSelection());
    const QModelIndexList rows = selection.selectedRows(LockTableModel::Key);
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().data(LockTableModel::KeyRole).toByteArray(), selectedKey);
    QCOMPARE(selection.currentIndex().data(LockTableModel::KeyRole).toByteArray(), selectedKey);
    QCOMPARE(rows.first().row(), proxyRowBefore + 3 - 2);
    QVERIFY(!model.indexFor(kRedlock, "jobs:lock:cleanup").isValid());
    QVERIFY(model.indexFor(kRedlock, "aaa:two").isValid());
}

void TestLockTableModel::mergeSignalsOnlyChangedCells()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    // No TTL and a fixed acquired-at: only what changes signals.
    load(model, kRedlock,
         {lockscopeRecord("a:one", -1, clock.now), lockscopeRecord("a:two", -1, clock.now),
          lockscopeRecord("a:three", -1, clock.now)});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    load(model, kRedlock,
         {lockscopeRecord("a:one", -1, clock.now), lockscopeRecord("a:two", -1, clock.now),
          lockscopeRecord("a:three", -1, clock.now)});
    QCOMPARE(changed.size(), 0);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);

    // A new holder of a:two (other host: owner and token change) with a new fence.
    load(model, kRedlock,
         {lockscopeRecord("a:one", -1, clock.now),
          lockscopeRecord("a:two", -1, clock.now, QStringLiteral("web-9")),
          lockscopeRecord("a:three", -1, clock.now)});
    const int row = rowOf(model, "a:two");
    QSet<int> columns;
    for (const auto &signal : changed) {
        const auto topLeft = signal.at(0).value<QModelIndex>();
        const auto bottomRight = signal.at(1).value<QModelIndex>();
        QCOMPARE(topLeft.row(), row);
        QCOMPARE(bottomRight.row(), row);
        for (int c = topLeft.column(); c <= bottomRight.column(); ++c)
            columns.insert(c);
    }
    QCOMPARE(columns, (QSet<int>{LockTableModel::Owner, LockTableModel::Token}));

    // A key listed twice keeps one row (the first record).
    load(model, QStringLiteral("other"),
         {lockscopeRecord("d:dup", 1'000, clock.now, QStringLiteral("first")),
          lockscopeRecord("d:dup", 2'000, clock.now, QStringLiteral("second"))});
    QCOMPARE(model.lockCount(QStringLiteral("other")), 1);
    QVERIFY(cell(model, "d:dup", LockTableModel::Owner, QStringLiteral("other"))
                .startsWith(QStringLiteral("first")));
    model.removeGroup(QStringLiteral("other"));
    QVERIFY(cell(model, "a:two", LockTableModel::Owner).startsWith(QStringLiteral("web-9")));

    // A held count that drops changes Held (and, as quorum is lost, the anomalies: the whole row).
    changed.clear();
    LockRecord partial = lockscopeRecord("a:one", -1, clock.now);
    const QDateTime readAt = partial.readAt;
    partial =
        lockscope::inspect::aggregate("a:one", {partial.nodes[0], partial.nodes[1], missing(kNodes[2])});
    partial.readAt = readAt;
    partial.readAtSteady = clock.now;
    load(model, kRedlock,
         {partial, lockscopeRecord("a:two", -1, clock.now, QStringLiteral("web-9")),
          lockscopeRecord("a:three", -1, clock.now)});
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(LockTableModel::Held));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), int(LockTableModel::Held));
    QCOMPARE(cell(model, "a:one", LockTableModel::Held), QStringLiteral("2/3 ✓"));
}

void TestLockTableModel::kindColumnCountsHolders()
{
    using samplelocks::KindHolder;
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    const auto readers = [&](int n) {
        std::vector<KindHolder> holders;
        for (int i = 0; i < n; ++i)
            holders.push_back(
                {"reader" + QByteArray::number(i), QStringLiteral("web-%1").arg(i), 30'000 - i * 1000});
        LockRecord record = heldOn("catalog:rw", samplelocks::kindRaw(holders), {QStringLiteral("cache-1")});
        record.readAtSteady = clock.now;
        return record;
    };
    const auto pool = [&](int used) {
        std::vector<KindHolder> holders;
        for (int i = 0; i < used; ++i)
            holders.push_back({"permit" + QByteArray::number(i), QStringLiteral("gpu-%1").arg(i)});
        LockRecord record =
            heldOn("render:pool", samplelocks::kindRaw(holders, 5), {QStringLiteral("cache-1")});
        record.readAtSteady = clock.now;
        return record;
    };
    LockRecord mutex = lockscopeRecord("jobs:nightly", 20'000, clock.now);
    load(model, kSingle, {readers(3), pool(2), mutex});

    // One row per lock, whatever the number of holders; the Kind cell counts them.
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.headerData(LockTableModel::Kind, Qt::Horizontal).toString(), QStringLiteral("Kind"));
    QCOMPARE(cell(model, "catalog:rw", LockTableModel::Kind, kSingle), QStringLiteral("read ×3"));
    QVERIFY2(
        cell(model, "catalog:rw", LockTableModel::Owner, kSingle).startsWith(QStringLiteral("3 readers: ")),
        qPrintable(cell(model, "catalog:rw", LockTableModel::Owner, kSingle)));
    QCOMPARE(cell(model, "render:pool", LockTableModel::Kind, kSingle), QStringLiteral("semaphore 2/5"));
    QCOMPARE(cell(model, "jobs:nightly", LockTableModel::Kind, kSingle), QStringLiteral("mutex"));
    const QString tip = model.index(rowOf(model, "catalog:rw", kSingle), LockTableModel::Kind)
                            .data(Qt::ToolTipRole)
                            .toString();
    QVERIFY2(tip.contains(QStringLiteral("3 readers")) && tip.contains(QStringLiteral("Details")),
             qPrintable(tip));

    // A fourth reader: the row's Kind and Owner cells change, and say so (the TTL column
    // re-syncs on every row at a refresh).
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    load(model, kSingle, {readers(4), pool(2), mutex});
    QCOMPARE(cell(model, "catalog:rw", LockTableModel::Kind, kSingle), QStringLiteral("read ×4"));
    const int rw = rowOf(model, "catalog:rw", kSingle);
    QSet<int> columns;
    for (const auto &signal : changed) {
        const auto topLeft = signal.at(0).value<QModelIndex>();
        const auto bottomRight = signal.at(1).value<QModelIndex>();
        if (topLeft.row() > rw || bottomRight.row() < rw)
            continue;
        for (int c = topLeft.column(); c <= bottomRight.column(); ++c)
            columns.insert(c);
    }
    QVERIFY(columns.contains(LockTableModel::Kind));
    QVERIFY(columns.contains(LockTableModel::Owner));

    // Sorted by kind: the mutex, the read lock, the semaphore.
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Kind, Qt::AscendingOrder);
    QStringList kinds;
    for (int row = 0; row < proxy.rowCount(); ++row)
        kinds << proxy.index(row, LockTableModel::Kind).data().toString();
    QCOMPARE(kinds, (QStringList{QStringLiteral("mutex"), QStringLiteral("read ×4"),
                                 QStringLiteral("semaphore 2/5")}));
}

void TestLockTableModel::removeGroup()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock, redlockAt(clock.now));
    load(model, kSingle, singleAt(clock.now));
    const int singleRows = model.lockCount(kSingle);
    const int anomalies = model.anomalyCount();
    QSignalSpy reset(&model, &QAbstractItemModel::modelAboutToBeReset);
    model.removeGroup(kRedlock);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(model.rowCount(), singleRows);
    QCOMPARE(model.anomalyCount(), 1); // lock:migrations
    QVERIFY(anomalies > 1);
    QCOMPARE(model.groups(), QStringList{kSingle});
    QVERIFY(model.indexFor(kSingle, "lock:migrations").isValid());
    model.removeGroup(QStringLiteral("unknown"));
    QCOMPARE(model.rowCount(), singleRows);
}

void TestLockTableModel::proxyFilters()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    load(model, kRedlock, redlockAt(clock.now));
    load(model, kSingle, singleAt(clock.now));
    const int all = model.rowCount();
    QCOMPARE(proxy.rowCount(), all);

    // Text: substring of key, owner or token, any case.
    proxy.setFilterText(QStringLiteral("REINDEX"));
    QCOMPARE(proxyKeys(proxy), QStringList{QStringLiteral("jobs:lock:reindex")});
    proxy.setFilterText(QStringLiteral("batch-host"));
    QCOMPARE(proxyKeys(proxy), QStringList{QStringLiteral("job-lock:default:sendNewsletter")});
    proxy.setFilterText(QStringLiteral("ry1jafq4"));
    QCOMPARE(proxyKeys(proxy), QStringList{QStringLiteral("payments:settle:eu")});
    QVERIFY(!proxy.isGlob());

    // Glob on the key.
    proxy.setFilterText(QStringLiteral("jobs:lock:shard-?"));
    QVERIFY(proxy.isGlob());
    QCOMPARE(proxy.rowCount(), 8);
    proxy.setFilterText(QStringLiteral("*:settle:*"));
    QCOMPARE(proxyKeys(proxy),
             (QStringList{QStringLiteral("payments:settle:eu"), QStringLiteral("payments:settle:us")}));
    proxy.setFilterText(QStringLiteral("sessions:lock:u-[12]0*"));
    QCOMPARE(proxyKeys(proxy), QStringList{QStringLiteral("sessions:lock:u-1029")});
    proxy.setFilterText(QStringLiteral("JOBS:*")); // Redis globs are case-sensitive
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setFilterText(QString());
    QCOMPARE(proxy.rowCount(), all);

    // Schema.
    proxy.setSchemaFilter(QStringLiteral("redis-py"));
    QCOMPARE(proxyKeys(proxy), (QStringList{QStringLiteral("orders:lock:checkout-5521"),
                                            QStringLiteral("orders:lock:refund-118")}));
    proxy.setSchemaFilter(QStringLiteral("lockscope"));
    QVERIFY(proxy.rowCount() >= 14);
    // Combined with text.
    proxy.setFilterText(QStringLiteral("export"));
    QCOMPARE(proxyKeys(proxy), QStringList{QStringLiteral("jobs:lock:export")});
    proxy.setFilterText(QString());
    proxy.setSchemaFilter(QString());

    // Anomalies only.
    proxy.setAnomaliesOnly(true);
    QCOMPARE(proxy.rowCount(), model.anomalyCount());
    QCOMPARE(proxyKeys(proxy),
             (QStringList{QStringLiteral("billing:migrate"), QStringLiteral("jobs:lock:cleanup"),
                          QStringLiteral("jobs:lock:export"), QStringLiteral("legacy:mutex:report"),
                          QStringLiteral("lock:migrations"), QStringLiteral("payments:settle:us")}));
    // An anomaly that appears on refresh shows up without re-setting the filter.
    clock.now += 1s;
    auto next = redlockAt(clock.now);
    for (auto &record : next) {
        if (record.key == "mailer:lock:bounces")
            record.anomalies.append(QLatin1String(anomaly::NodeUnreachable));
    }
    load(model, kRedlock, next);
    QVERIFY(proxyKeys(proxy).contains(QStringLiteral("mailer:lock:bounces")));
    proxy.setAnomaliesOnly(false);

    // Group.
    proxy.setGroupFilter(kSingle);
    QCOMPARE(proxy.rowCount(), model.lockCount(kSingle));
    proxy.setGroupFilter(kRedlock);
    QCOMPARE(proxy.rowCount(), model.lockCount(kRedlock));
    proxy.setGroupFilter(QString());

    // Namespace: a prefix of whole segments.
    proxy.setNamespaceFilter(QStringLiteral("jobs:lock"));
    QCOMPARE(proxy.rowCount(), 12);
    proxy.setNamespaceFilter(QStringLiteral("jobs"));
    QCOMPARE(proxy.rowCount(), 12);
    proxy.setNamespaceFilter(QStringLiteral("job")); // not "job-lock:..." nor "jobs:..."
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setNamespaceFilter(QStringLiteral("orders"));
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setNamespaceFilter(QString());
    QCOMPARE(proxy.rowCount(), all);
}

void TestLockTableModel::proxySortsByRawValues()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    load(model, kRedlock,
         {lockscopeRecord("t:long", 120'000, clock.now), lockscopeRecord("t:none", -1, clock.now),
          lockscopeRecord("t:short", 9'000, clock.now), lockscopeRecord("t:mid", 30'000, clock.now)});
    proxy.sort(LockTableModel::Ttl, Qt::AscendingOrder);
    QStringList order;
    for (int row = 0; row < proxy.rowCount(); ++row)
        order << proxy.index(row, LockTableModel::Key).data().toString();
    // "9.0 s" < "30 s" < "2m 00s" numerically, not as text; no TTL last.
    QCOMPARE(order, (QStringList{QStringLiteral("t:short"), QStringLiteral("t:mid"), QStringLiteral("t:long"),
                                 QStringLiteral("t:none")}));
}

void TestLockTableModel::namespaceTree()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    load(model, kRedlock, redlockAt(clock.now));
    load(model, kSingle, singleAt(clock.now));
    NamespaceModel namespaces;
    QAbstractItemModelTester tester(&namespaces, QAbstractItemModelTester::FailureReportingMode::Fatal);
    namespaces.setSourceModel(&model);

    QCOMPARE(namespaces.rowCount(), 1);
    const QModelIndex all = namespaces.allIndex();
    QCOMPARE(all.data().toString(), QStringLiteral("All locks"));
    QCOMPARE(all.data(NamespaceModel::CountRole).toInt(), model.rowCount());
    QCOMPARE(namespaces.path(all), QString());

    QStringList topLevel;
    for (int row = 0; row < namespaces.rowCount(all); ++row)
        topLevel << namespaces.index(row, 0, all).data().toString();
    QCOMPARE(topLevel,
             (QStringList{QStringLiteral("billing"), QStringLiteral("catalog"), QStringLiteral("inventory"),
                          QStringLiteral("job-lock"), QStringLiteral("jobs"), QStringLiteral("legacy"),
                          QStringLiteral("lock"), QStringLiteral("mailer"), QStringLiteral("orders"),
                          QStringLiteral("payments"), QStringLiteral("sessions")}));

    const QModelIndex jobs = namespaces.indexForPath(QStringLiteral("jobs"));
    QCOMPARE(jobs.data(NamespaceModel::CountRole).toInt(), 12);
    QCOMPARE(namespaces.rowCount(jobs), 1);
    const QModelIndex jobsLock = namespaces.index(0, 0, jobs);
    QCOMPARE(jobsLock.data().toString(), QStringLiteral("lock"));
    QCOMPARE(jobsLock.data(NamespaceModel::PathRole).toString(), QStringLiteral("jobs:lock"));
    QCOMPARE(namespaces.index(0, NamespaceModel::CountColumn, jobs).data().toString(), QStringLiteral("12"));
    QCOMPARE(
        namespaces.indexForPath(QStringLiteral("job-lock:default")).data(NamespaceModel::CountRole).toInt(),
        1);
    QCOMPARE(namespaces.indexForPath(QStringLiteral("billing")).data(NamespaceModel::CountRole).toInt(), 2);
    QVERIFY(!namespaces.indexForPath(QStringLiteral("nope")).isValid());

    // Selecting a namespace filters the proxy to exactly its count.
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    for (const QString &path :
         {QStringLiteral("jobs:lock"), QStringLiteral("orders"), QStringLiteral("job-lock")}) {
        proxy.setNamespaceFilter(namespaces.path(namespaces.indexForPath(path)));
        QCOMPARE(proxy.rowCount(), namespaces.indexForPath(path).data(NamespaceModel::CountRole).toInt());
    }

    // Changes are picked up after the coalescing delay.
    namespaces.setRebuildDelay(5ms);
    model.removeGroup(kSingle);
    QTRY_VERIFY(!namespaces.indexForPath(QStringLiteral("inventory")).isValid());
    QCOMPARE(namespaces.allIndex().data(NamespaceModel::CountRole).toInt(), model.rowCount());
}

void TestLockTableModel::namespaceMergeKeepsIndexes()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    NamespaceModel namespaces;
    QAbstractItemModelTester tester(&namespaces, QAbstractItemModelTester::FailureReportingMode::Fatal);
    namespaces.setSourceModel(&model);
    load(model, kRedlock, redlockAt(clock.now));
    namespaces.rebuild();
    const QPersistentModelIndex jobsLock = namespaces.indexForPath(QStringLiteral("jobs:lock"));
    QVERIFY(jobsLock.isValid());
    QSignalSpy reset(&namespaces, &QAbstractItemModel::modelAboutToBeReset);

    auto next = redlockAt(clock.now);
    std::erase_if(next, [](const LockRecord &r) {
        return r.key.startsWith("billing:") || r.key == "jobs:lock:export";
    });
    next.push_back(lockscopeRecord("alpha:beta:gamma", 1'000, clock.now));
    next.push_back(lockscopeRecord("zeta:x", 1'000, clock.now));
    load(model, kRedlock, next);
    namespaces.rebuild();
    QCOMPARE(reset.size(), 0);
    QVERIFY(jobsLock.isValid());
    QCOMPARE(jobsLock.data(NamespaceModel::PathRole).toString(), QStringLiteral("jobs:lock"));
    QCOMPARE(jobsLock.data(NamespaceModel::CountRole).toInt(), 11);
    QVERIFY(!namespaces.indexForPath(QStringLiteral("billing")).isValid());
    QCOMPARE(namespaces.indexForPath(QStringLiteral("alpha:beta")).data(NamespaceModel::CountRole).toInt(),
             1);
    QVERIFY(namespaces.indexForPath(QStringLiteral("zeta")).isValid());
}

void TestLockTableModel::deltasApplyInSlicesAndInOrder()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    model.setChunkRows(3);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Key, Qt::DescendingOrder);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);

    std::vector<LockRecord> first;
    for (int i = 0; i < 10; ++i)
        first.push_back(lockscopeRecord("jobs:k" + QByteArray::number(i), 5'000, clock.now));
    model.applyDelta(kSingle, first, {}, /*replaceAll=*/true);
    // The first slice at once, the rest on later event-loop turns.
    QCOMPARE(model.rowCount(), 3);
    QVERIFY(model.isApplying());
    // A later delta waits for the earlier one: it changes k1 and removes k9.
    std::vector<LockRecord> change{
        lockscopeRecord("jobs:k1", 60'000, clock.now, QStringLiteral("other-host"))};
    model.applyDelta(kSingle, change, {"jobs:k9"});
    QTRY_VERIFY(!model.isApplying());
    QCOMPARE(model.rowCount(), 9);
    QVERIFY(!model.indexFor(kSingle, "jobs:k9").isValid());
    QVERIFY(model.record(model.indexFor(kSingle, "jobs:k1"))->owner.contains(QStringLiteral("other-host")));
    // The proxy placed every row by its sort, slice by slice.
    QCOMPARE(proxy.rowCount(), 9);
    QCOMPARE(proxy.index(0, LockTableModel::Key).data().toString(), QStringLiteral("jobs:k8"));
    QCOMPARE(proxy.index(8, LockTableModel::Key).data().toString(), QStringLiteral("jobs:k0"));

    // A group's first snapshot replaces what an earlier monitor showed: k0..k4 stay, the rest go.
    std::vector<LockRecord> again(first.begin(), first.begin() + 5);
    model.applyDelta(kSingle, again, {}, /*replaceAll=*/true);
    QTRY_VERIFY(!model.isApplying());
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(proxy.rowCount(), 5);
    // finishApplying() applies what is queued, in order: the snapshot after the delta.
    model.applyDelta(kSingle, first, {});
    load(model, kSingle, {lockscopeRecord("jobs:only", 5'000, clock.now)});
    QVERIFY(!model.isApplying());
    QCOMPARE(model.rowCount(), 1);
}

// Not a timing assertion: prints what a 50,000-row refresh and a countdown tick cost here.
void TestLockTableModel::largeMerge()
{
    constexpr int rows = 50'000;
    FakeClock clock;
    auto make = [&](int from, int to, qint64 fenceBase) {
        std::vector<LockRecord> records;
        records.reserve(std::size_t(to - from));
        const QByteArray token = samplelocks::token("bench");
        for (int i = from; i < to; ++i) {
            const QByteArray key = "svc-" + QByteArray::number(i % 40) + ":lock:job-" + QByteArray::number(i);
            const QByteArray value = "ls1 tok=" + token + QByteArray::number(i) +
                                     " fence=" + QByteArray::number(fenceBase + i) + " host=web-" +
                                     QByteArray::number(i % 9);
            LockRecord record = heldOn(key, stringRaw(value, 5'000 + i % 60'000), kNodes);
            record.readAtSteady = clock.now;
            records.push_back(std::move(record));
        }
        return records;
    };
    auto first = make(0, rows, 0);
    // The next refresh: 500 gone, 500 new, 1% with a new holder, every TTL re-synced.
    auto second = make(500, rows + 500, 0);
    for (std::size_t i = 0; i < second.size(); i += 100)
        second[i] = make(int(i) + 500, int(i) + 501, 7)[0];

    LockTableModel model;
    model.setClock(clock.fn());
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(LockTableModel::Ttl);
    NamespaceModel namespaces;
    namespaces.setSourceModel(&model);

    QElapsedTimer timer;
    timer.start();
    load(model, kRedlock, std::move(first));
    const qint64 initial = timer.restart();
    namespaces.rebuild();
    const qint64 namespaceBuild = timer.restart();
    clock.now += 1s;
    load(model, kRedlock, std::move(second));
    const qint64 merge = timer.restart();
    namespaces.rebuild();
    const qint64 namespaceMerge = timer.restart();
    for (int i = 0; i < 100; ++i) {
        clock.now += 1ms; // nothing expires: the plain countdown
        model.tick();
    }
    const qint64 ticks = timer.restart();
    proxy.setFilterText(QStringLiteral("*:job-4*"));
    const qint64 filter = timer.restart();
    QCOMPARE(model.rowCount(), rows);
    QVERIFY(proxy.rowCount() > 0);
    qInfo("50,000 rows, proxy sorted by TTL: first load %lld ms, namespace build %lld ms, "
          "merge refresh %lld ms, namespace merge %lld ms, 100 countdown ticks %lld ms, glob filter %lld ms",
          initial, namespaceBuild, merge, namespaceMerge, ticks, filter);
}

// The age is the holder's age now, not frozen at its first read; sorting by it stays put.
void TestLockTableModel::ageCountsOn()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockRecord record = lockscopeRecord("jobs:age", 600'000, clock.now);
    const QDateTime acquired = lockscope::inspect::majorityEntry(record)->decoded->acquiredAt;
    QVERIFY(acquired.isValid());
    const qint64 atRead = acquired.msecsTo(record.readAt);
    load(model, kRedlock, {record});
    const int row = rowOf(model, "jobs:age");
    QCOMPARE(model.ageMs(row), std::max<qint64>(0, atRead));
    const qint64 sortBefore =
        model.index(row, LockTableModel::Age).data(LockTableModel::SortRole).toLongLong();
    clock.now += 95s;
    model.tick();
    QCOMPARE(model.ageMs(row), std::max<qint64>(0, atRead) + 95'000);
    QCOMPARE(cell(model, "jobs:age", LockTableModel::Age),
             LockTableModel::formatAge(std::max<qint64>(0, atRead) + 95'000));
    QCOMPARE(model.index(row, LockTableModel::Age).data(LockTableModel::SortRole).toLongLong(), sortBefore);
    QVERIFY(model.isTicking());
}

// Until when? The TTL's tooltip gives the expiry as a time of day and when it was read.
void TestLockTableModel::ttlTooltipSaysUntilWhen()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    LockRecord record = lockscopeRecord("jobs:until", 300'000, clock.now);
    record.readAt = QDateTime::currentDateTimeUtc(); // today: the expiry is a time of day
    load(model, kRedlock, {record});
    const QModelIndex ttl = model.indexFor(kRedlock, "jobs:until", LockTableModel::Ttl);
    const QString expiry =
        QLocale().toString(record.readAt.addMSecs(300'000).toLocalTime().time(), QStringLiteral("HH:mm:ss"));
    const QString read = QLocale().toString(record.readAt.toLocalTime().time(), QStringLiteral("HH:mm:ss"));
    const QString tip = ttl.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("Expires at ") + expiry), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("read at ") + read), qPrintable(tip));
    // A later scan that found it unchanged says so, with its own time.
    LockTableModel::GroupRead later{record.readAt.addSecs(90), {}, {}};
    model.applyDelta(kRedlock, {}, {}, false, later);
    QCOMPARE(model.lastReadAt(rowOf(model, "jobs:until")), record.readAt.addSecs(90));
    QVERIFY(ttl.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Unchanged at the last refresh")));
}

// "Can't tell" is not "no lock": a row the scan could not confirm stays, marked stale, and is
// confirmed again (or removed) by the next complete scan.
void TestLockTableModel::staleRowsAreKeptAndMarked()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    const LockRecord record = lockscopeRecord("jobs:stale", 480'000, clock.now);
    model.applyDelta(kRedlock, {record}, {}, true);
    QCOMPARE(model.anomalyCount(), 0);

    clock.now += 20s;
    LockTableModel::GroupRead down{
        QDateTime::currentDateTimeUtc(), {"jobs:stale"}, QStringLiteral("node0: Connection timed out")};
    model.applyDelta(kRedlock, {}, {}, false, down);
    const int row = rowOf(model, "jobs:stale");
    QVERIFY(row >= 0);
    QVERIFY(model.isStale(row));
    QCOMPARE(model.staleReason(row), QStringLiteral("node0: Connection timed out"));
    QCOMPARE(model.lastReadAt(row), record.readAt); // not the failed scan's time
    QCOMPARE(model.anomalyCount(), 1);
    QVERIFY(model.record(row)->anomalies.contains(QLatin1String(LockTableModel::StaleAnomaly)));
    QVERIFY(model.index(row, LockTableModel::Key).data(Qt::FontRole).value<QFont>().italic());
    QCOMPARE(cell(model, "jobs:stale", LockTableModel::Ttl), QStringLiteral("7m 40s?"));
    const QString tip = model.index(row, LockTableModel::Key).data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("node0: Connection timed out")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("Not confirmed since")), qPrintable(tip));

    // Back: the next scan sends it again, and it is an ordinary row.
    clock.now += 5s;
    model.applyDelta(kRedlock, {lockscopeRecord("jobs:stale", 455'000, clock.now)}, {}, false,
                     {QDateTime::currentDateTimeUtc(), {}, {}});
    QVERIFY(!model.isStale(rowOf(model, "jobs:stale")));
    QCOMPARE(model.anomalyCount(), 0);
    QVERIFY(!model.index(rowOf(model, "jobs:stale"), LockTableModel::Key)
                 .data(Qt::FontRole)
                 .value<QFont>()
                 .italic());
    // Gone on a complete scan: removed.
    model.applyDelta(kRedlock, {}, {"jobs:stale"}, false, {QDateTime::currentDateTimeUtc(), {}, {}});
    QCOMPARE(rowOf(model, "jobs:stale"), -1);
}

// Keys are bytes: a key that is not UTF-8 is shown escaped (as redis-cli does), never with
// U+FFFD, so two different keys never look the same.
void TestLockTableModel::binaryKeysAreEscaped()
{
    FakeClock clock;
    LockTableModel model;
    model.setClock(clock.fn());
    const QByteArray a("bin:\xff:lock");
    const QByteArray b("bin:\xfe:lock");
    load(model, kRedlock, {lockscopeRecord(a, 10'000, clock.now), lockscopeRecord(b, 10'000, clock.now)});
    QCOMPARE(cell(model, a, LockTableModel::Key), QStringLiteral("bin:\\xff:lock"));
    QCOMPARE(cell(model, b, LockTableModel::Key), QStringLiteral("bin:\\xfe:lock"));
    QCOMPARE(model.index(rowOf(model, a), 0).data(LockTableModel::KeyRole).toByteArray(), a);
}

QTEST_MAIN(TestLockTableModel)
#include "tst_locktablemodel.moc"
