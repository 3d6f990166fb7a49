#include "logging.h"

Q_LOGGING_CATEGORY(lcRedis, "lockscope.redis", QtWarningMsg)
Q_LOGGING_CATEGORY(lcLocalServer, "lockscope.localserver", QtWarningMsg)
