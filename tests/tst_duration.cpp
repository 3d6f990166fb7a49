#include "util/duration.h"

#include <QTest>

using namespace std::chrono_literals;
using lockscope::formatDuration;
using lockscope::parseDuration;

class TestDuration : public QObject
{
    Q_OBJECT

private slots:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void problemSaysWhy();
    void format_data();
    void format();
    void roundTrip_data();
    void roundTrip();
    void roundTripEveryValue();
    void formatMicros();
    void formatLatency();
};

void TestDuration::parseValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ms");
    QTest::newRow("milliseconds") << QStringLiteral("250ms") << qint64(250);
    QTest::newRow("seconds") << QStringLiteral("2s") << qint64(2000);
    QTest::newRow("fractional seconds") << QStringLiteral("1.5s") << qint64(1500);
    QTest::newRow("minutes") << QStringLiteral("3m") << qint64(180000);
    QTest::newRow("hours") << QStringLiteral("1h") << qint64(3600000);
    QTest::newRow("zero") << QStringLiteral("0") << qint64(0);
    QTest::newRow("zero seconds") << QStringLiteral("0s") << qint64(0);
    QTest::newRow("large") << QStringLiteral("86400s") << qint64(86400000);
    QTest::newRow("hours and minutes") << QStringLiteral("1h2m") << qint64(3720000);
    QTest::newRow("minutes and seconds") << QStringLiteral("1m30s") << qint64(90000);
    QTest::newRow("minutes and fractional seconds") << QStringLiteral("1m30.5s") << qint64(90500);
    QTest::newRow("hours, minutes, seconds") << QStringLiteral("2h30m15s") << qint64(9015000);
    QTest::newRow("seconds and milliseconds") << QStringLiteral("1s250ms") << qint64(1250);
    QTest::newRow("space before the unit") << QStringLiteral("5 s") << qint64(5000);
}

void TestDuration::parseValid()
{
    QFETCH(QString, text);
    QFETCH(qint64, ms);
    const auto parsed = parseDuration(text);
    QVERIFY2(parsed.has_value(), qPrintable(text));
    QCOMPARE(parsed->count(), ms);
}

void TestDuration::parseInvalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("word") << QStringLiteral("abc");
    QTest::newRow("negative bare") << QStringLiteral("-5");
    QTest::newRow("bare integer needs a unit") << QStringLiteral("30");
    QTest::newRow("bare fraction needs a unit") << QStringLiteral("1.5");
    QTest::newRow("negative seconds") << QStringLiteral("-1s");
    QTest::newRow("unknown unit") << QStringLiteral("5x");
    QTest::newRow("unit only") << QStringLiteral("ms");
    QTest::newRow("seconds unit only") << QStringLiteral("s");
    QTest::newRow("trailing garbage") << QStringLiteral("5s5");
    QTest::newRow("double dot") << QStringLiteral("1.2.3s");
    QTest::newRow("units out of order") << QStringLiteral("1m1h");
    QTest::newRow("unit twice") << QStringLiteral("1s1s");
    QTest::newRow("space between parts") << QStringLiteral("1h 2m");
    QTest::newRow("part without unit") << QStringLiteral("1m30");
}

void TestDuration::parseInvalid()
{
    QFETCH(QString, text);
    const auto parsed = parseDuration(text);
    QVERIFY2(
        !parsed.has_value(),
        qPrintable(QStringLiteral("\"%1\" parsed as %2 ms").arg(text).arg(parsed ? parsed->count() : 0)));
}

void TestDuration::problemSaysWhy()
{
    QCOMPARE(lockscope::durationProblem(u"30s"), QString());
    QCOMPARE(lockscope::durationProblem(u"30"), QStringLiteral("\"30\" has no unit: write 30ms, 30s or 30m"));
    QVERIFY(lockscope::durationProblem(u"soon").contains(QStringLiteral("is not a duration")));
    QVERIFY(lockscope::durationProblem(u"").startsWith(QStringLiteral("empty")));
}

