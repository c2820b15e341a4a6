#include "commands.hpp"

#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gt::client {

namespace {

/// The last `n` lines of the file open at `fd` (reads backwards in blocks).
std::string tail_lines(int fd, int n, off_t size) {
    std::string data;
    off_t pos = size;
    const auto block = static_cast<off_t>(util::k_small_read_size);
    while (pos > 0) {
        off_t start = pos > block ? pos - block : 0;
        std::string chunk(static_cast<std::size_t>(pos - start), '\0');
        ssize_t got = ::pread(fd, chunk.data(), chunk.size(), start);
        if (got <= 0) {
            break;
        }
        chunk.resize(static_cast<std::size_t>(got));
        data.insert(0, chunk);
        pos = start;
        // One more newline than wanted: the text may end with one.
        if (std::count(data.begin(), data.end(), '\n') > n) {
            break;
        }
    }
    std::size_t cut = data.size();
    if (!data.empty() && data.back() == '\n') {
        --cut;
    }
    int seen = 0;
    while (cut > 0) {
        if (data[cut - 1] == '\n' && ++seen == n) {
            break;
        }
        --cut;
    }
    return data.substr(cut);
}

void copy_from(int fd, off_t& offset) {
    char buf[util::k_small_read_size];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n <= 0) {
            break;
        }
        std::cout.write(buf, n);
        offset += n;
    }
    std::cout.flush();
}

} // namespace

int show_logs(const std::string& town, int lines, bool follow) {
    std::string path = state::TownPaths(town).log_file();
    auto opened = util::open_regular(path, O_RDONLY);
    util::Fd fd = opened ? std::move(*opened) : util::Fd();
    if (!opened && (!follow || opened.error_code() != ENOENT)) {
        // Anything but a missing file is an error even with -f: a FIFO would never end.
        std::cerr << "gt daemon logs: " << opened.error() << "\n";
        return opened.error_code() == ENOENT ? 1 : 2;
    }
    off_t offset = 0;
    ino_t inode = 0;
    if (fd) {
        struct stat st {};
        ::fstat(fd.get(), &st);
        inode = st.st_ino;
        std::cout << tail_lines(fd.get(), std::max(lines, 0), st.st_size);
        std::cout.flush();
        offset = st.st_size;
    }
    if (!follow) {
        return 0;
    }
    for (;;) {
        if (fd) {
            copy_from(fd.get(), offset);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            continue; // between rotation's rename and the new file
        }
        if (!fd || st.st_ino != inode) {
            // Rotated: finish the old file, then read the new one from its start.
            if (fd) {
                copy_from(fd.get(), offset);
            }
            auto again = util::open_regular(path, O_RDONLY);
            fd = again ? std::move(*again) : util::Fd();
            inode = st.st_ino;
            offset = 0;
        } else if (st.st_size < offset) {
            offset = 0; // truncated
        }
    }
}

} // namespace gt::client
