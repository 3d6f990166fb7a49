// displayText() and csvField(): what reaches a terminal or a CSV file from a key or a value.

#include "util/displaytext.h"

#include <QTest>

using lockscope::csvField;
using lockscope::displayText;

class TestDisplayText : public QObject
{
    Q_OBJECT

private slots:
    // What displayText() writes reads back to the same bytes: every byte value, control
    // characters, invalid UTF-8 and literal backslashes.
    void displayedFormReadsBack()
    {
        QList<QByteArray> samples{
            QByteArray("plain:key"), QByteArray("mix2:\xffkey"), QByteArray("esc:\x1b[31mRED\r\nfake"),
            QByteArray("back\\slash\\x41"), QByteArray("utf8:\xc3\xa9t\xc3\xa9"),
            QByteArray("fffd:\xef\xbf\xbd"), QByteArray("nul:\0end", 8), QByteArray()};
        QByteArray all;
        for (int b = 0; b < 256; ++b)
            all.append(char(b));
        samples << all;
        for (const QByteArray &bytes : samples) {
            const QString shown = lockscope::displayText(bytes);
            QString error;
            const auto back = lockscope::bytesFromDisplayText(shown, &error);
            QVERIFY2(back.has_value(), qPrintable(error));
            QCOMPARE(*back, bytes);
        }
        // Typed by hand: a backslash that starts no escape is kept.
        QCOMPARE(*lockscope::bytesFromDisplayText(u"dir\\file"), QByteArray("dir\\file"));
        QCOMPARE(*lockscope::bytesFromDisplayText(u"a\\x4"), QByteArray("a\\x4"));
        // U+FFFD stands for bytes that were lost on the way: refused, saying how to write them.
        QString error;
        QVERIFY(!lockscope::bytesFromDisplayText(QStringLiteral("mix2:\uFFFDkey"), &error));
        QVERIFY2(error.contains(QStringLiteral("\\xNN")), qPrintable(error));
    }

    void display_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << QByteArray() << QString();
        QTest::newRow("plain") << QByteArray("ls1 tok=abc fence=1") << QStringLiteral("ls1 tok=abc fence=1");
        QTest::newRow("escape sequences") << QByteArray("esc:\x1b[31mRED\x1b[0m\x1b[2J")
                                          << QStringLiteral("esc:\\x1b[31mRED\\x1b[0m\\x1b[2J");
        QTest::newRow("cr lf tab") << QByteArray("a\r\nb\tc") << QStringLiteral("a\\r\\nb\\tc");
        QTest::newRow("backslash") << QByteArray("a\\x1b") << QStringLiteral("a\\\\x1b");
        QTest::newRow("nul del bel") << QByteArray("\0\x7f\x07", 3) << QStringLiteral("\\x00\\x7f\\x07");
        QTest::newRow("utf-8 kept") << QByteArray("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x92")
                                    << QStringLiteral("caf\u00e9 \u2713 \U0001f512");
        QTest::newRow("invalid utf-8") << QByteArray("\xff\xc3", 2) << QStringLiteral("\\xff\\xc3");
        QTest::newRow("overlong") << QByteArray("\xc0\xaf") << QStringLiteral("\\xc0\\xaf");
        QTest::newRow("truncated") << QByteArray("a\xe2\x9c") << QStringLiteral("a\\xe2\\x9c");
        // C1 CSI (U+009B) acts like ESC [ on some terminals; U+202E reverses the line.
        QTest::newRow("c1 csi") << QByteArray("\xc2\x9b"
                                              "2J")
                                << QStringLiteral("\\xc2\\x9b2J");
        QTest::newRow("bidi override") << QByteArray("a\xe2\x80\xae"
                                                     "b")
                                       << QStringLiteral("a\\xe2\\x80\\xaeb");
    }
    void display()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QCOMPARE(displayText(bytes), expected);
        QCOMPARE(displayText(QString::fromUtf8(bytes)).isEmpty(), bytes.isEmpty());
    }

    void displayFromString()
    {
        QCOMPARE(displayText(QStringLiteral("owner\r\nfake")), QStringLiteral("owner\\r\\nfake"));
        QCOMPARE(displayText(QStringLiteral("\u00e9t\u00e9")), QStringLiteral("\u00e9t\u00e9"));
    }

    void csv_data()
    {
        QTest::addColumn<QString>("cell");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << QStringLiteral("lock:a") << QStringLiteral("lock:a");
        QTest::newRow("empty") << QString() << QString();
        QTest::newRow("comma") << QStringLiteral("a,b") << QStringLiteral("\"a,b\"");
        QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QStringLiteral("\"say \"\"hi\"\"\"");
        QTest::newRow("newline") << QStringLiteral("a\nb") << QStringLiteral("\"a\nb\"");
        QTest::newRow("formula") << QStringLiteral("=cmd|' /C calc'!A0")
                                 << QStringLiteral("'=cmd|' /C calc'!A0");
        QTest::newRow("plus") << QStringLiteral("+1+2") << QStringLiteral("'+1+2");
        QTest::newRow("minus") << QStringLiteral("-2+3+cmd|' /C calc'!A0")
                               << QStringLiteral("'-2+3+cmd|' /C calc'!A0");
        QTest::newRow("at") << QStringLiteral("@SUM(A1)") << QStringLiteral("'@SUM(A1)");
        QTest::newRow("tab") << QStringLiteral("\t=1") << QStringLiteral("'\t=1");
        QTest::newRow("cr") << QStringLiteral("\r=1") << QStringLiteral("\"'\r=1\"");
        QTest::newRow("formula and comma") << QStringLiteral("=A1,B1") << QStringLiteral("\"'=A1,B1\"");
        QTest::newRow("dash placeholder") << QStringLiteral("-") << QStringLiteral("-");
        QTest::newRow("negative number") << QStringLiteral("-1") << QStringLiteral("-1");
        QTest::newRow("middle equals") << QStringLiteral("a=b") << QStringLiteral("a=b");
    }
    void csv()
    {
        QFETCH(QString, cell);
        QFETCH(QString, expected);
        QCOMPARE(csvField(cell), expected);
    }

    void csvOfDisplayTextHasNoControlCharacters()
    {
        const QString field = csvField(displayText(QByteArrayView("=x\x1b[2J\r\n,y")));
        QCOMPARE(field, QStringLiteral("\"'=x\\x1b[2J\\r\\n,y\""));
        for (const QChar c : field)
            QVERIFY(c.isPrint());
    }
};

QTEST_GUILESS_MAIN(TestDisplayText)
#include "tst_displaytext.moc"
