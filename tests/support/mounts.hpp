#pragma once

#include "support/temp_dir.hpp"

#include <string>
#include <vector>

namespace gt::test {

/// A file system mounted for one test, unmounted (and its loop device freed) on destruction:
/// a btrfs made in a loop-mounted image, or an overlayfs whose layers lie on two different file
/// systems (the lower one in $TMPDIR, the upper one on a tmpfs of its own). Both need root and a
/// kernel that can mount them; where that is not so, ok() is false and why() says what failed,
/// for the test's skip message.
class TestMount {
public:
    enum class Kind { btrfs, mixed_overlay };
    explicit TestMount(Kind kind);
    TestMount(const TestMount&) = delete;
    TestMount& operator=(const TestMount&) = delete;
    ~TestMount();

    bool ok() const { return m_why.empty(); }
    const std::string& why() const { return m_why; }
    /// The mounted directory (empty unless ok()).
    const std::string& path() const { return m_path; }

private:
    void mount_btrfs();
    void mount_mixed_overlay();
    /// Runs a command; on failure records why and returns false.
    bool run(const std::vector<std::string>& argv);

    TempDir m_dir;
    std::string m_path;
    std::string m_why;
    std::vector<std::string> m_unmount; ///< innermost first
};

} // namespace gt::test
