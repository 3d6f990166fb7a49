#include "lock/lockvalue.h"

#include <QDateTime>
#include <QSet>
#include <QTest>

using namespace lockscope::lock;

class TestLockValue : public QObject
{
    Q_OBJECT

private slots:
    void roundTripAllFields();
    void roundTripAwkwardBytes_data();
    void roundTripAwkwardBytes();
    void encodedFormIsOneLegibleLine();
    void minimalValue();
    void timestampEncoding_data();
    void timestampEncoding();
    void timestampsInOneSecondOnOneThread();
    void timestampParsedLikeQt_data();
    void timestampParsedLikeQt();
    void ownerPrefix();
    void unknownFieldsAreIgnored();
    void parseRejectsForeignValues_data();
    void parseRejectsForeignValues();
    void parseRejectsDuplicateFields_data();
    void parseRejectsDuplicateFields();
    void repeatedUnknownFieldIsIgnored();
    void fenceKeyFor_data();
    void fenceKeyFor();
    void randomTokenShapeAndUniqueness();
    void kindFieldsRoundTrip();
    void kindFieldsRejectBadValues_data();
    void kindFieldsRejectBadValues();
    void writerIntentKeySharesSlot();
};

namespace {

LockValue fullValue()
{
    LockValue v;
    v.token = "3q2-7wEVQm6dVY4bhv1ZBg";
    v.fence = 42;
    v.host = QStringLiteral("web-1.example");
    v.pid = 4711;
    v.thread = QStringLiteral("worker 3");
    v.acquiredAt = QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0, 123), Qt::UTC);
    v.label = QStringLiteral("nächtlicher Bericht ✓ 100% = fertig");
    v.metadata.insert(QStringLiteral("job"), QStringLiteral("17"));
    v.metadata.insert(QStringLiteral("owner id"), QStringLiteral("a=b c%d"));
    v.metadata.insert(QStringLiteral("ünï"), QStringLiteral("日本語"));
    return v;
}

void compareValues(const LockValue &actual, const LockValue &expected)
{
    QCOMPARE(actual.token, expected.token);
    QCOMPARE(actual.fence, expected.fence);
    QCOMPARE(actual.host, expected.host);
    QCOMPARE(actual.pid, expected.pid);
    QCOMPARE(actual.thread, expected.thread);
    QCOMPARE(actual.acquiredAt, expected.acquiredAt);
    QCOMPARE(actual.label, expected.label);
    QCOMPARE(actual.metadata, expected.metadata);
}

} // namespace

void TestLockValue::roundTripAllFields()
{
    const LockValue v = fullValue();
    const QByteArray encoded = v.encode();
    const auto parsed = LockValue::parse(encoded);
    QVERIFY2(parsed.has_value(), encoded.constData());
    compareValues(*parsed, v);
    QCOMPARE(parsed->acquiredAt.toMSecsSinceEpoch() % 1000, 123);
    // Encoding the parsed value gives the same bytes again.
    QCOMPARE(parsed->encode(), encoded);
}

void TestLockValue::roundTripAwkwardBytes_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("text");

    QTest::newRow("spaces") << QByteArray("tok with spaces") << QStringLiteral("a b  c ");
    QTest::newRow("equals") << QByteArray("a=b") << QStringLiteral("x=y=z");
    QTest::newRow("percent") << QByteArray("100%") << QStringLiteral("%20 is not a space");
    QTest::newRow("control bytes") << QByteArray("t\tab\n") << QStringLiteral("line1\nline2\r\x01\x7f");
    QTest::newRow("unicode") << QByteArray("tök") << QStringLiteral("Ünïcödé label — 🔒 锁");
    QTest::newRow("looks like a field") << QByteArray("x fence=9") << QStringLiteral(" tok=evil fence=1");
}

void TestLockValue::roundTripAwkwardBytes()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, text);

    LockValue v;
    v.token = token;
    v.fence = 7;
    v.host = text;
    v.thread = text;
    v.label = text;
    v.metadata.insert(text, text);
    const QByteArray encoded = v.encode();
    QVERIFY2(!encoded.contains('\n') && !encoded.contains('\r') && !encoded.contains('\t'),
             encoded.constData());
    // Exactly one space per field: the fields of a value never leak into each other.
    QCOMPARE(encoded.count(' '), 6); // tok fence host thr label m.<text>
    const auto parsed = LockValue::parse(encoded);
    QVERIFY2(parsed.has_value(), encoded.constData());
    compareValues(*parsed, v);
    QVERIFY(encoded.startsWith(LockValue::ownerPrefix(token)));
}

