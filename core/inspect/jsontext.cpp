// The layout-keeping JSON writer (see jsontext.h): parses JSON text into a tree that keeps the
// whitespace between the tokens, edits that tree member by member, and writes it back.

#include "jsontext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>

namespace lockscope::inspect::detail {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

JsonText scalarText(const QJsonValue &value)
{
    JsonText text;
    text.raw = compactText(value);
    return text;
}

JsonText fieldText(const Field &field)
{
    return field.text ? *field.text : scalarText(field.value);
}

} // namespace

JsonStyle depthStyle(int depth)
{
    return {"\n" + QByteArray(4 * (depth + 1), ' '), "\n" + QByteArray(4 * (depth + 1), ' '),
            "\n" + QByteArray(4 * depth, ' '), ": "};
}

JsonStyle styleOf(const JsonText &container, const JsonStyle &fallback)
{
    if (container.entries.empty())
        return fallback;
    JsonStyle style;
    style.first = container.entries[0].before;
    style.between = container.entries.size() > 1                 ? container.entries[1].before
                    : container.entries[0].before.contains('\n') ? container.entries[0].before
                                                                 : QByteArray(" ");
    style.tail = container.tail;
    style.colon = container.entries[0].colon.isEmpty() ? fallback.colon : container.entries[0].colon;
    return style;
}

QByteArray spaces(const QByteArray &text, qsizetype &pos)
{
    const qsizetype from = pos;
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    return text.mid(from, pos - from);
}

std::optional<JsonText> parseText(const QByteArray &text, qsizetype &pos, int depth)
{
    if (pos >= text.size() || depth > 64)
        return std::nullopt;
    JsonText value;
    const char c = text[pos];
    if (c == '"') {
        const qsizetype from = pos++;
        while (pos < text.size() && text[pos] != '"')
            pos += text[pos] == '\\' ? 2 : 1;
        if (pos >= text.size())
            return std::nullopt;
        ++pos;
        value.raw = text.mid(from, pos - from);
        return value;
    }
    if (c != '{' && c != '[') {
        const qsizetype from = pos;
        while (pos < text.size() && !isSpace(text[pos]) && text[pos] != ',' && text[pos] != ']' &&
               text[pos] != '}')
            ++pos;
        value.raw = text.mid(from, pos - from);
        return value.raw.isEmpty() ? std::nullopt : std::optional(value);
    }
    value.kind = c;
    const char close = c == '{' ? '}' : ']';
    ++pos;
    QByteArray gap = spaces(text, pos);
    if (pos < text.size() && text[pos] == close) {
        value.tail = gap;
        ++pos;
        return value;
    }
    while (true) {
        JsonEntry entry;
        if (!value.entries.empty()) {
            entry.pre = gap;
            if (pos >= text.size() || text[pos] != ',')
                return std::nullopt;
            ++pos;
            gap = spaces(text, pos);
        }
        entry.before = gap;
        if (c == '{') {
            auto key = parseText(text, pos, depth + 1);
            if (!key || key->kind || !key->raw.startsWith('"'))
                return std::nullopt;
            entry.keyRaw = key->raw;
            entry.key = QJsonDocument::fromJson("[" + key->raw + "]").array().at(0).toString();
            const qsizetype from = pos;
            spaces(text, pos);
            if (pos >= text.size() || text[pos] != ':')
                return std::nullopt;
            ++pos;
            spaces(text, pos);
            entry.colon = text.mid(from, pos - from);
        }
        auto item = parseText(text, pos, depth + 1);
        if (!item)
            return std::nullopt;
        entry.value = std::move(*item);
        value.entries.push_back(std::move(entry));
        gap = spaces(text, pos);
        if (pos < text.size() && text[pos] == close) {
            value.tail = gap;
            ++pos;
            return value;
        }
    }
}

QByteArray writeText(const JsonText &value)
{
    if (!value.kind)
        return value.raw;
    QByteArray out(1, value.kind);
    for (size_t i = 0; i < value.entries.size(); ++i) {
        const JsonEntry &e = value.entries[i];
        if (i > 0)
            out += e.pre + ',';
        out += e.before;
        if (value.kind == '{')
            out += e.keyRaw + e.colon;
        out += writeText(e.value);
    }
    out += value.tail;
    out += value.kind == '{' ? '}' : ']';
    return out;
}

