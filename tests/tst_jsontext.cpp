// The layout-keeping JSON writer of core/inspect/jsontext.h, on its own: what it promises about
// the bytes of a hand-written document (the groups file tests check the same through
// GroupConfig::updatedJson).

#include "inspect/jsontext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace lockscope::inspect::detail;

class TestJsonText : public QObject
{
    Q_OBJECT

private slots:
    void unchangedDocumentIsByteIdentical_data();
    void unchangedDocumentIsByteIdentical();
    void mergeWithSameValuesKeepsEveryByte();
    void changingOneMemberKeepsTheOtherBytes();
    void newMemberCopiesSiblingIndentation();
    void newObjectCopiesSiblingLayout();
    void removingAMember();
    void defaultValuedMemberThatChangedIsRemoved();
    void arrayKeepsSpacingByPosition();
    void matchPrefersEqualThenSimilarThenPosition();
    void refusesTruncatedText();
};

/// Parses the whole of `text` (leading whitespace included) and fails the test when it cannot.
static JsonText parsed(const QByteArray &text)
{
    qsizetype pos = 0;
    spaces(text, pos);
    auto value = parseText(text, pos);
    if (!value)
        qFatal("not parsed: %s", text.constData());
    return *value;
}

static Field field(const char *key, const QJsonValue &value, bool isDefault = false)
{
    return Field{QLatin1String(key), value, isDefault, {}, {}};
}

// A compact key, a spaced colon, a tab, CRLF line ends, a key written with an escape, a number
// written as "1.0": none of it is what QJsonDocument would write.
static const QByteArray kHandWritten = "{\r\n"
                                       "  \"name\": \"payments\",\r\n"
                                       "  \"port\":6379,  \"tls\" : true,\r\n"
                                       "\t\"\\u0061\": 1.0 ,\r\n"
                                       "  \"nodes\": [ {\"host\":\"a\"},\n      {\"host\": \"b\"} ]\r\n"
                                       "}";

void TestJsonText::unchangedDocumentIsByteIdentical_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("hand-written") << kHandWritten;
    QTest::newRow("compact") << QByteArray(R"({"a":[1,2,{"b":null}],"c":"x\"y"})");
    QTest::newRow("empty containers") << QByteArray("{ \"a\": [ ], \"b\": {\n} }");
    QTest::newRow("scalar") << QByteArray("-12.5e3");
}

void TestJsonText::unchangedDocumentIsByteIdentical()
{
    QFETCH(QByteArray, text);
    qsizetype pos = 0;
    const auto value = parseText(text, pos);
    QVERIFY(value);
    QCOMPARE(pos, text.size());
    QCOMPARE(writeText(*value), text);
    QCOMPARE(jsonValue(*value), QJsonDocument::fromJson("[" + text + "]").array().at(0));
}

void TestJsonText::mergeWithSameValuesKeepsEveryByte()
{
    JsonText object = parsed(kHandWritten);
    const JsonText *nodes = member(object, QStringLiteral("nodes"));
    QVERIFY(nodes);
    const QByteArray nodesText = writeText(*nodes);
    std::vector<Field> fields{
        field("name", QStringLiteral("payments")), field("port", 6379), field("tls", true),
        field("a", 1), // read back as 1.0: the same number
        Field{QStringLiteral("nodes"), QJsonValue(), false, [](const QJsonValue &) { return true; }, {}}};
    mergeObject(object, fields, depthStyle(0));
    QCOMPARE(writeText(object), kHandWritten);
    QCOMPARE(writeText(*member(object, QStringLiteral("nodes"))), nodesText);
}

void TestJsonText::changingOneMemberKeepsTheOtherBytes()
{
    JsonText object = parsed(kHandWritten);
    std::vector<Field> fields{
        field("name", QStringLiteral("payments")), field("port", 7000), field("tls", true), field("a", 1),
        Field{QStringLiteral("nodes"), QJsonValue(), false, [](const QJsonValue &) { return true; }, {}}};
    mergeObject(object, fields, depthStyle(0));
    QByteArray expected = kHandWritten;
    expected.replace("6379", "7000");
    QCOMPARE(writeText(object), expected);
}

void TestJsonText::newMemberCopiesSiblingIndentation()
{
    const QByteArray text = "{\n"
                            "      \"name\":  \"payments\",\n"
                            "      \"port\":  6379\n"
                            "   }";
    JsonText object = parsed(text);
    mergeObject(object,
                {field("name", QStringLiteral("payments")), field("port", 6379), field("db", 2),
                 field("user", QStringLiteral("x"), true)}, // default-valued: never added
                depthStyle(0));
    // The new member: after the others, indented and spaced after its colon as its siblings.
    QCOMPARE(writeText(object), QByteArray("{\n"
                                           "      \"name\":  \"payments\",\n"
                                           "      \"port\":  6379,\n"
                                           "      \"db\":  2\n"
                                           "   }"));
}

