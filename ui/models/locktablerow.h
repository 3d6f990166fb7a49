#pragma once

// LockTableModel's row, shared by its two source files (locktablemodel.cpp: merging snapshots,
// the countdown; locktablepresentation.cpp: what the rows show). Private to the model.

#include "locktablemodel.h"
#include "locktext.h"

#include <algorithm>
#include <optional>
#include <vector>

struct LockTableModel::Row
{
    QString group;
    lockscope::inspect::LockRecord record;
    QString keyText; ///< the key for people: invalid UTF-8 and control bytes escaped (\xff)
    QString ns;
    QString label;           ///< the majority holder's label
    QString owner;           ///< locktext::ownerText() (cached: sorted and filtered on)
    QString kind;            ///< lockscope::inspect::kindText() (cached: sorted on)
    QDateTime acquiredAt;    ///< the majority holder's, when the format records it
    qint64 ageAtReadMs = -1; ///< acquiredAt to the snapshot's read time; the Age column counts on
    QString tokenText;
    /// When LockRecord::expiredAt() turns true (computed once, so a tick is one
    /// comparison).
    std::optional<Clock::time_point> expiresAt;
    bool expired = false; ///< the countdown ran out after the snapshot (anomaly::Expired added)
    /// The last scan could not confirm the row (a node of the group was unreachable and the key
    /// was not seen elsewhere): shown as last read, marked stale, until a complete scan decides.
    bool stale = false;
    QString staleReason;
    int row = -1;

    void assign(lockscope::inspect::LockRecord next)
    {
        record = std::move(next);
        keyText = locktext::shortText(record.key, 1024);
        ns = LockTableModel::keyNamespace(record.key);
        label = locktext::labelOf(record);
        owner = locktext::ownerText(record);
        kind = lockscope::inspect::kindText(record);
        acquiredAt = {};
        if (const lockscope::inspect::NodeEntry *entry = lockscope::inspect::majorityEntry(record);
            entry && entry->decoded)
            acquiredAt = entry->decoded->acquiredAt;
        ageAtReadMs = acquiredAt.isValid() && record.readAt.isValid()
                          ? std::max<qint64>(0, acquiredAt.msecsTo(record.readAt))
                          : -1;
        tokenText = locktext::shortText(record.token);
        expired = false;
        stale = false;
        staleReason.clear();
        // expiredAt() holds from the longest holder's TTL on; try each node's deadline in order
        // so that the rule stays core's (which nodes count as holders).
        expiresAt.reset();
        std::vector<qint64> ttls;
        for (const lockscope::inspect::NodeEntry &entry : record.nodes) {
            if (entry.present() && entry.raw.pttlMs >= 0)
                ttls.push_back(entry.raw.pttlMs);
        }
        std::sort(ttls.begin(), ttls.end());
        for (const qint64 ttl : ttls) {
            const Clock::time_point at = record.readAtSteady + std::chrono::milliseconds(ttl);
            if (record.expiredAt(at)) {
                expiresAt = at;
                break;
            }
        }
    }

    /// How long the lock has been held at `now`: the age when read, counted on since.
    qint64 ageAt(Clock::time_point now) const
    {
        if (ageAtReadMs < 0)
            return -1;
        return ageAtReadMs +
               std::max<qint64>(
                   0,
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - record.readAtSteady).count());
    }

    bool hasTtl() const { return record.held > 0 && record.minPttlMs >= 0; }
    bool noTtl() const { return record.held > 0 && record.minPttlMs < 0; }
};
