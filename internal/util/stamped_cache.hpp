#pragma once

#include "result.hpp"
#include "time.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>

namespace gt::util {

/// One version of a file as its metadata tells it, without reading it: when the contents
/// change, so does one of these (a write moves the times, a replacing rename the inode).
struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
};

/// The stamp of what is at `path` (lstat, or stat when `follow_symlinks`).
Result<FileStamp> file_stamp(const std::string& path, bool follow_symlinks);

/// How long ago a file must have last changed before what was read from it may stand for it
/// while its stamp stays the same. File times move in ticks (a few milliseconds on Linux, up to
/// 2 s on some file systems): a second write within the tick of the first, of the same size,
/// would leave the stamp as it was (git's "racily clean" entries).
inline constexpr Millis k_stamp_settle{2000};

/// True when a read of a file with `stamp`, begun at `now` (the real wall clock: file times
/// come from it), may stand for the file while its stamp stays the same.
bool stamp_settled(const FileStamp& stamp, TimePoint now);

/// What was read from files, kept while each file's stamp stays the same: a heartbeat over a
/// thousand agents asks the file system one `lstat` per file instead of an open, a lock-free
/// read and a parse (design §5.3). The stamp is taken before the read: a file that changes
/// while it is read has a newer stamp by the next look, which reads it again. Only what was
/// read is kept, never a failure: descriptors or memory that ran out once must not hide a file
/// until it changes. Not thread-safe: one owner.
template <typename V>
class StampedCache {
public:
    /// What `read(path)` returns, from the cache when the file's stamp is the one it had when
    /// it was read and settled then. `now` is the real wall clock (stamp_settled()).
    template <typename Read>
    Result<V> get(const std::string& path, bool follow_symlinks, TimePoint now, Read&& read) {
        auto stamp = file_stamp(path, follow_symlinks);
        auto it = m_entries.find(path);
        if (stamp && it != m_entries.end() && it->second.stamp == *stamp) {
            it->second.seen = m_pass;
            ++m_hits;
            return it->second.value;
        }
        Result<V> value = read(path);
        if (stamp && value && stamp_settled(*stamp, now)) {
            m_entries.insert_or_assign(path, Entry{*stamp, *value, m_pass});
        } else if (it != m_entries.end()) {
            m_entries.erase(it);
        }
        return value;
    }

    /// Ends a pass: forgets the files not asked about since the last call.
    void sweep() {
        std::erase_if(m_entries, [this](const auto& kv) { return kv.second.seen != m_pass; });
        ++m_pass;
    }

    std::size_t size() const { return m_entries.size(); }
    /// Answers given from the cache so far.
    std::uint64_t hits() const { return m_hits; }

private:
    struct Entry {
        FileStamp stamp;
        V value;
        std::uint64_t seen = 0;
    };
    std::map<std::string, Entry> m_entries;
    std::uint64_t m_pass = 0;
    std::uint64_t m_hits = 0;
};

} // namespace gt::util