void TestLockValue::encodedFormIsOneLegibleLine()
{
    const QByteArray encoded = fullValue().encode();
    QVERIFY2(encoded.startsWith("ls1 tok=3q2-7wEVQm6dVY4bhv1ZBg fence=42 "), encoded.constData());
    QVERIFY2(encoded.contains(" host=web-1.example"), encoded.constData());
    QVERIFY2(encoded.contains(" pid=4711"), encoded.constData());
    QVERIFY2(encoded.contains(" thr=worker%203"), encoded.constData());
    QVERIFY2(encoded.contains(" at=2026-11-23T06:00:00.123Z"), encoded.constData());
    // UTF-8 is kept as is (legible in redis-cli --raw), only space, '%' and '=' are escaped.
    QVERIFY2(encoded.contains(" label=" +
                              QStringLiteral("nächtlicher%20Bericht%20✓%20100%25%20%3D%20fertig").toUtf8()),
             encoded.constData());
    QVERIFY2(encoded.contains(" m.job=17"), encoded.constData());
    QVERIFY2(encoded.contains(" m.owner%20id=a%3Db%20c%25d"), encoded.constData());
    QCOMPARE(fullValue().encode(),
             LockValue::ownerPrefix(fullValue().token) + "fence=42" + fullValue().encodeTail());
}

void TestLockValue::minimalValue()
{
    LockValue v;
    v.token = "abc";
    v.fence = 1;
    QCOMPARE(v.encode(), QByteArray("ls1 tok=abc fence=1"));
    // Fence 0 (no fencing): the field may be left out; the value still starts with the owner
    // prefix's token and parses back (below) with fence 0.
    v.fence = 0;
    QVERIFY2(v.encode().startsWith("ls1 tok=abc"), v.encode().constData());
    const auto parsed = LockValue::parse(v.encode());
    QVERIFY2(parsed.has_value(), "'" + v.encode() + "' does not parse");
    compareValues(*parsed, v);
    QVERIFY(parsed->metadata.isEmpty());
    QVERIFY(!parsed->acquiredAt.isValid());
}

void TestLockValue::timestampEncoding_data()
{
    QTest::addColumn<QDateTime>("time");
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("whole second") << QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0, 0), Qt::UTC)
                                  << QByteArray("2026-11-23T06:00:00.000Z");
    QTest::newRow("5 ms") << QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0, 5), Qt::UTC)
                          << QByteArray("2026-11-23T06:00:00.005Z");
    QTest::newRow("50 ms") << QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0, 50), Qt::UTC)
                           << QByteArray("2026-11-23T06:00:00.050Z");
    QTest::newRow("999 ms") << QDateTime(QDate(2026, 12, 31), QTime(23, 59, 59, 999), Qt::UTC)
                            << QByteArray("2026-12-31T23:59:59.999Z");
    QTest::newRow("epoch") << QDateTime::fromMSecsSinceEpoch(0, Qt::UTC)
                           << QByteArray("1970-01-01T00:00:00.000Z");
    QTest::newRow("before the epoch")
        << QDateTime::fromMSecsSinceEpoch(-500, Qt::UTC) << QByteArray("1969-12-31T23:59:59.500Z");
    QTest::newRow("one second before the epoch")
        << QDateTime::fromMSecsSinceEpoch(-1000, Qt::UTC) << QByteArray("1969-12-31T23:59:59.000Z");
    QTest::newRow("offset is converted to UTC")
        << QDateTime(QDate(2026, 1, 1), QTime(12, 0, 0, 7), Qt::OffsetFromUTC, 3600)
        << QByteArray("2026-01-01T11:00:00.007Z");
}

void TestLockValue::timestampEncoding()
{
    QFETCH(QDateTime, time);
    QFETCH(QByteArray, text);
    LockValue v;
    v.token = "t";
    v.acquiredAt = time;
    const QByteArray encoded = v.encode();
    QVERIFY2(encoded.contains(" at=" + text), encoded.constData());
    const auto parsed = LockValue::parse(encoded);
    QVERIFY(parsed.has_value());
    QCOMPARE(parsed->acquiredAt.toMSecsSinceEpoch(), time.toMSecsSinceEpoch());
}

