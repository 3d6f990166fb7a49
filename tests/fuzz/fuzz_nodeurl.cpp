// The node configuration parsers: a node URL (redis://, rediss:// with TLS options, unix://) as
// typed on lockctl's command line or in the app, the same node as a JSON object (groups file),
// and the durations of the timeout options. Whatever parses must survive its own writers: the
// URL and JSON forms read back as the same node.

#include "fuzzcheck.h"
#include "redis/nodeconfig.h"
#include "util/duration.h"

#include <QJsonDocument>
#include <QJsonObject>

using lockscope::fuzz::require;
using lockscope::redis::NodeConfig;

namespace {

/// `typed`: the config came from a URL, so its host is already spelled as a URL spells it. A
/// JSON host is kept as written, which QUrl may respell (" 05.0.0.6" becomes "5.0.0.6").
void checkWriters(const NodeConfig &config, bool typed)
{
    (void)config.label();
    (void)config.address();
    (void)config.toUrl(false);
    (void)config.toJson(false);

    const QString url = config.toUrl(true);
    const auto fromUrl = NodeConfig::fromUrl(url);
    require(fromUrl.has_value(), "toUrl(true) reads back",
            url + QStringLiteral(" -> ") + (fromUrl ? QString() : fromUrl.error().toString()));
    // The URL spells the host as QUrl does (lower case, no IPv6 brackets): the same server.
    require(!typed || lockscope::redis::sameServer(*fromUrl, config),
            "toUrl(true) reads back as the same server", url);
    NodeConfig respelled = config;
    respelled.host = fromUrl->host;
    // A JSON node may keep TLS settings with TLS off ("enabled": false); they do nothing, and
    // a redis:// URL has no place for them.
    if (!config.tls.enabled)
        respelled.tls = {};
    require(*fromUrl == respelled, "toUrl(true) reads back as the same node", url);

    const QJsonObject json = config.toJson(true);
    const auto fromJson = NodeConfig::fromJson(json);
    const QString jsonText = QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact));
    require(fromJson.has_value(), "toJson(true) reads back", jsonText);
    require(*fromJson == config, "toJson(true) reads back as the same node", jsonText);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes = lockscope::fuzz::bytesOf(data, size);
    const QString text = QString::fromUtf8(bytes);

    if (const auto config = NodeConfig::fromUrl(text))
        checkWriters(*config, true);
    else
        (void)config.error().toString();

    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &error);
    if (document.isObject()) {
        if (const auto config = NodeConfig::fromJson(document.object()))
            checkWriters(*config, false);
    }

    const auto duration = lockscope::parseDuration(text);
    require(duration.has_value() == lockscope::durationProblem(text).isEmpty(),
            "durationProblem() is empty exactly when parseDuration() accepts", text);
    if (duration) {
        require(duration->count() >= 0, "a duration is not negative", text);
        (void)lockscope::formatDuration(*duration);
    }
    return 0;
}
