// lockctl list / show and bench snapshot, end to end: the built CLI against a real 3-node group.

#include "lock/lockvalue.h"
#include "lockctlrunner.h"
#include "lockfixture.h"
#include "redis/localserver.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>
#include <thread>
#include <utility>

using namespace lockscope;
using lockscope::test::ServerSet;

namespace {

using lockscope::test::describe;
using lockscope::test::RunResult;

RunResult runLockctl(const QStringList &args, const QString &nodesEnv = {})
{
    if (nodesEnv.isEmpty())
        return lockscope::test::runLockctl(args);
    return lockscope::test::runLockctl(args, {{QStringLiteral("LOCKSCOPE_NODES"), nodesEnv}});
}

QByteArray lockValue(const QByteArray &token, qint64 fence)
{
    lock::LockValue value;
    value.token = token;
    value.fence = fence;
    value.host = QStringLiteral("web-1");
    value.pid = 4711;
    value.thread = QStringLiteral("worker-3");
    value.acquiredAt =
        QDateTime::fromMSecsSinceEpoch(1'795'000'000'123, Qt::UTC); // fixed: equal values on every node
    return value.encode();
}

QString urls(ServerSet &set)
{
    QStringList list;
    for (int i = 0; i < set.size(); ++i)
        list << QStringLiteral("redis://127.0.0.1:%1?name=%2")
                    .arg(set.server(i).port())
                    .arg(ServerSet::nodeName(i));
    return list.join(QLatin1Char(','));
}

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"'))
                field += text[++i];
            else if (c == QLatin1Char('"'))
                quoted = false;
            else
                field += c;
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            record << std::exchange(field, {});
        } else if (c == QLatin1Char('\n')) {
            record << std::exchange(field, {});
            records << std::exchange(record, {});
        } else {
            field += c;
        }
    }
    return records;
}

QJsonObject recordFor(const QJsonArray &records, const QString &key)
{
    for (const QJsonValue &value : records) {
        if (value.toObject().value(QStringLiteral("key")).toString() == key)
            return value.toObject();
    }
    return {};
}

} // namespace

