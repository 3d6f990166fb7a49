#include "cpus.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <string>
#include <thread>

namespace lockscope::util {

namespace {

/// The cgroup v2 directory of this process ("0::/some/path" in /proc/self/cgroup).
std::string cgroupCpuMax()
{
    std::ifstream cgroups("/proc/self/cgroup");
    std::string line;
    while (std::getline(cgroups, line)) {
        if (line.rfind("0::", 0) != 0)
            continue;
        std::ifstream file("/sys/fs/cgroup" + line.substr(3) + "/cpu.max");
        std::string text;
        if (std::getline(file, text))
            return text;
    }
    // A container usually sees its own cgroup as the root.
    std::ifstream root("/sys/fs/cgroup/cpu.max");
    std::string text;
    std::getline(root, text);
    return text;
}

} // namespace

int usableCpuCount(int affinity, const char *cpuMax, int hardware)
{
    int count = affinity > 0 ? affinity : std::max(1, hardware);
    if (cpuMax && *cpuMax && std::strncmp(cpuMax, "max", 3) != 0) {
        char *end = nullptr;
        const double quota = std::strtod(cpuMax, &end);
        const double period = end ? std::strtod(end, nullptr) : 0.0;
        if (quota > 0 && period > 0) {
            const double cpus = quota / period;
            const int rounded = static_cast<int>(cpus);
            count = std::min(count, std::max(1, rounded + (cpus > rounded ? 1 : 0)));
        }
    }
    return std::max(1, count);
}

int usableCpuCount()
{
    static const int count = [] {
        cpu_set_t set;
        CPU_ZERO(&set);
        const int affinity = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
        const std::string cpuMax = cgroupCpuMax();
        return usableCpuCount(affinity, cpuMax.c_str(),
                              static_cast<int>(std::thread::hardware_concurrency()));
    }();
    return count;
}

} // namespace lockscope::util
