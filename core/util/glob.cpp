#include "glob.h"

#include <utility>

namespace lockscope {

namespace {

bool matchRange(const char *p, const char *pEnd, const char *s, const char *sEnd)
{
    while (p < pEnd) {
        switch (*p) {
        case '*': {
            while (p + 1 < pEnd && p[1] == '*')
                ++p;
            if (p + 1 == pEnd)
                return true;
            for (const char *t = s; t <= sEnd; ++t) {
                if (matchRange(p + 1, pEnd, t, sEnd))
                    return true;
            }
            return false;
        }
        case '?':
            if (s == sEnd)
                return false;
            ++s;
            ++p;
            break;
        case '[': {
            if (s == sEnd)
                return false;
            ++p;
            const bool negate = p < pEnd && *p == '^';
            if (negate)
                ++p;
            bool matched = false;
            while (p < pEnd && *p != ']') {
                if (*p == '\\' && p + 1 < pEnd) {
                    ++p;
                    matched = matched || *p == *s;
                    ++p;
                } else if (p + 2 < pEnd && p[1] == '-' && p[2] != ']') {
                    char lo = p[0];
                    char hi = p[2];
                    if (lo > hi)
                        std::swap(lo, hi);
                    matched = matched || (*s >= lo && *s <= hi);
                    p += 3;
                } else {
                    matched = matched || *p == *s;
                    ++p;
                }
            }
            if (p < pEnd)
                ++p; // the closing ']'
            if (matched == negate)
                return false;
            ++s;
            break;
        }
        case '\\':
            if (p + 1 < pEnd)
                ++p;
            [[fallthrough]];
        default:
            if (s == sEnd || *p != *s)
                return false;
            ++s;
            ++p;
            break;
        }
    }
    return s == sEnd;
}

} // namespace

bool globMatch(QByteArrayView pattern, QByteArrayView text)
{
    return matchRange(pattern.data(), pattern.data() + pattern.size(), text.data(),
                      text.data() + text.size());
}

} // namespace lockscope
