#pragma once

#include <QByteArrayView>

namespace lockscope {

/// Redis glob matching, with the semantics of SCAN MATCH and KEYS: `*`, `?`, `[abc]`,
/// `[^a-z]`, and backslash escapes. Byte-wise, so binary keys match as Redis matches them.
bool globMatch(QByteArrayView pattern, QByteArrayView text);

} // namespace lockscope
