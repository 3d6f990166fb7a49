#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lockscope {

namespace {
constexpr int kLinear = 2048;   // exact buckets
constexpr int kSubBuckets = 1024; // per power of two above that
constexpr int kMaxExponent = 63;
constexpr int kBucketCount = kLinear + (kMaxExponent - 11 + 1) * kSubBuckets;
} // namespace

LatencyHistogram::LatencyHistogram() : m_buckets(kBucketCount, 0) {}

int LatencyHistogram::indexOf(quint64 value)
{
    if (value < kLinear)
        return static_cast<int>(value);
    const int k = 63 - std::countl_zero(value); // value in [2^k, 2^(k+1)), k >= 11
    const int shift = k - 10;
    const int sub = static_cast<int>(value >> shift) - kSubBuckets;
    return kLinear + (k - 11) * kSubBuckets + sub;
}

quint64 LatencyHistogram::valueAt(int index)
{
    if (index < kLinear)
        return static_cast<quint64>(index);
    const int k = (index - kLinear) / kSubBuckets + 11;
    const int sub = (index - kLinear) % kSubBuckets;
    const int shift = k - 10;
    // Upper edge of the bucket, so percentiles never under-report.
    return ((static_cast<quint64>(sub + kSubBuckets) + 1) << shift) - 1;
}

void LatencyHistogram::record(quint64 value)
{
    ++m_buckets[static_cast<size_t>(indexOf(value))];
    ++m_count;
    m_sum += value;
    m_min = std::min(m_min, value);
    m_max = std::max(m_max, value);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = m_sum = m_max = 0;
    m_min = ~quint64(0);
}

quint64 LatencyHistogram::percentile(double percentile) const
{
    if (m_count == 0)
        return 0;
    const double p = std::clamp(percentile, 0.0, 100.0);
    const auto target = std::max<quint64>(1, static_cast<quint64>(std::ceil(p / 100.0 * static_cast<double>(m_count))));
    quint64 seen = 0;
    for (size_t i = 0; i < m_buckets.size(); ++i) {
        seen += m_buckets[i];
        if (seen >= target)
            return std::min(valueAt(static_cast<int>(i)), m_max);
    }
    return m_max;
}

} // namespace lockscope
