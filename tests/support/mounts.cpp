#include "support/mounts.hpp"

#include "support/harness.hpp"

#include <filesystem>
#include <unistd.h>

namespace gt::test {

TestMount::TestMount(Kind kind) : m_dir("gt-mount") {
    if (::geteuid() != 0) {
        m_why = "mounting a file system needs root";
    } else if (kind == Kind::btrfs) {
        mount_btrfs();
    } else {
        mount_mixed_overlay();
    }
}

TestMount::~TestMount() {
    for (const auto& target : m_unmount) {
        // Lazy: a test that failed may have left a process in it; the loop device of an image
        // mounted with -o loop is freed when the last user goes (autoclear).
        (void)run_command({"umount", "-l", target});
    }
}

bool TestMount::run(const std::vector<std::string>& argv) {
    if (!m_why.empty()) {
        return false;
    }
    proc::RunResult r;
    try {
        r = run_command(argv);
    } catch (const std::exception& e) {
        m_why = e.what();
        return false;
    }
    if (!r.success()) {
        m_why = argv[0] + " failed (" + r.describe() + "): " + r.err;
        while (!m_why.empty() && m_why.back() == '\n') {
            m_why.pop_back();
        }
    }
    return m_why.empty();
}

void TestMount::mount_btrfs() {
    std::string image = m_dir.path() + "/btrfs.img";
    std::string mnt = m_dir.path() + "/mnt";
    std::filesystem::create_directory(mnt);
    // Sparse: the minimum size of a btrfs is 109 MiB, of which a test writes a few KiB.
    if (run({"truncate", "-s", "128M", image}) && run({"mkfs.btrfs", "-q", image}) &&
        run({"mount", "-o", "loop", image, mnt})) {
        m_unmount.push_back(mnt);
        m_path = mnt;
        (void)run_command({"chmod", "0755", mnt});
    }
}

void TestMount::mount_mixed_overlay() {
    // The lower layer stays on $TMPDIR's file system; the upper one and its work directory go
    // on a tmpfs mounted here, so that the layers never share a device.
    std::string lower = m_dir.path() + "/lower";
    std::string upper_fs = m_dir.path() + "/upper-fs";
    std::string mnt = m_dir.path() + "/mnt";
    for (const auto& d : {lower, upper_fs, mnt}) {
        std::filesystem::create_directory(d);
    }
    if (!run({"mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", upper_fs})) {
        return;
    }
    m_unmount.push_back(upper_fs);
    std::filesystem::create_directory(upper_fs + "/upper");
    std::filesystem::create_directory(upper_fs + "/work");
    std::string options =
        "lowerdir=" + lower + ",upperdir=" + upper_fs + "/upper,workdir=" + upper_fs + "/work";
    if (run({"mount", "-t", "overlay", "overlay", "-o", options, mnt})) {
        m_unmount.insert(m_unmount.begin(), mnt);
        m_path = mnt;
    }
}

} // namespace gt::test