void TestLockValue::timestampsInOneSecondOnOneThread()
{
    // Alternating seconds and milliseconds on one thread: every value carries its own time.
    const qint64 base = QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0), Qt::UTC).toMSecsSinceEpoch();
    const qint64 offsets[] = {0, 1, 999, 1000, 1, 2500, 2501, 0, 86'400'000, 3};
    for (const qint64 offset : offsets) {
        LockValue v;
        v.token = "t";
        v.acquiredAt = QDateTime::fromMSecsSinceEpoch(base + offset, Qt::UTC);
        const auto parsed = LockValue::parse(v.encode());
        QVERIFY(parsed.has_value());
        QVERIFY2(parsed->acquiredAt.toMSecsSinceEpoch() == base + offset, v.encode().constData());
        QVERIFY2(v.encode().contains(v.acquiredAt.toString(Qt::ISODateWithMs).toLatin1()),
                 v.encode().constData());
    }
}

void TestLockValue::timestampParsedLikeQt_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("encoded form") << QByteArray("2026-11-23T06:00:00.123Z");
    QTest::newRow("leap day") << QByteArray("2028-02-29T23:59:59.999Z");
    QTest::newRow("no leap day") << QByteArray("2027-02-29T10:00:00.000Z");
    QTest::newRow("month 13") << QByteArray("2026-13-01T10:00:00.000Z");
    QTest::newRow("hour 24") << QByteArray("2026-11-23T24:00:00.000Z");
    QTest::newRow("letter in the year") << QByteArray("2O26-11-23T06:00:00.123Z");
    QTest::newRow("without milliseconds") << QByteArray("2026-11-23T06:00:00Z");
    QTest::newRow("with an offset") << QByteArray("2026-11-23T06:00:00.123+01:00");
    QTest::newRow("no zone") << QByteArray("2026-11-23T06:00:00.123");
    QTest::newRow("percent-encoded") << QByteArray("2026-11-23T06:00:00.123%5A");
    QTest::newRow("garbage") << QByteArray("yesterday");
}

void TestLockValue::timestampParsedLikeQt()
{
    // The encoded form has a fast path; every other form must read exactly as Qt's ISO parser
    // reads it (an invalid time stays invalid).
    QFETCH(QByteArray, text);
    const auto parsed = LockValue::parse("ls1 tok=t at=" + text);
    QVERIFY(parsed.has_value());
    const QDateTime expected =
        QDateTime::fromString(QString::fromLatin1(LockValue::unescape(text)), Qt::ISODateWithMs);
    QCOMPARE(parsed->acquiredAt.isValid(), expected.isValid());
    if (expected.isValid()) {
        QCOMPARE(parsed->acquiredAt.toMSecsSinceEpoch(), expected.toMSecsSinceEpoch());
        QCOMPARE(parsed->acquiredAt.timeSpec(), expected.timeSpec());
    }
}

void TestLockValue::ownerPrefix()
{
    QCOMPARE(LockValue::ownerPrefix("abc"), QByteArray("ls1 tok=abc "));
    QCOMPARE(LockValue::ownerPrefix("a b=c%"), QByteArray("ls1 tok=a%20b%3Dc%25 "));
    // The trailing space ends the token: a token that is a prefix of another never matches it.
    QVERIFY(!LockValue::ownerPrefix("abcd").startsWith(LockValue::ownerPrefix("abc")));
    LockValue v;
    v.token = "abcd";
    QVERIFY(!v.encode().startsWith(LockValue::ownerPrefix("abc")));
    QVERIFY(v.encode().startsWith(LockValue::ownerPrefix("abcd")));
}

void TestLockValue::unknownFieldsAreIgnored()
{
    const auto parsed = LockValue::parse("ls1 tok=xyz fence=12 future=thing host=h label=L x.y=1");
    QVERIFY(parsed.has_value());
    QCOMPARE(parsed->token, QByteArray("xyz"));
    QCOMPARE(parsed->fence, 12);
    QCOMPARE(parsed->host, QStringLiteral("h"));
    QCOMPARE(parsed->label, QStringLiteral("L"));
    QVERIFY(parsed->metadata.isEmpty());
}

