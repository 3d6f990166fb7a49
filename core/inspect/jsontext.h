#pragma once

// Internal to core/inspect: edits JSON text while keeping its hand-written layout (used by the
// groups file writer, nodegroup.cpp).
//
// A file that people also edit by hand must not turn into one that lists every default in
// alphabetical order (QJsonObject sorts its keys) when a program saves it: the previous text is
// parsed into a tree that keeps every byte between the tokens, the parts that did not change are
// written back as they were, and only changed members are replaced, added (after the existing
// ones) or removed. New objects copy the layout of a sibling.

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <functional>
#include <optional>
#include <vector>

namespace lockscope::inspect::detail {

struct JsonEntry;

/// A JSON value with the whitespace around its tokens, so that an unchanged value is written
/// back byte for byte.
struct JsonText
{
    char kind = 0;  ///< '{', '[' or 0 for a scalar
    QByteArray raw; ///< a scalar's text
    std::vector<JsonEntry> entries;
    QByteArray tail; ///< whitespace before the closing bracket
};

struct JsonEntry
{
    QByteArray pre;    ///< whitespace before the comma (entries after the first)
    QByteArray before; ///< whitespace before the key (or the array element)
    QByteArray keyRaw; ///< objects: the key as written, quotes included
    QString key;
    QByteArray colon; ///< objects: the text from the key's end to the value
    JsonText value;
};

/// How the entries of a container are spaced.
struct JsonStyle
{
    QByteArray first, between, tail, colon;
};

/// Four spaces per level, one entry per line: the layout of a file written from scratch.
JsonStyle depthStyle(int depth);
/// The spacing `container` already uses; `fallback` for what it does not show (an empty one).
JsonStyle styleOf(const JsonText &container, const JsonStyle &fallback);

/// The whitespace of `text` at `pos`; moves `pos` past it.
QByteArray spaces(const QByteArray &text, qsizetype &pos);
/// Parses text that QJsonDocument has already accepted; nullopt on anything unexpected.
std::optional<JsonText> parseText(const QByteArray &text, qsizetype &pos, int depth = 0);
/// The text of `value`, byte for byte as parsed where nothing changed.
QByteArray writeText(const JsonText &value);
/// What `text` reads as.
QJsonValue jsonValue(const JsonText &text);
/// `value` as compact JSON text.
QByteArray compactText(const QJsonValue &value);

/// A member the writer wants: its value and whether that is the default (then it is only
/// written when the previous text had it with this value).
struct Field
{
    QString key;
    QJsonValue value;
    bool isDefault = false;
    /// Compares a previous value with `value`; null: as JSON.
    std::function<bool(const QJsonValue &)> same;
    /// Objects and arrays built with a layout (a new group's nodes); else written compact.
    std::optional<JsonText> text;
};

/// Brings `object` to `fields`: unchanged members stay as written, changed ones get the new
/// value, default-valued ones that changed are removed, missing non-default ones are appended
/// in the order of `fields`. Members the writer does not know are removed.
void mergeObject(JsonText &object, const std::vector<Field> &fields, const JsonStyle &fallback);
/// A new object of `fields` (those that are not default), spaced as `style`.
JsonText freshObject(const std::vector<Field> &fields, const JsonStyle &style);
/// The keys of an object, in their written order.
QStringList keysOf(const JsonText &object);
/// The value of `object`'s member `key`; null when it has none.
const JsonText *member(const JsonText &object, const QString &key);

/// Picks, for each wanted item, the previous entry it continues (or -1): first one that reads
/// back the same, then by `similar`, then the one at the same position.
std::vector<int> matchEntries(size_t wanted, const std::vector<JsonEntry> &previous,
                              const std::function<bool(size_t, const JsonEntry &)> &equal,
                              const std::function<bool(size_t, const JsonEntry &)> &similar);
/// Fills `array` with `items`: previous entries that continue, spaced as the entry that was at
/// that position before.
void setArray(JsonText &array, std::vector<JsonText> items, const JsonStyle &fallback);

} // namespace lockscope::inspect::detail
