#include "uilogging.h"

Q_LOGGING_CATEGORY(lcUi, "lockscope.ui", QtWarningMsg)