void TestLockValue::parseRejectsForeignValues_data()
{
    QTest::addColumn<QByteArray>("value");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("abc") << QByteArray("abc");
    QTest::newRow("redsync base64") << QByteArray("xqzVY5S1Jq5X3k0rX0c4dA==");
    QTest::newRow("bsm/redislock token") << QByteArray("Bq0ZtbSW0q3Gq-MWIyb3wA");
    QTest::newRow("redis-py uuid") << QByteArray("9f1c2f5e6b3a11eebd2a0242ac120002");
    QTest::newRow("redisson") << QByteArray("b1e6a7a2-41c4-4a5f-8a8e-8e1f2b1c3d4e:1");
    QTest::newRow("json") << QByteArray(R"({"tok":"x","fence":1})");
    QTest::newRow("version only") << QByteArray("ls1");
    QTest::newRow("no token first") << QByteArray("ls1 fence=1 tok=x");
    QTest::newRow("other version") << QByteArray("ls2 tok=x fence=1");
    QTest::newRow("bad fence") << QByteArray("ls1 tok=x fence=abc");
    QTest::newRow("field without =") << QByteArray("ls1 tok=x garbage");
    QTest::newRow("foreign overwrite") << QByteArray("ABCD");
}

void TestLockValue::parseRejectsForeignValues()
{
    QFETCH(QByteArray, value);
    QVERIFY2(!LockValue::parse(value).has_value(), value.constData());
}

void TestLockValue::parseRejectsDuplicateFields_data()
{
    QTest::addColumn<QByteArray>("value");

    // The release script's owner check matches "ls1 tok=abc " (the first token): a reader
    // taking the last one would show an owner whose token releases nothing.
    QTest::newRow("tok twice") << QByteArray("ls1 tok=abc tok=def fence=1");
    QTest::newRow("tok twice, escaped") << QByteArray("ls1 tok=abc fence=1 tok=d%65f");
    QTest::newRow("fence twice") << QByteArray("ls1 tok=abc fence=1 fence=9");
    QTest::newRow("host twice") << QByteArray("ls1 tok=abc fence=1 host=a host=b");
    QTest::newRow("pid twice") << QByteArray("ls1 tok=abc fence=1 pid=1 pid=2");
    QTest::newRow("thr twice") << QByteArray("ls1 tok=abc fence=1 thr=a thr=b");
    QTest::newRow("at twice") << QByteArray(
        "ls1 tok=abc fence=1 at=2026-11-23T06:00:00.123Z at=2026-11-23T06:00:01.123Z");
    QTest::newRow("label twice") << QByteArray("ls1 tok=abc fence=1 label=a label=b");
    QTest::newRow("call twice") << QByteArray("ls1 tok=abc fence=1 call=a call=b");
    QTest::newRow("metadata twice") << QByteArray("ls1 tok=abc fence=1 m.job=1 m.job=2");
    QTest::newRow("metadata twice, escaped name") << QByteArray("ls1 tok=abc fence=1 m.a%20b=1 m.a%20b=2");
}

void TestLockValue::parseRejectsDuplicateFields()
{
    QFETCH(QByteArray, value);
    QVERIFY2(!LockValue::parse(value).has_value(), value.constData());
    // What the scripts compare is still the first token: abc would release it, def would not.
    QVERIFY(value.startsWith(LockValue::ownerPrefix("abc")));
    QVERIFY(!value.startsWith(LockValue::ownerPrefix("def")));
}

void TestLockValue::repeatedUnknownFieldIsIgnored()
{
    // Unknown fields belong to a newer format and are ignored, repeated or not.
    const auto parsed = LockValue::parse("ls1 tok=abc fence=3 future=1 future=2 m.a=1 m.b=2");
    QVERIFY(parsed.has_value());
    QCOMPARE(parsed->token, QByteArray("abc"));
    QCOMPARE(parsed->fence, 3);
    QCOMPARE(parsed->metadata.size(), 2);
}

void TestLockValue::fenceKeyFor_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("fenceKey");

    QTest::newRow("plain") << QByteArray("jobs") << QByteArray("{jobs}.fence");
    QTest::newRow("prefixed") << QByteArray("app:jobs:17") << QByteArray("{app:jobs:17}.fence");
    QTest::newRow("hash tag") << QByteArray("{user1}:jobs") << QByteArray("{user1}:jobs.fence");
    QTest::newRow("hash tag inside") << QByteArray("app:{user1}:jobs")
                                     << QByteArray("app:{user1}:jobs.fence");
    QTest::newRow("empty braces are no tag") << QByteArray("a{}b") << QByteArray("{a{}b}.fence");
    QTest::newRow("open brace only") << QByteArray("a{b") << QByteArray("{a{b}.fence");
}

