#pragma once

#include "fd.hpp"
#include "result.hpp"
#include "sizes.hpp"
#include "time.hpp"

#include <cerrno>
#include <cstddef>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gt::util {

/// The error_code() of open_regular() and read_file() when what is at the path is not a regular
/// file (a FIFO, device, socket, directory, symlink not to be followed, or symlink loop): the
/// input is bad, not the reading of it (commands exit 2, design §3). Linux has no EFTYPE;
/// EMEDIUMTYPE ("wrong medium type") is the nearest, and nothing gt does to a file returns it.
inline constexpr int k_not_regular = EMEDIUMTYPE;

/// Reads a whole regular file of at most `cap` bytes. Fails (with the errno in error_code())
/// when it is missing, unreadable, not a regular file (k_not_regular), or larger than `cap`.
/// With `follow_symlinks` false a symlink is refused.
Result<std::string> read_file(const std::string& path, std::size_t cap = k_max_file_size,
                              bool follow_symlinks = true);

/// Writes a file atomically: a temp file in the same directory, fsync, rename, fsync of the
/// directory. The temp file is removed if anything fails; a directory at `path` is named as
/// such (k_not_regular).
Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode = 0600);

/// Creates `path` and missing parents; the last component gets `mode` (applied with chmod
/// when it already exists and `enforce_mode` is set).
Status make_dirs(const std::string& path, mode_t mode = 0755, bool enforce_mode = false);

/// Creates `base/rel` and every missing directory between them with `mode` (narrowed by the
/// umask); existing ones are left as they are. `base` must exist; `rel` is relative, '/'-separated.
Status make_dirs_below(const std::string& base, const std::string& rel, mode_t mode);

/// Opens `path` with O_CLOEXEC always added. Returns an invalid Fd and sets errno on failure.
Fd open_cloexec(const std::string& path, int flags, mode_t mode = 0600);

/// Opens (with O_CREAT in `flags`: creates) a regular file without ever blocking: the open is
/// non-blocking and a FIFO, device, socket, directory, symlink loop or (unless
/// `follow_symlinks`) symlink at `path` is refused (k_not_regular) with a message that says
/// what is there ("not a regular file (a FIFO)").
/// The descriptor is close-on-exec and blocking again once it is known to be a regular file.
Result<Fd> open_regular(const std::string& path, int flags, mode_t mode = 0600,
                        bool follow_symlinks = false);

/// What is at `path`, for messages: "a FIFO", "a directory", "a symlink", "a socket",
/// "a device", "a regular file", or "nothing" (symlinks not followed).
std::string describe_file_type(const std::string& path);

/// fsyncs a directory so a rename inside it is durable.
void sync_dir(const std::string& dir);

/// The directory part of `path` ("." when there is none).
std::string dir_name(const std::string& path);

/// True when `path` is a directory (symlinks followed).
bool is_dir(const std::string& path);

/// True when `path` exists (any type, symlinks not followed).
bool path_exists(const std::string& path);

/// One directory entry, typed without following symlinks.
struct DirEntry {
    enum class Type { file, dir, symlink, other };
    std::string name;
    Type type = Type::other;
};

/// The entries of `dir` except "." and "..", sorted by name. Refuses (ELOOP) when `dir` itself is
/// a symlink; entries are typed with lstat semantics, so a symlink is reported as one. An entry
/// removed or renamed between the listing and its lstat (a writer's temp file renamed into
/// place) is left out: it is no longer there to act on.
Result<std::vector<DirEntry>> list_dir(const std::string& dir);

/// True when `name` is a temp file of write_file_atomic: `<name>.tmp.<pid>.<n>`.
bool is_atomic_temp_name(const std::string& name);

/// Removes the temp files that write_file_atomic leaves behind when its writer dies mid-write,
/// last modified before `now - min_age` or (when `writer_gone` is given) written by a process
/// it says is gone (the PID in the name), in `dir` and up to `depth` directory levels below it
/// (symlinks never followed). Returns the paths removed.
std::vector<std::string>
remove_stale_temp_files(const std::string& dir, TimePoint now, Millis min_age, int depth,
                        const std::function<bool(pid_t)>& writer_gone = nullptr);

/// The strerror text for `code`.
std::string errno_text(int code);

/// This program's path (/proc/self/exe), or "gt" when it cannot be read.
std::string self_exe();

} // namespace gt::util