class TestLockctlList : public QObject
{
    Q_OBJECT

private slots:
    void listJson()
    {
        LS_START_SERVERS(set, 3);
        const QByteArray t3 = lock::randomToken();
        const QByteArray t1 = lock::randomToken();
        const QByteArray v3 = lockValue(t3, 9); // once: the value carries the time it was made
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, "lock:three", v3, 60000));
        QVERIFY(set->set(2, "lock:one", lockValue(t1, 4)));
        QVERIFY(set->set(0, "cache:x", "payload"));
        LS_VERIFY_OK(set->admin(1).command(
            {QByteArrayView("HSET"), QByteArrayView("cache:h"), QByteArrayView("a"), QByteArrayView("1")}));

        const RunResult result = runLockctl(
            {QStringLiteral("list"), QStringLiteral("--nodes"), urls(*set), QStringLiteral("--json")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(result.out.toUtf8(), &error);
        QVERIFY2(document.isArray(), describe(result).constData());
        const QJsonArray records = document.array();
        QCOMPARE(records.size(), 2); // non-lock keys are not listed
        QCOMPARE(records[0].toObject().value(QStringLiteral("key")).toString(), QStringLiteral("lock:one"));

        const QJsonObject three = recordFor(records, QStringLiteral("lock:three"));
        QCOMPARE(three.value(QStringLiteral("schema")).toString(), QStringLiteral("lockscope"));
        QCOMPARE(three.value(QStringLiteral("token")).toString(), QString::fromLatin1(t3));
        QCOMPARE(three.value(QStringLiteral("fence")).toInteger(), 9);
        QCOMPARE(three.value(QStringLiteral("held")).toInt(), 3);
        QCOMPARE(three.value(QStringLiteral("of")).toInt(), 3);
        QCOMPARE(three.value(QStringLiteral("quorum")).toBool(), true);
        QVERIFY(three.value(QStringLiteral("ttl_ms")).toInteger() > 0);
        QVERIFY(three.value(QStringLiteral("owner")).toString().contains(QStringLiteral("web-1")));
        QCOMPARE(three.value(QStringLiteral("anomalies")).toArray().size(), 0);
        const QJsonArray nodes = three.value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes.size(), 3);
        for (const QJsonValue &node : nodes) {
            const QJsonObject n = node.toObject();
            QVERIFY(n.value(QStringLiteral("present")).toBool());
            QVERIFY(n.value(QStringLiteral("pttl_ms")).toInteger() > 0);
            QCOMPARE(n.value(QStringLiteral("value")).toString().toUtf8(), set->get(0, "lock:three"));
            QVERIFY(n.value(QStringLiteral("error")).isNull());
        }
        QCOMPARE(nodes[1].toObject().value(QStringLiteral("node")).toString(), QStringLiteral("node1"));

        const QJsonObject one = recordFor(records, QStringLiteral("lock:one"));
        QCOMPARE(one.value(QStringLiteral("held")).toInt(), 1);
        QCOMPARE(one.value(QStringLiteral("quorum")).toBool(), false);
        QCOMPARE(one.value(QStringLiteral("ttl_ms")).toInteger(), -1);
        const QJsonArray anomalies = one.value(QStringLiteral("anomalies")).toArray();
        QVERIFY(anomalies.contains(QStringLiteral("no-ttl")));
        QVERIFY(anomalies.contains(QStringLiteral("quorum-lost")));
        QCOMPARE(one.value(QStringLiteral("nodes"))
                     .toArray()[0]
                     .toObject()
                     .value(QStringLiteral("present"))
                     .toBool(),
                 false);

        // --match lists raw keys; a hash's value is an object of its fields.
        const RunResult raw = runLockctl({QStringLiteral("list"), QStringLiteral("--match"),
                                          QStringLiteral("cache:*"), QStringLiteral("--json")},
                                         urls(*set));
        QVERIFY2(raw.exitCode == 0, describe(raw).constData());
        const QJsonArray rawRecords = QJsonDocument::fromJson(raw.out.toUtf8()).array();
        QCOMPARE(rawRecords.size(), 2);
        const QJsonObject hash = recordFor(rawRecords, QStringLiteral("cache:h"));
        QVERIFY(hash.value(QStringLiteral("anomalies")).toArray().contains(QStringLiteral("undecoded")));
        QCOMPARE(hash.value(QStringLiteral("nodes"))
                     .toArray()[1]
                     .toObject()
                     .value(QStringLiteral("value"))
                     .toObject()
                     .value(QStringLiteral("a"))
                     .toString(),
                 QStringLiteral("1"));
    }

    void tableCsvAndShow()
    {
        LS_START_SERVERS(set, 3);
        const QByteArray ta = lock::randomToken();
        const QByteArray tb = lock::randomToken();
        QVERIFY(set->set(0, "lock:d", lockValue(ta, 1), 60000));
        QVERIFY(set->set(1, "lock:d", lockValue(tb, 2), 60000));
        QVERIFY(set->set(2, "lock:d", lockValue(tb, 2), 60000));

        const RunResult table = runLockctl({QStringLiteral("list")}, urls(*set));
        QVERIFY2(table.exitCode == 0, describe(table).constData());
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        for (const char *header : {"KEY", "SCHEMA", "OWNER", "TTL", "HELD", "FENCE", "TOKEN", "ANOMALIES"})
            QVERIFY2(lines[0].contains(QLatin1String(header)), qPrintable(lines[0]));
        QVERIFY(lines[1].contains(QStringLiteral("2/3")));
        QVERIFY(lines[1].contains(QStringLiteral("tokens-differ")));

        const RunResult csv = runLockctl({QStringLiteral("list"), QStringLiteral("--csv")}, urls(*set));
        QVERIFY2(csv.exitCode == 0, describe(csv).constData());
        QVERIFY(csv.out.startsWith(QStringLiteral("KEY,SCHEMA,OWNER,TTL,HELD,FENCE,TOKEN,ANOMALIES\n")));
        QVERIFY(csv.out.contains(QString::fromLatin1(tb)));

        const RunResult show = runLockctl({QStringLiteral("show"), QStringLiteral("lock:d")}, urls(*set));
        QVERIFY2(show.exitCode == 0, describe(show).constData());
        QVERIFY(show.out.contains(QString::fromLatin1(ta)));
        QVERIFY(show.out.contains(QString::fromLatin1(tb)));
        QVERIFY(show.out.contains(QStringLiteral("2/3")));
        QVERIFY(show.out.contains(QStringLiteral("node2")));

        const RunResult showJson = runLockctl(
            {QStringLiteral("show"), QStringLiteral("lock:d"), QStringLiteral("--json")}, urls(*set));
        QVERIFY2(showJson.exitCode == 0, describe(showJson).constData());
        const QJsonObject record = QJsonDocument::fromJson(showJson.out.toUtf8()).object();
        QCOMPARE(record.value(QStringLiteral("held")).toInt(), 2);
        QCOMPARE(record.value(QStringLiteral("token")).toString(), QString::fromLatin1(tb));
        QCOMPARE(record.value(QStringLiteral("nodes"))
                     .toArray()[0]
                     .toObject()
                     .value(QStringLiteral("token"))
                     .toString(),
                 QString::fromLatin1(ta));

        const RunResult missing =
            runLockctl({QStringLiteral("show"), QStringLiteral("lock:none")}, urls(*set));
        QCOMPARE(missing.exitCode, 4);
    }

    // Keys and values are written by anyone with access to the server: printed raw, CR/LF forge
    // rows and ESC sequences drive the terminal; in a CSV a leading '=' becomes a formula.
    void hostileKeysAreEscaped()
    {
        LS_START_SERVERS(set, 3);
        const QByteArray key("lock:esc:\x1b[31mRED\x1b[0m\r\nfake,line \"q\"\x1b[2J");
        const QString formula = QStringLiteral("=cmd|' /C calc'!A0");
        lock::LockValue value;
        // A fixed token: a random one starts with '-' one time in 64, and the CSV rightly
        // prefixes such a cell with ' (formula injection), which this comparison does not expect.
        value.token = "tok_Hostile0123456789a";
        value.fence = 3;
        value.host = formula;
        value.pid = 1;
        value.label = QStringLiteral("lbl\x1b]0;title\x07");
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, key, value.encode(), 60000));
        QVERIFY(set->set(0, "lock:raw", "=cmd|' /C calc'!A0\r\nforged\x1b[2J", 60000));

        const auto noRawControls = [](const QString &text) {
            return !text.contains(QLatin1Char('\x1b')) && !text.contains(QLatin1Char('\r')) &&
                   !text.contains(QLatin1Char('\x07'));
        };

        const RunResult table = runLockctl(
            {QStringLiteral("list"), QStringLiteral("--match"), QStringLiteral("lock:*")}, urls(*set));
        QVERIFY2(table.exitCode == 0, describe(table).constData());
        QVERIFY2(noRawControls(table.out), describe(table).constData());
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3); // header + one row per key: no forged "fake line" row
        QVERIFY2(
            table.out.contains(QStringLiteral("lock:esc:\\x1b[31mRED\\x1b[0m\\r\\nfake,line \"q\"\\x1b[2J")),
            describe(table).constData());
        QVERIFY(!lines[1].startsWith(QStringLiteral("fake")) && !lines[2].startsWith(QStringLiteral("fake")));

        const RunResult csv = runLockctl({QStringLiteral("list"), QStringLiteral("--match"),
                                          QStringLiteral("lock:*"), QStringLiteral("--csv")},
                                         urls(*set));
        QVERIFY2(csv.exitCode == 0, describe(csv).constData());
        QVERIFY2(noRawControls(csv.out), describe(csv).constData());
        const QList<QStringList> records = parseCsv(csv.out);
        QCOMPARE(records.size(), 3);
        for (const QStringList &record : records)
            QCOMPARE(record.size(), 8);
        QStringList esc;
        for (const QStringList &record : records)
            if (record[0].startsWith(QStringLiteral("lock:esc:")))
                esc = record;
        QVERIFY2(!esc.isEmpty(), qPrintable(csv.out));
        QCOMPARE(esc[0], QStringLiteral("lock:esc:\\x1b[31mRED\\x1b[0m\\r\\nfake,line \"q\"\\x1b[2J"));
        QVERIFY2(esc[2].startsWith(QStringLiteral("'=cmd|")), qPrintable(esc[2])); // OWNER
        QCOMPARE(esc[6], QString::fromLatin1(value.token));

        const RunResult show = runLockctl({QStringLiteral("show"), QString::fromUtf8(key)}, urls(*set));
        QVERIFY2(show.exitCode == 0, describe(show).constData());
        QVERIFY2(noRawControls(show.out), describe(show).constData());
        QVERIFY(show.out.contains(QStringLiteral("\\x1b[2J")));
        QVERIFY(!show.out.contains(QStringLiteral("\nfake")));

        const RunResult showRaw =
            runLockctl({QStringLiteral("show"), QStringLiteral("lock:raw")}, urls(*set));
        QVERIFY2(noRawControls(showRaw.out), describe(showRaw).constData());
        QVERIFY2(showRaw.out.contains(QStringLiteral("=cmd|' /C calc'!A0\\r\\nforged\\x1b[2J")),
                 describe(showRaw).constData());

        const RunResult ttl = runLockctl(
            {QStringLiteral("ttl"), QString::fromUtf8(key), QStringLiteral("--nodes"), urls(*set)});
        QVERIFY2(ttl.exitCode == 0, describe(ttl).constData());
        QVERIFY2(noRawControls(ttl.out), describe(ttl).constData());
        QVERIFY2(ttl.out.contains(QStringLiteral("lbl\\x1b]0;title\\x07")), describe(ttl).constData());
        QCOMPARE(ttl.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 4); // header + 3 nodes

        // An error that quotes the key: stderr carries no raw control characters either.
        const RunResult release =
            runLockctl({QStringLiteral("release"), QString::fromUtf8(key), QStringLiteral("--token"),
                        QStringLiteral("not-the-token"), QStringLiteral("--nodes"), urls(*set)});
        QVERIFY2(release.exitCode != 0, describe(release).constData());
        QVERIFY2(noRawControls(release.err), describe(release).constData());
        QCOMPARE(release.errLines().size(), 1);
    }

    // Issue 11: a cache entry shaped like a random token was listed as a lock with nothing to say
    // it was only a guess. A guess is marked in JSON, in the table and in show.
    void guessedFormatsShowTheirConfidence()
    {
        LS_START_SERVERS(set, 1);
        const QByteArray md5 = "06b124eacac543bf03cf321ed661380b"; // md5("avatar:42")
        QVERIFY(set->set(0, "etag:avatar:42", md5, 3'600'000));
        QVERIFY(set->set(0, "locks:account:1", "e3b0c44298fc1c149afbf4c8996fb924", 60000)); // node-redlock
        QVERIFY(set->set(0, "lock:real", lockValue(lock::randomToken(), 5), 60000));
        QVERIFY(set->set(0, "lock:with spaces", "hello world", 60000));

        const RunResult result = runLockctl({QStringLiteral("list"), QStringLiteral("--json")}, urls(*set));
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        const QJsonArray records = QJsonDocument::fromJson(result.out.toUtf8()).array();
        QCOMPARE(records.size(), 4);

        const QJsonObject etag = recordFor(records, QStringLiteral("etag:avatar:42"));
        QCOMPARE(etag.value(QStringLiteral("schema")).toString(), QStringLiteral("node-redlock"));
        QCOMPARE(etag.value(QStringLiteral("confidence")).toString(), QStringLiteral("guess"));
        QVERIFY2(etag.value(QStringLiteral("confidence_reason"))
                     .toString()
                     .contains(QLatin1String("does not name a lock")),
                 describe(result).constData());
        QCOMPARE(etag.value(QStringLiteral("nodes"))
                     .toArray()[0]
                     .toObject()
                     .value(QStringLiteral("confidence"))
                     .toString(),
                 QStringLiteral("guess"));
        QCOMPARE(recordFor(records, QStringLiteral("locks:account:1")).value(QStringLiteral("confidence")),
                 QJsonValue(QStringLiteral("likely")));
        QCOMPARE(recordFor(records, QStringLiteral("lock:real")).value(QStringLiteral("confidence")),
                 QJsonValue(QStringLiteral("certain")));
        // "hello world" under "lock:" is no python-redis-lock id: listed raw (python-redis-lock's
        // own key pattern), with no schema and no confidence.
        const QJsonObject spaces = recordFor(records, QStringLiteral("lock:with spaces"));
        QVERIFY(spaces.value(QStringLiteral("schema")).isNull());
        QVERIFY(spaces.value(QStringLiteral("confidence")).isNull());
        QVERIFY(spaces.value(QStringLiteral("owner")).isNull());
        QVERIFY(spaces.value(QStringLiteral("anomalies")).toArray().contains(QStringLiteral("undecoded")));

        // The table marks the guess with a '?' after the schema, and nothing else.
        const RunResult table = runLockctl({QStringLiteral("list")}, urls(*set));
        QVERIFY2(table.exitCode == 0, describe(table).constData());
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        const auto rowOf = [&](const QString &key) {
            for (const QString &line : lines)
                if (line.startsWith(key + QLatin1Char(' ')))
                    return line;
            return QString();
        };
        QVERIFY2(rowOf(QStringLiteral("etag:avatar:42")).contains(QStringLiteral(" node-redlock? ")),
                 describe(table).constData());
        QVERIFY2(rowOf(QStringLiteral("locks:account:1")).contains(QStringLiteral(" node-redlock ")),
                 describe(table).constData());
        QVERIFY2(!rowOf(QStringLiteral("lock:real")).contains(QLatin1Char('?')), describe(table).constData());
        QCOMPARE(table.out.count(QLatin1Char('?')), 1);

        // show: the record's confidence with its reason, and the mark per node.
        const RunResult show =
            runLockctl({QStringLiteral("show"), QStringLiteral("etag:avatar:42")}, urls(*set));
        QVERIFY2(show.exitCode == 0, describe(show).constData());
        QVERIFY2(show.out.contains(QStringLiteral("confidence  guess (32 hex characters")),
                 describe(show).constData());
        QVERIFY2(show.out.contains(QStringLiteral("node-redlock?")), describe(show).constData());
        const RunResult showJson = runLockctl(
            {QStringLiteral("show"), QStringLiteral("etag:avatar:42"), QStringLiteral("--json")}, urls(*set));
        QVERIFY2(showJson.exitCode == 0, describe(showJson).constData());
        QCOMPARE(QJsonDocument::fromJson(showJson.out.toUtf8()).object().value(QStringLiteral("confidence")),
                 QJsonValue(QStringLiteral("guess")));
    }

    // A guessed format may be application data: force-release wants --yes for it, and without it
    // changes nothing, says why, and writes no audit line (nothing was attempted).
    void forceReleaseOfGuessNeedsYes()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const QByteArray md5 = "06b124eacac543bf03cf321ed661380b";
        QVERIFY(set->set(0, "etag:avatar:42", md5, 3'600'000));

        const QStringList forceRelease{QStringLiteral("force-release"), QStringLiteral("etag:avatar:42"),
                                       QStringLiteral("--audit-log"), audit};
        const RunResult refused = runLockctl(forceRelease, urls(*set));
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains(QLatin1String("only a guess at a node-redlock lock")),
                 describe(refused).constData());
        QVERIFY2(refused.err.contains(QLatin1String("--yes")), describe(refused).constData());
        QVERIFY2(refused.err.contains(QLatin1String("nothing deleted")), describe(refused).constData());
        QVERIFY2(refused.out.contains(QLatin1String("Lock schema: node-redlock (guess: ")),
                 describe(refused).constData());
        QCOMPARE(set->get(0, "etag:avatar:42"), md5);
        QVERIFY(set->pttl(0, "etag:avatar:42") > 0);
        // The refused attempt is audited (every attempt is), as refused.
        QVERIFY(QFile::exists(audit));

        // --json refuses the same way.
        const RunResult refusedJson =
            runLockctl(forceRelease + QStringList{QStringLiteral("--json")}, urls(*set));
        QCOMPARE(refusedJson.exitCode, 2);
        QVERIFY2(refusedJson.err.contains(QLatin1String("only a guess")), describe(refusedJson).constData());
        QCOMPARE(set->get(0, "etag:avatar:42"), md5);

        // A lock the key names is Likely: the usual confirmation applies (no terminal here, so it
        // refuses for that reason, not for a guess).
        QVERIFY(set->set(0, "locks:account:1", md5, 60000));
        const RunResult likely =
            runLockctl({QStringLiteral("force-release"), QStringLiteral("locks:account:1"),
                        QStringLiteral("--audit-log"), audit},
                       urls(*set));
        QCOMPARE(likely.exitCode, 2);
        QVERIFY2(!likely.err.contains(QLatin1String("guess")), describe(likely).constData());
        QVERIFY2(likely.err.contains(QLatin1String("not a terminal")), describe(likely).constData());
        QCOMPARE(set->get(0, "locks:account:1"), md5);

        // With --yes the operator takes the guess: released.
        const RunResult released =
            runLockctl(forceRelease + QStringList{QStringLiteral("--yes")}, urls(*set));
        QVERIFY2(released.exitCode == 0, describe(released).constData());
        QVERIFY(set->get(0, "etag:avatar:42").isNull());
    }

    // A lock value with a 5 MB label: show and ttl print the start of it and how large it is,
    // not five megabytes; --json still carries all of it.
    void largeValuesArePrintedBounded()
    {
        LS_START_SERVERS(set, 1);
        const QByteArray label(5 * 1024 * 1024, 'x');
        const QByteArray value = "ls1 tok=tokhuge fence=1 host=web-1 pid=1 label=" + label;
        QVERIFY(set->set(0, "jobs:huge", value, 600000));
        const RunResult shown = runLockctl({QStringLiteral("show"), QStringLiteral("jobs:huge")}, urls(*set));
        QVERIFY2(shown.exitCode == 0, describe(shown).left(2000));
        QVERIFY2(shown.out.size() < 20'000, qPrintable(QString::number(shown.out.size())));
        QVERIFY2(shown.out.contains(QStringLiteral("(5.0 MB in all)")), qPrintable(shown.out.left(3000)));
        const RunResult ttl = runLockctl({QStringLiteral("ttl"), QStringLiteral("jobs:huge")}, urls(*set));
        QVERIFY2(ttl.exitCode == 0, describe(ttl).left(2000));
        QVERIFY2(ttl.out.size() < 20'000, qPrintable(QString::number(ttl.out.size())));
        const RunResult json = runLockctl(
            {QStringLiteral("show"), QStringLiteral("jobs:huge"), QStringLiteral("--json")}, urls(*set));
        QVERIFY2(json.exitCode == 0, describe(json).left(2000));
        QVERIFY(json.out.size() > label.size());
    }

    // No lock hidden: a key whose name says lock is listed raw even when no format reads it
    // (as in the app); other undecoded keys are not.
    void lockLikeUndecodedKeysAreListedRaw()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "acme:lock:report", "held-by: reporting #7", 60000));
        QVERIFY(set->set(0, "cache:user:1", "hello", 60000));
        const RunResult result = runLockctl({QStringLiteral("list"), QStringLiteral("--json")}, urls(*set));
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        const QJsonArray records = QJsonDocument::fromJson(result.out.toUtf8()).array();
        QCOMPARE(records.size(), 1);
        const QJsonObject raw = recordFor(records, QStringLiteral("acme:lock:report"));
        QVERIFY(raw.value(QStringLiteral("schema")).isNull());
        QVERIFY(raw.value(QStringLiteral("anomalies")).toArray().contains(QStringLiteral("undecoded")));
    }

    void downNodeAndUsage()
    {
        LS_START_SERVERS(set, 3);
        QVERIFY(set->set(0, "lock:x", lockValue(lock::randomToken(), 1), 60000));
        const QString nodes = urls(*set);
        set->server(2).kill();
        const RunResult result = runLockctl({QStringLiteral("list"), QStringLiteral("--json")}, nodes);
        QCOMPARE(result.exitCode, 1);
        QVERIFY(result.err.contains(QStringLiteral("node2")));
        const QJsonArray records = QJsonDocument::fromJson(result.out.toUtf8()).array();
        QCOMPARE(records.size(), 1);
        QVERIFY(records[0]
                    .toObject()
                    .value(QStringLiteral("anomalies"))
                    .toArray()
                    .contains(QStringLiteral("node-unreachable")));

        QCOMPARE(runLockctl({QStringLiteral("list")}).exitCode, 2); // no nodes
        QCOMPARE(
            runLockctl({QStringLiteral("list"), QStringLiteral("--schema"), QStringLiteral("nope")}, nodes)
                .exitCode,
            2);
        QCOMPARE(
            runLockctl({QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--csv")}, nodes)
                .exitCode,
            2);
        QCOMPARE(runLockctl({QStringLiteral("show")}, nodes).exitCode, 2);
    }

    // list writes JSON as it reads: compact with one record per line inside the array by
    // default, indented with --pretty, JSON Lines with --jsonl; all three the same records in
    // key order, also when they span many batches. Non-UTF-8 keys keep their bytes.
    void jsonIsStreamedCompactPrettyOrLines()
    {
        LS_START_SERVERS(set, 3);
        constexpr int Locks = 5000; // more than one batch of the streamed scan
        for (int i = 0; i < 3; ++i) {
            for (int k = 0; k < Locks; ++k)
                set->admin(i).append({QByteArrayView("SET"),
                                      "lock:" + QByteArray::number(k).rightJustified(5, '0'),
                                      lockValue("token" + QByteArray::number(k).rightJustified(17, 'x'), k),
                                      QByteArrayView("PX"), QByteArrayView("600000")});
            LS_VERIFY_OK(set->admin(i).flush());
            for (int k = 0; k < Locks; ++k)
                LS_VERIFY_OK(set->admin(i).readReply());
        }
        QVERIFY(set->set(0,
                         QByteArray("lock:\xff\x01"
                                    "bin"),
                         lockValue("tokenbinaryxxxxxxxxxxx", 7), 60000));
        const QString nodes = urls(*set);

        const RunResult compact = runLockctl({QStringLiteral("list"), QStringLiteral("--json")}, nodes);
        QVERIFY2(compact.exitCode == 0, describe(compact).constData());
        const QStringList lines = compact.out.split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), Locks + 1 + 3); // "[", a record per line, "]", and the final newline
        QCOMPARE(lines.front(), QStringLiteral("["));
        QCOMPARE(lines[lines.size() - 2], QStringLiteral("]"));
        QVERIFY(lines.back().isEmpty());
        QJsonParseError error;
        const QJsonArray records = QJsonDocument::fromJson(compact.out.toUtf8(), &error).array();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        QCOMPARE(records.size(), Locks + 1);
        QStringList keys;
        for (const QJsonValue &record : records)
            keys << record.toObject().value(QStringLiteral("key")).toString();
        QVERIFY(std::ranges::is_sorted(keys));
        QCOMPARE(keys.front(), QStringLiteral("lock:00000"));
        const QJsonObject binary = records.last().toObject(); // 0xff sorts after every digit
        QCOMPARE(QByteArray::fromBase64(binary.value(QStringLiteral("key_base64")).toString().toLatin1()),
                 QByteArray("lock:\xff\x01"
                            "bin"));
        QCOMPARE(binary.value(QStringLiteral("key")).toString(), QStringLiteral("lock:\\xff\\x01bin"));
        QCOMPARE(records[42].toObject().value(QStringLiteral("fence")).toInteger(), 42);
        QCOMPARE(records[42].toObject().value(QStringLiteral("held")).toInt(), 3);

        const RunResult pretty =
            runLockctl({QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--pretty")}, nodes);
        QVERIFY2(pretty.exitCode == 0, describe(pretty).constData());
        QVERIFY(pretty.out.contains(QStringLiteral("\n        \"key\": \"lock:00000\"")));
        const QJsonArray prettyRecords = QJsonDocument::fromJson(pretty.out.toUtf8()).array();
        QCOMPARE(prettyRecords.size(), records.size());
        QCOMPARE(prettyRecords[Locks - 1].toObject().value(QStringLiteral("key")),
                 records[Locks - 1].toObject().value(QStringLiteral("key")));

        const RunResult jsonl = runLockctl({QStringLiteral("list"), QStringLiteral("--jsonl")}, nodes);
        QVERIFY2(jsonl.exitCode == 0, describe(jsonl).constData());
        QStringList jsonLines = jsonl.out.split(QLatin1Char('\n'));
        QVERIFY(jsonLines.back().isEmpty());
        jsonLines.removeLast();
        QCOMPARE(jsonLines.size(), Locks + 1);
        for (qsizetype i = 0; i < jsonLines.size(); i += 997) {
            const QJsonDocument line = QJsonDocument::fromJson(jsonLines[i].toUtf8(), &error);
            QVERIFY2(line.isObject(), qPrintable(jsonLines[i].left(200)));
            QCOMPARE(line.object().value(QStringLiteral("key")).toString(), keys[i]);
        }

        // Nothing matches: an empty array, and nothing at all as JSON Lines.
        const RunResult none = runLockctl({QStringLiteral("list"), QStringLiteral("--json"),
                                           QStringLiteral("--match"), QStringLiteral("nope*")},
                                          nodes);
        QCOMPARE(none.exitCode, 0);
        QCOMPARE(none.out, QStringLiteral("[]\n"));
        const RunResult noLines = runLockctl({QStringLiteral("list"), QStringLiteral("--jsonl"),
                                              QStringLiteral("--match"), QStringLiteral("nope*")},
                                             nodes);
        QCOMPARE(noLines.exitCode, 0);
        QCOMPARE(noLines.out, QString());

        // Usage: --pretty goes with --json; one output format at a time.
        const RunResult prettyAlone = runLockctl({QStringLiteral("list"), QStringLiteral("--pretty")}, nodes);
        QCOMPARE(prettyAlone.exitCode, 2);
        QVERIFY(prettyAlone.err.contains(QStringLiteral("--pretty goes with --json")));
        QCOMPARE(
            runLockctl({QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--jsonl")}, nodes)
                .exitCode,
            2);
        QCOMPARE(
            runLockctl({QStringLiteral("list"), QStringLiteral("--jsonl"), QStringLiteral("--csv")}, nodes)
                .exitCode,
            2);
    }

    void benchSnapshotRuns()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, "lock:b", lockValue(lock::randomToken(), 1), 60000));
        const RunResult result =
            runLockctl({QStringLiteral("bench"), QStringLiteral("snapshot"), QStringLiteral("--nodes"),
                        urls(*set), QStringLiteral("--json")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        const QJsonObject object = QJsonDocument::fromJson(result.out.toUtf8()).object();
        QCOMPARE(object.value(QStringLiteral("records")).toInt(), 1);
        QCOMPARE(object.value(QStringLiteral("decoded")).toInt(), 1);
        QVERIFY(object.contains(QStringLiteral("seconds")));
        QVERIFY(object.contains(QStringLiteral("heap_bytes_per_record")));
    }

    void watchPollsWhenNotificationsAreOff()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, "lock:w", lockValue(lock::randomToken(), 1), 60000));
        const RunResult result = runLockctl({QStringLiteral("watch"), QStringLiteral("--nodes"), urls(*set),
                                             QStringLiteral("--iterations"), QStringLiteral("2"),
                                             QStringLiteral("--interval"), QStringLiteral("200ms")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        QCOMPARE(result.out.count(QStringLiteral("-- ")), 2);
        QCOMPARE(result.out.count(QStringLiteral("lock:w")), 2);
        QVERIFY2(result.out.contains(QStringLiteral("every 200ms")), describe(result).constData());
        // Notifications are off: said once, with the command for an administrator; never switched on.
        QVERIFY2(result.err.contains(QStringLiteral("CONFIG SET notify-keyspace-events")),
                 describe(result).constData());
        auto flags = set->admin(0).command({"CONFIG", "GET", "notify-keyspace-events"});
        LS_VERIFY_OK(flags);
        QCOMPARE(flags->elements().at(1).bytes(), QByteArray());
    }

    void watchFailsWhenTheLastRefreshFailed()
    {
        LS_START_SERVERS(set, 3);
        const QString nodes = urls(*set);
        set->server(2).kill();
        // One node down the whole time: every refresh lists the others, and the run fails.
        const RunResult partly =
            runLockctl({QStringLiteral("watch"), QStringLiteral("--nodes"), nodes,
                        QStringLiteral("--iterations"), QStringLiteral("2"), QStringLiteral("--interval"),
                        QStringLiteral("100ms"), QStringLiteral("--timeout"), QStringLiteral("500ms")});
        QVERIFY2(partly.exitCode == 1, describe(partly).constData());
        QCOMPARE(partly.out.count(QStringLiteral("nodes read 2/3")), 2);
        QVERIFY2(partly.err.contains(QStringLiteral("watch: the last refresh could not read 1 of 3 nodes")),
                 describe(partly).constData());

        // Every node down: no refresh read anything.
        set->server(0).kill();
        set->server(1).kill();
        const RunResult down =
            runLockctl({QStringLiteral("watch"), QStringLiteral("--nodes"), nodes,
                        QStringLiteral("--iterations"), QStringLiteral("2"), QStringLiteral("--interval"),
                        QStringLiteral("100ms"), QStringLiteral("--timeout"), QStringLiteral("500ms")});
        QVERIFY2(down.exitCode == 1, describe(down).constData());
        QCOMPARE(down.out.count(QStringLiteral("nodes read 0/3")), 2);
        QVERIFY2(down.err.contains(QStringLiteral("watch: the last refresh could not read 3 of 3 nodes")),
                 describe(down).constData());
    }

    void watchIsLiveWithNotifications()
    {
        redis::LocalServerOptions options;
        options.extraArgs = {QStringLiteral("--notify-keyspace-events"), QStringLiteral("KA")};
        auto server = redis::LocalRedisServer::start(options);
        LS_VERIFY_OK(server);
        const RunResult result =
            runLockctl({QStringLiteral("watch"), QStringLiteral("--nodes"), (*server)->url(),
                        QStringLiteral("--iterations"), QStringLiteral("1")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        QVERIFY2(result.out.contains(QStringLiteral(", live (")), describe(result).constData());
        QVERIFY2(!result.err.contains(QStringLiteral("live updates off")), describe(result).constData());
    }

    // A restart brings the node back with its configured notify-keyspace-events (off here: they
    // had been switched on at run time): watch says so and polls, instead of claiming "live".
    void watchIsNotLiveAfterARestartTurnedEventsOff()
    {
        auto server = redis::LocalRedisServer::start();
        LS_VERIFY_OK(server);
        redis::Connection admin((*server)->nodeConfig());
        LS_VERIFY_OK(admin.command({"CONFIG", "SET", "notify-keyspace-events", "KA"}));
        QProcess watch;
        watch.setProcessEnvironment(QProcessEnvironment::systemEnvironment());
        watch.start(QStringLiteral(LOCKCTL_PATH),
                    {QStringLiteral("watch"), QStringLiteral("--nodes"), (*server)->url(),
                     QStringLiteral("--interval"), QStringLiteral("200ms")});
        QVERIFY(watch.waitForStarted(10000));
        QString out;
        const auto readUntil = [&](const QString &text) {
            QDeadlineTimer deadline(20000);
            while (!out.contains(text) && !deadline.hasExpired()) {
                watch.waitForReadyRead(200);
                out += QString::fromUtf8(watch.readAllStandardOutput());
            }
            return out.contains(text);
        };
        QVERIFY2(readUntil(QStringLiteral(", live (")), qPrintable(out));
        LS_VERIFY_OK((*server)->restart()); // the config file's defaults: no keyspace events
        out.clear();
        QVERIFY2(readUntil(QStringLiteral("note: live updates off: ")), qPrintable(out));
        QVERIFY2(readUntil(QStringLiteral("CONFIG SET notify-keyspace-events")), qPrintable(out));
        // From then on, every header says it polls.
        out.clear();
        QVERIFY2(readUntil(QStringLiteral("\n-- ")), qPrintable(out));
        QVERIFY2(readUntil(QStringLiteral("every 200ms")), qPrintable(out));
        const QString last = out.mid(out.lastIndexOf(QStringLiteral("-- ")));
        QVERIFY2(!last.contains(QStringLiteral(", live (")), qPrintable(out));
        watch.terminate();
        QVERIFY(watch.waitForFinished(10000));
    }

    // A user the ACL does not allow SCAN: watch says so (node named, what to add), counts the
    // node as not read (it is up), and exits 1.
    void watchWithoutScanSaysWhy()
    {
        LS_START_SERVERS(set, 1);
        LS_VERIFY_OK(set->admin(0).command(
            {QByteArrayView("ACL"), QByteArrayView("SETUSER"), QByteArrayView("noscan"), QByteArrayView("on"),
             QByteArrayView(">pw"), QByteArrayView("+@all"), QByteArrayView("-scan"), QByteArrayView("~*")}));
        const QString url = QStringLiteral("redis://noscan:pw@127.0.0.1:%1").arg(set->server(0).port());
        const RunResult result = runLockctl({QStringLiteral("watch"), QStringLiteral("--nodes"), url,
                                             QStringLiteral("--iterations"), QStringLiteral("1")});
        QCOMPARE(result.exitCode, 1);
        QVERIFY2(result.out.contains(QStringLiteral("nodes read 0/1")), describe(result).constData());
        QVERIFY2(result.out.contains(QStringLiteral("this ACL user may not run SCAN")) &&
                     result.out.contains(QStringLiteral("+scan")) &&
                     result.out.contains(QStringLiteral("127.0.0.1:%1").arg(set->server(0).port())),
                 describe(result).constData());
        const RunResult list = runLockctl({QStringLiteral("list"), QStringLiteral("--nodes"), url});
        QCOMPARE(list.exitCode, 1);
        QVERIFY2(list.err.contains(QStringLiteral("this ACL user may not run SCAN")),
                 describe(list).constData());
    }

    // A node that stalls while the connection is set up answers the PING after it at once: ping
    // shows the slow connect beside the round trip instead of a healthy-looking 0.04 ms.
    void pingShowsASlowConnect()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->server(0).pause());
        std::jthread resume([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            set->server(0).resume();
        });
        const RunResult result =
            runLockctl({QStringLiteral("ping"), set->server(0).url(), QStringLiteral("--json"),
                        QStringLiteral("--timeout"), QStringLiteral("10s")});
        resume.join();
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        const QJsonObject node = QJsonDocument::fromJson(result.out.toUtf8()).array().at(0).toObject();
        QVERIFY2(node.value(QStringLiteral("connect_ms")).toDouble() >= 1000, describe(result).constData());
        QVERIFY(node.value(QStringLiteral("latency_ms")).isDouble());

        const RunResult table = runLockctl({QStringLiteral("ping"), set->server(0).url()});
        QCOMPARE(table.exitCode, 0);
        QVERIFY2(!table.out.contains(QStringLiteral("(connect")), describe(table).constData()); // fast now
    }
};

QTEST_GUILESS_MAIN(TestLockctlList)
#include "tst_lockctl_list.moc"