void TestLockValue::fenceKeyFor()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, fenceKey);
    QCOMPARE(lockscope::lock::fenceKeyFor(key), fenceKey);
    QVERIFY(lockscope::lock::fenceKeyFor(key) != key);
}

void TestLockValue::randomTokenShapeAndUniqueness()
{
    constexpr int draws = 10'000;
    QSet<QByteArray> seen;
    seen.reserve(draws);
    for (int i = 0; i < draws; ++i) {
        const QByteArray token = randomToken();
        QCOMPARE(token.size(), 22);
        for (const char c : token) {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_';
            QVERIFY2(ok, token.constData());
        }
        const auto decoded = QByteArray::fromBase64Encoding(
            token, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
        QVERIFY(decoded.decodingStatus == QByteArray::Base64DecodingStatus::Ok);
        QCOMPARE(decoded.decoded.size(), 16);
        // Needs no escaping, so the stored value shows it verbatim.
        QCOMPARE(LockValue::escape(token), token);
        seen.insert(token);
    }
    QCOMPARE(seen.size(), draws);
}

void TestLockValue::kindFieldsRoundTrip()
{
    LockValue reader = fullValue();
    reader.mode = 'r';
    const QByteArray encoded = reader.encode();
    QVERIFY2(encoded.startsWith("ls1 tok=3q2-7wEVQm6dVY4bhv1ZBg fence=42 rw=r host="), encoded.constData());
    QCOMPARE(LockValue::parse(encoded)->mode, 'r');
    QCOMPARE(LockValue::parse(encoded)->encode(), encoded);

    LockValue permit = fullValue();
    permit.permits = 5;
    QCOMPARE(LockValue::parse(permit.encode())->permits, 5);
    QCOMPARE(LockValue::parse(permit.encode())->mode, '\0');

    LockValue reentrant = fullValue();
    reentrant.holds = 3;
    QVERIFY(reentrant.encode().contains(" cnt=3 "));
    QCOMPARE(LockValue::parse(reentrant.encode())->holds, 3);
    LockValue fair = fullValue();
    fair.fair = true;
    QVERIFY(fair.encode().contains(" fair=1 "));
    QVERIFY(LockValue::parse(fair.encode())->fair);
    // A mutex value carries none of them.
    const auto mutex = LockValue::parse(fullValue().encode());
    QCOMPARE(mutex->mode, '\0');
    QCOMPARE(mutex->permits, 0);
    QCOMPARE(mutex->holds, 0);
}

void TestLockValue::kindFieldsRejectBadValues_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("rw twice") << QByteArray("ls1 tok=a rw=r rw=w");
    QTest::newRow("rw other letter") << QByteArray("ls1 tok=a rw=x");
    QTest::newRow("rw long") << QByteArray("ls1 tok=a rw=rw");
    QTest::newRow("permits zero") << QByteArray("ls1 tok=a permits=0");
    QTest::newRow("permits text") << QByteArray("ls1 tok=a permits=many");
    QTest::newRow("permits twice") << QByteArray("ls1 tok=a permits=2 permits=3");
    QTest::newRow("cnt negative") << QByteArray("ls1 tok=a cnt=-1");
    QTest::newRow("cnt twice") << QByteArray("ls1 tok=a cnt=1 cnt=2");
    QTest::newRow("fair not 1") << QByteArray("ls1 tok=a fair=yes");
}

void TestLockValue::kindFieldsRejectBadValues()
{
    QFETCH(QByteArray, value);
    QVERIFY(!LockValue::parse(value).has_value());
}

void TestLockValue::writerIntentKeySharesSlot()
{
    QCOMPARE(lockscope::lock::writerIntentKeyFor("doc"), QByteArray("{doc}.wwait"));
    QCOMPARE(lockscope::lock::writerIntentKeyFor("{orders}:doc"), QByteArray("{orders}:doc.wwait"));
}

QTEST_GUILESS_MAIN(TestLockValue)
#include "tst_lockvalue.moc"