void TestJsonText::newObjectCopiesSiblingLayout()
{
    JsonText array = parsed("[\n  {\n    \"host\": \"a\",\n    \"port\": 1\n  }\n]");
    const JsonText sibling = array.entries[0].value;
    JsonText fresh =
        freshObject({field("host", QStringLiteral("b")), field("port", 2)}, styleOf(sibling, depthStyle(7)));
    setArray(array, {sibling, fresh}, styleOf(array, depthStyle(7)));
    QCOMPARE(writeText(array), QByteArray("[\n"
                                          "  {\n    \"host\": \"a\",\n    \"port\": 1\n  },\n"
                                          "  {\n    \"host\": \"b\",\n    \"port\": 2\n  }\n"
                                          "]"));
    // With no sibling to copy: four spaces a level.
    const JsonText plain = freshObject({field("host", QStringLiteral("c"))}, depthStyle(1));
    QCOMPARE(writeText(plain), QByteArray("{\n        \"host\": \"c\"\n    }"));
}

void TestJsonText::removingAMember()
{
    const QByteArray text = "{ \"a\": 1,\n  \"b\":2 ,  \"c\": 3\n}";
    JsonText object = parsed(text);
    // "b" is not among the fields: removed; the entries after it take the spacing by position.
    mergeObject(object, {field("a", 1), field("c", 3)}, depthStyle(0));
    QCOMPARE(writeText(object), QByteArray("{ \"a\": 1,\n  \"c\": 3\n}"));
    QVERIFY(!member(object, QStringLiteral("b")));
    QCOMPARE(keysOf(object), (QStringList{QStringLiteral("a"), QStringLiteral("c")}));

    // Every element gone: an empty array, without the old whitespace before its bracket.
    JsonText emptied = parsed("[ 1, 2 ]");
    setArray(emptied, {}, depthStyle(0));
    QCOMPARE(writeText(emptied), QByteArray("[]"));
}

void TestJsonText::defaultValuedMemberThatChangedIsRemoved()
{
    JsonText object = parsed("{\"host\": \"h\", \"tls\": true, \"db\": 0}");
    // tls went back to its default: removed. db is written with its default value: kept as is.
    mergeObject(object, {field("host", QStringLiteral("h")), field("tls", false, true), field("db", 0, true)},
                depthStyle(0));
    QCOMPARE(writeText(object), QByteArray("{\"host\": \"h\", \"db\": 0}"));
}

void TestJsonText::arrayKeepsSpacingByPosition()
{
    JsonText array = parsed("[1,\n   2,  3]");
    std::vector<JsonText> items;
    for (const JsonEntry &entry : array.entries)
        items.push_back(entry.value);
    items.push_back(parsed("4"));
    setArray(array, items, depthStyle(0));
    // The new fourth element is spaced like the second (the first that follows a comma).
    QCOMPARE(writeText(array), QByteArray("[1,\n   2,  3,\n   4]"));
}

void TestJsonText::matchPrefersEqualThenSimilarThenPosition()
{
    const JsonText array = parsed(R"(["x", "y", "z"])");
    const std::vector<QString> wanted{QStringLiteral("z"), QStringLiteral("q"), QStringLiteral("Y")};
    const auto text = [](const JsonEntry &e) {
        return jsonValue(e.value).toString();
    };
    const std::vector<int> match = matchEntries(
        wanted.size(), array.entries, [&](size_t i, const JsonEntry &e) { return text(e) == wanted[i]; },
        [&](size_t i, const JsonEntry &e) { return text(e).compare(wanted[i], Qt::CaseInsensitive) == 0; });
    // "z" equals entry 2; "Y" is like entry 1; "q" has nothing alike and continues entry 1's
    // position only if that one is free, which it is not: a new item.
    QCOMPARE(match, (std::vector<int>{2, -1, 1}));

    const std::vector<int> byPosition = matchEntries(
        2, array.entries, [](size_t, const JsonEntry &) { return false; },
        [](size_t, const JsonEntry &) { return false; });
    QCOMPARE(byPosition, (std::vector<int>{0, 1}));
}

void TestJsonText::refusesTruncatedText()
{
    for (const QByteArray &text : {QByteArray("{\"a\": 1"), QByteArray("[1, 2"), QByteArray("\"open"),
                                   QByteArray("{\"a\" 1}"), QByteArray("")}) {
        qsizetype pos = 0;
        QVERIFY2(!parseText(text, pos), text.constData());
    }
}

QTEST_GUILESS_MAIN(TestJsonText)
#include "tst_jsontext.moc"
