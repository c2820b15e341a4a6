// Notifications (mail/<address>/).
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt::state;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

class MailTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = dir.path() + "/town";
        ASSERT_TRUE(init_town(root, "t").ok());
    }
    Mail mail(const std::string& to, const std::string& subject, const char* at = nullptr) {
        Mail m;
        m.to = to;
        m.subject = subject;
        m.body = "body of " + subject;
        m.kind = "GUPP_VIOLATION";
        if (at) {
            m.timestamp = *gt::util::parse_time(at);
        }
        return m;
    }

    gt::test::TempDir dir;
    std::string root;
};

} // namespace

TEST_F(MailTest, SendFillsIdAndTimeAndListsOldestFirst) {
    auto later = send_mail(root, mail("gastown-witness", "second", "2026-11-22T10:00:01Z"));
    auto earlier = send_mail(root, mail("gastown/witness", "first", "2026-11-22T10:00:00Z"));
    auto now = send_mail(root, mail("gastown/witness", "third"));
    ASSERT_TRUE(later.ok()) << later.error();
    ASSERT_TRUE(earlier.ok() && now.ok());
    EXPECT_EQ(later->to, "gastown/witness");
    EXPECT_EQ(later->from, "daemon");
    EXPECT_EQ(later->id.size(), 8u);
    EXPECT_NE(now->timestamp, gt::util::TimePoint{});

    std::string path =
        root + "/mail/gastown/witness/2026-11-22T10:00:01.000Z-" + later->id + ".json";
    EXPECT_TRUE(gt::util::path_exists(path)) << path;
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(mode_of(root + "/mail/gastown"), 0700u);
    EXPECT_EQ(mode_of(root + "/mail/gastown/witness"), 0700u);

    auto list = list_mail(root, *parse_identity("gastown/witness"));
    ASSERT_TRUE(list.ok()) << list.error();
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ((*list)[0].subject, "first");
    EXPECT_EQ((*list)[1].subject, "second");
    EXPECT_EQ((*list)[2].subject, "third");
    EXPECT_EQ((*list)[1].id, later->id);
    EXPECT_EQ((*list)[1].body, "body of second");
    EXPECT_EQ((*list)[1].kind, "GUPP_VIOLATION");
    EXPECT_EQ((*list)[1].timestamp, later->timestamp);
}

TEST_F(MailTest, HostileAddressesAndIdsAreRefused) {
    for (const std::string to : {"../x", "a;b", "$(id)/witness", "", "gastown/../../etc"}) {
        auto r = send_mail(root, mail(to, "x"));
        EXPECT_FALSE(r.ok()) << to;
    }
    Mail m = mail("gastown/witness", "x");
    m.id = "../../evil";
    EXPECT_FALSE(send_mail(root, m).ok());
    EXPECT_FALSE(gt::util::path_exists(root + "/mail/gastown"));
}

TEST_F(MailTest, MissingMailboxIsEmptyAndPolecatBoxIsSeparate) {
    auto none = list_mail(root, *parse_identity("gastown/witness"));
    ASSERT_TRUE(none.ok()) << none.error();
    EXPECT_TRUE(none->empty());
    ASSERT_TRUE(send_mail(root, mail("gastown/polecats/nux", "to nux")).ok());
    ASSERT_TRUE(send_mail(root, mail("gastown/witness", "to witness")).ok());
    auto w = list_mail(root, *parse_identity("gastown/witness"));
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->size(), 1u);
    EXPECT_EQ((*w)[0].subject, "to witness");
}

TEST_F(MailTest, InvalidMailFilesAreSkippedAndNamed) {
    ASSERT_TRUE(send_mail(root, mail("deacon", "good")).ok());
    std::string box = root + "/mail/deacon";
    std::ofstream(box + "/0-bad.json") << "not json";
    std::ofstream(box + "/1-array.json") << "[]";
    std::ofstream(box + "/2-nosubject.json")
        << R"({"id":"a","to":"deacon","timestamp":"2026-11-22T10:00:00Z"})";
    std::ofstream(box + "/3-big.json") << std::string(2 << 20, ' ');
    std::ofstream(box + "/x.json.tmp.1.2") << "partial";
    ASSERT_EQ(::symlink("/etc/passwd", (box + "/4-link.json").c_str()), 0);
    std::vector<std::string> skipped;
    auto list = list_mail(root, *parse_identity("deacon"), &skipped);
    ASSERT_TRUE(list.ok()) << list.error();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].subject, "good");
    ASSERT_EQ(skipped.size(), 5u);
    std::string all;
    for (const auto& s : skipped) {
        all += s + "\n";
    }
    for (const char* name :
         {"0-bad.json", "1-array.json", "subject: missing", "3-big.json", "4-link.json"}) {
        EXPECT_TRUE(has(all, name)) << name << " not in\n" << all;
    }
}

TEST_F(MailTest, SymlinkedMailboxIsRefused) {
    std::string elsewhere = dir.path() + "/elsewhere";
    ASSERT_TRUE(gt::util::make_dirs(elsewhere + "/witness").ok());
    ASSERT_EQ(::symlink(elsewhere.c_str(), (root + "/mail/gastown").c_str()), 0);
    auto list = list_mail(root, *parse_identity("gastown/witness"));
    ASSERT_FALSE(list.ok());
    EXPECT_TRUE(has(list.error(), "symlink")) << list.error();
}
