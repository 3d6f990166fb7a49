#pragma once

#include <QtGlobal>

#include <vector>

namespace lockscope {

/// A log-linear latency histogram (HDR-style): exact below 2048, then 1024 sub-buckets per
/// power of two (relative error under 0.1 %). Fixed memory (~270 KB), O(1) record, so every
/// sample counts, not a reservoir. Not thread-safe: one per thread, then merge().
class LatencyHistogram
{
public:
    LatencyHistogram();

    void record(quint64 value);
    void merge(const LatencyHistogram &other);
    void clear();

    quint64 count() const { return m_count; }
    quint64 min() const { return m_count ? m_min : 0; }
    quint64 max() const { return m_max; }
    double mean() const { return m_count ? static_cast<double>(m_sum) / static_cast<double>(m_count) : 0.0; }
    /// The smallest recorded bucket value v such that at least `percentile`% of samples are <= v.
    quint64 percentile(double percentile) const;

private:
    static int indexOf(quint64 value);
    static quint64 valueAt(int index);

    std::vector<quint64> m_buckets;
    quint64 m_count = 0;
    quint64 m_sum = 0;
    quint64 m_min = ~quint64(0);
    quint64 m_max = 0;
};

} // namespace lockscope
