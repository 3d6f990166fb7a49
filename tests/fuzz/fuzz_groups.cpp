// The saved node groups (groups.json): the parser, and the writers that must give a file that
// reads back as the same groups, whether written fresh (toJson) or as an edit of a file written
// by hand (updatedJson, with its own layout-keeping JSON reader).

#include "fuzzcheck.h"
#include "inspect/nodegroup.h"

using lockscope::fuzz::require;
using lockscope::inspect::GroupConfig;

namespace {

/// A config of every kind of node, written as an edit of arbitrary previous text.
const GroupConfig &sampleConfig()
{
    static const GroupConfig config = [] {
        const QByteArray json = R"({"version": 1, "groups": [
            {"name": "payments", "match": ["payments:*"],
             "nodes": [{"url": "redis://10.0.0.5:6379", "production": true, "color": "#d04040"},
                       {"host": "10.0.0.6", "port": 6380, "read_only": true},
                       {"url": "rediss://ops@10.0.0.7:6390/2?sni=redis.internal&verify=0&timeout=1500ms"}]},
            {"name": "local", "nodes": [{"unix_path": "/run/redis/redis.sock", "db": 3}]}]})";
        const auto parsed = GroupConfig::fromJson(json);
        require(parsed.has_value(), "the sample groups parse", parsed ? QString() : parsed.error());
        return *parsed;
    }();
    return config;
}

void requireReadsBack(const GroupConfig &config, const QByteArray &written, const char *property)
{
    const auto back = GroupConfig::fromJson(written);
    require(back.has_value(), property, QString::fromUtf8(written) + (back ? QString() : back.error()));
    require(*back == config, property, QString::fromUtf8(written));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes = lockscope::fuzz::bytesOf(data, size);

    if (const auto config = GroupConfig::fromJson(bytes)) {
        requireReadsBack(*config, config->toJson(true), "toJson(true) reads back as the same groups");
        requireReadsBack(*config, config->updatedJson(bytes, true),
                         "updatedJson(file, true) of a file reads back as its groups");
        GroupConfig merged = *config;
        merged.merge(sampleConfig());
        requireReadsBack(merged, merged.updatedJson(bytes, true),
                         "updatedJson(file, true) reads back as groups merged into it");
        for (const auto &group : config->groups)
            require(config->group(group.name) != nullptr, "every group is found by its name", group.name);
    } else {
        (void)config.error();
    }

    // Arbitrary previous text: the layout-keeping writer reads whatever JSON the file holds.
    requireReadsBack(sampleConfig(), sampleConfig().updatedJson(bytes, true),
                     "updatedJson(any text, true) reads back as the groups written");
    return 0;
}
