#pragma once

namespace lockscope::util {

/// CPUs this process may actually run on: the affinity mask (taskset, cpusets) and, under
/// cgroup v2, the CPU quota (`cpu.max`, rounded up) of the process's cgroup, whichever is
/// smaller; at least 1. Unlike std::thread::hardware_concurrency(), which counts the host's
/// cores, this is right inside a container limited to 1 CPU on a 64-core host. Read once.
int usableCpuCount();

/// The same computation from given inputs (for tests): `affinity` CPUs in the mask (0 =
/// unknown), `cpuMax` the text of cgroup v2's cpu.max ("max 100000", "150000 100000"; empty
/// = no cgroup file), `hardware` the host's count.
int usableCpuCount(int affinity, const char *cpuMax, int hardware);

} // namespace lockscope::util
