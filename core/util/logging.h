#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcRedis)
/// Circuit breaker transitions ("lockscope.breaker"): warnings when one opens.
Q_DECLARE_LOGGING_CATEGORY(lcBreaker)
Q_DECLARE_LOGGING_CATEGORY(lcLocalServer)
Q_DECLARE_LOGGING_CATEGORY(lcSecrets)
Q_DECLARE_LOGGING_CATEGORY(lcSim)
