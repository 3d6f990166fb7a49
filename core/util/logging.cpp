#include "logging.h"

// Every logging category of core. Quiet by default (warnings only): a library that talks to
// Redis must not fill its host's log; QT_LOGGING_RULES="lockscope.*=true" turns them on.
// lockscope.secrets: a missing keychain is normal on servers, and callers report it themselves.
Q_LOGGING_CATEGORY(lcRedis, "lockscope.redis", QtWarningMsg)
Q_LOGGING_CATEGORY(lcBreaker, "lockscope.breaker", QtWarningMsg)
Q_LOGGING_CATEGORY(lcLocalServer, "lockscope.localserver", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSecrets, "lockscope.secrets", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSim, "lockscope.sim")