void TestDuration::format_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("sub-second") << qint64(850) << QStringLiteral("850ms");
    QTest::newRow("whole seconds") << qint64(2000) << QStringLiteral("2s");
    QTest::newRow("fractional seconds") << qint64(1500) << QStringLiteral("1.5s");
    QTest::newRow("minutes") << qint64(180000) << QStringLiteral("3m");
    QTest::newRow("hours and minutes") << qint64(3720000) << QStringLiteral("1h2m");
    QTest::newRow("minutes and seconds") << qint64(91000) << QStringLiteral("1m31s");
    QTest::newRow("nothing rounded") << qint64(90500) << QStringLiteral("1m30.5s");
    QTest::newRow("milliseconds kept") << qint64(12345) << QStringLiteral("12.345s");
    QTest::newRow("hours and a fraction") << qint64(3600250) << QStringLiteral("1h0.25s");
}

void TestDuration::format()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(formatDuration(std::chrono::milliseconds(ms)), text);
}

void TestDuration::roundTrip_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::newRow("1ms") << qint64(1);
    QTest::newRow("850ms") << qint64(850);
    QTest::newRow("1.5s") << qint64(1500);
    QTest::newRow("2s") << qint64(2000);
    QTest::newRow("3m") << qint64(180000);
    QTest::newRow("1h") << qint64(3600000);
    QTest::newRow("1h2m") << qint64(3720000);
    QTest::newRow("1m30s") << qint64(90000);
    QTest::newRow("1m31s") << qint64(91000);
}

void TestDuration::roundTrip()
{
    QFETCH(qint64, ms);
    const QString text = formatDuration(std::chrono::milliseconds(ms));
    const auto parsed = parseDuration(text);
    QVERIFY2(parsed.has_value(), qPrintable(text));
    QCOMPARE(parsed->count(), ms);
}

void TestDuration::roundTripEveryValue()
{
    // Every millisecond up to two minutes, then a prime stride through four days (it lands on
    // every mix of h, m, s and ms), then the largest values.
    std::vector<qint64> values;
    for (qint64 ms = 0; ms <= 120'000; ++ms)
        values.push_back(ms);
    for (qint64 ms = 120'000; ms <= 4 * 86'400'000LL; ms += 7919)
        values.push_back(ms);
    for (const qint64 ms : {qint64(86'400'000) * 365, qint64(999'999'999'999), qint64(1'000'000'000'000'000)})
        values.push_back(ms);
    for (const qint64 ms : values) {
        const QString text = formatDuration(std::chrono::milliseconds(ms));
        const auto parsed = parseDuration(text);
        if (!parsed || parsed->count() != ms)
            QFAIL(
                qPrintable(QStringLiteral("%1 ms -> \"%2\" -> %3")
                               .arg(ms)
                               .arg(text)
                               .arg(parsed ? QString::number(parsed->count()) : QStringLiteral("rejected"))));
    }
}

void TestDuration::formatMicros()
{
    QCOMPARE(lockscope::formatMicros(0), QStringLiteral("0 µs"));
    QCOMPARE(lockscope::formatMicros(850), QStringLiteral("850 µs"));
    QCOMPARE(lockscope::formatMicros(3400), QStringLiteral("3.4 ms"));
    QCOMPARE(lockscope::formatMicros(1'250'000), QStringLiteral("1.25 s"));
}

void TestDuration::formatLatency()
{
    using std::chrono::microseconds;
    // Three significant digits, whatever the size; the boundaries round up into the next form.
    QCOMPARE(lockscope::formatLatency(microseconds(0)), QStringLiteral("0.00 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(210)), QStringLiteral("0.21 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(3'404)), QStringLiteral("3.40 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(9'994)), QStringLiteral("9.99 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(9'996)), QStringLiteral("10.0 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(50'000)), QStringLiteral("50.0 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(99'960)), QStringLiteral("100 ms"));
    QCOMPARE(lockscope::formatLatency(microseconds(1'234'567)), QStringLiteral("1235 ms"));
    // The app passes the user's locale: its decimal separator, and group separators off.
    QLocale german(QLocale::German);
    german.setNumberOptions(QLocale::OmitGroupSeparator);
    QCOMPARE(lockscope::formatLatency(microseconds(3'404), german), QStringLiteral("3,40 ms"));
}

QTEST_GUILESS_MAIN(TestDuration)
#include "tst_duration.moc"