QJsonValue jsonValue(const JsonText &text)
{
    return QJsonDocument::fromJson("[" + writeText(text) + "]").array().at(0);
}

QByteArray compactText(const QJsonValue &value)
{
    const QByteArray array = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

void mergeObject(JsonText &object, const std::vector<Field> &fields, const JsonStyle &fallback)
{
    const JsonStyle style = styleOf(object, fallback);
    std::vector<std::pair<QByteArray, QByteArray>> spacing; // pre and before, by position
    for (const JsonEntry &entry : object.entries)
        spacing.emplace_back(entry.pre, entry.before);
    std::vector<JsonEntry> entries;
    for (JsonEntry &entry : object.entries) {
        const auto field = std::ranges::find(fields, entry.key, &Field::key);
        if (field == fields.end())
            continue;
        const QJsonValue previous = jsonValue(entry.value);
        const bool same = field->same ? field->same(previous)
                          : previous.isDouble() && field->value.isDouble()
                              ? previous.toDouble() == field->value.toDouble()
                              : previous == field->value;
        if (!same && field->isDefault)
            continue;
        if (!same)
            entry.value = fieldText(*field);
        entries.push_back(std::move(entry));
    }
    for (const Field &field : fields) {
        if (field.isDefault || std::ranges::find(entries, field.key, &JsonEntry::key) != entries.end())
            continue;
        JsonEntry entry;
        entry.key = field.key;
        entry.keyRaw = compactText(field.key);
        entry.colon = style.colon;
        entry.value = fieldText(field);
        entries.push_back(std::move(entry));
    }
    // Spacing by position: the first entry keeps the text after the opening bracket.
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i < spacing.size()) {
            entries[i].pre = spacing[i].first;
            entries[i].before = spacing[i].second;
        } else {
            entries[i].before = i == 0 ? style.first : style.between;
            entries[i].pre.clear();
        }
    }
    if (object.entries.empty())
        object.tail = style.tail;
    object.entries = std::move(entries);
}

JsonText freshObject(const std::vector<Field> &fields, const JsonStyle &style)
{
    JsonText object;
    object.kind = '{';
    object.tail = style.tail;
    mergeObject(object, fields, style);
    return object;
}

QStringList keysOf(const JsonText &object)
{
    QStringList keys;
    for (const JsonEntry &entry : object.entries)
        keys << entry.key;
    return keys;
}

const JsonText *member(const JsonText &object, const QString &key)
{
    for (const JsonEntry &entry : object.entries) {
        if (entry.key == key)
            return &entry.value;
    }
    return nullptr;
}

std::vector<int> matchEntries(size_t wanted, const std::vector<JsonEntry> &previous,
                              const std::function<bool(size_t, const JsonEntry &)> &equal,
                              const std::function<bool(size_t, const JsonEntry &)> &similar)
{
    std::vector<int> match(wanted, -1);
    std::vector<bool> used(previous.size(), false);
    for (const auto &test : {equal, similar}) {
        for (size_t i = 0; i < wanted; ++i) {
            for (size_t p = 0; p < previous.size() && match[i] < 0; ++p) {
                if (!used[p] && test(i, previous[p])) {
                    match[i] = int(p);
                    used[p] = true;
                }
            }
        }
    }
    for (size_t i = 0; i < wanted; ++i) {
        if (match[i] < 0 && i < previous.size() && !used[i]) {
            match[i] = int(i);
            used[i] = true;
        }
    }
    return match;
}

void setArray(JsonText &array, std::vector<JsonText> items, const JsonStyle &fallback)
{
    const JsonStyle style = styleOf(array, fallback);
    std::vector<JsonEntry> entries(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        entries[i].value = std::move(items[i]);
        if (i < array.entries.size()) {
            entries[i].before = array.entries[i].before;
            entries[i].pre = array.entries[i].pre;
        } else {
            entries[i].before = i == 0 ? style.first : style.between;
        }
    }
    if (array.entries.empty() || items.empty())
        array.tail = items.empty() ? QByteArray() : style.tail;
    array.entries = std::move(entries);
}

} // namespace lockscope::inspect::detail
