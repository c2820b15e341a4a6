#include "socket_path.hpp"

#include "state/town.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/un.h>
#include <unistd.h>

namespace gt::daemon {

namespace {

std::string hash_hex(const std::string& text) {
    std::uint64_t h = 1469598103934665603ull; // FNV-1a
    for (unsigned char c : text) {
        h = (h ^ c) * 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace

std::string control_socket_path(const std::string& town) {
    std::string path = state::TownPaths(town).socket_file();
    if (path.size() < sizeof(sockaddr_un{}.sun_path)) {
        return path;
    }
    std::string name = "/gt-" + hash_hex(town) + ".sock";
    if (const char* run = std::getenv("XDG_RUNTIME_DIR");
        run && *run && run[0] == '/' && std::strlen(run) + name.size() < 100) {
        return run + name;
    }
    return "/tmp/gt-" + std::to_string(::getuid()) + name;
}

} // namespace gt::daemon
