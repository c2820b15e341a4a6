// The screen classifier (design §16): a captured pane of any bytes gives readings whose
// evidence is short valid UTF-8 (it goes into JSON), each condition once, never `exited` or
// `unknown` for a live pane, never `working` or `idle` as what a dead one died of, and reset
// times no further than 8 days ahead. The first byte picks the agent kind.
#include "fuzz_support.hpp"
#include "screen/screen.hpp"

#include <map>

using gt::screen::Condition;
using gt::screen::Reading;

namespace {

const gt::util::TimePoint k_now{gt::util::Millis(1'795'341'600'000)}; // 2026-11-22T10:00:00Z

std::optional<gt::util::TimeZone> zone(std::string_view name) {
    static std::map<std::string, std::optional<gt::util::TimeZone>, std::less<>> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        auto z = gt::util::TimeZone::load(name);
        it = cache.emplace(std::string(name), z ? std::optional(*z) : std::nullopt).first;
        if (cache.size() > 4096) { // names the fuzzer makes up
            cache.clear();
            return z ? std::optional(*z) : std::nullopt;
        }
    }
    return it->second;
}

void check_reading(const Reading& r, const std::string& what) {
    GT_FUZZ_CHECK(r.evidence.size() <= 200, what + ": " + r.evidence);
    GT_FUZZ_CHECK(gt::fuzz::valid_utf8(r.evidence), what + ": " + r.evidence);
    bool usage = r.condition == Condition::usage_limited || r.cause == Condition::usage_limited;
    GT_FUZZ_CHECK(!r.resets_at || usage, what);
    GT_FUZZ_CHECK(!r.resets_at || *r.resets_at <= k_now + std::chrono::hours(8 * 24),
                  what + ": " + gt::util::format_time(*r.resets_at));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const gt::screen::Matcher matcher = *gt::screen::Matcher::make({}, true);
    if (size == 0) {
        return 0;
    }
    static constexpr gt::screen::AgentKind k_kinds[] = {
        gt::screen::AgentKind::generic, gt::screen::AgentKind::claude, gt::screen::AgentKind::codex,
        gt::screen::AgentKind::gemini};
    auto kind = k_kinds[data[0] % 4];
    std::string_view screen = gt::fuzz::text_of(data + 1, size - 1);
    gt::screen::ReadContext ctx;
    ctx.now = k_now;
    ctx.local = gt::util::TimeZone::fixed(std::chrono::hours(-8), "PST");
    ctx.zones = zone;

    bool seen[16] = {};
    for (const Reading& r : matcher.read_live(screen, kind, ctx)) {
        std::string what = std::string("live ") + gt::screen::condition_name(r.condition);
        GT_FUZZ_CHECK(r.condition != Condition::exited && r.condition != Condition::unknown, what);
        GT_FUZZ_CHECK(!seen[static_cast<int>(r.condition)], what + " twice");
        seen[static_cast<int>(r.condition)] = true;
        check_reading(r, what);
    }
    Reading dead = matcher.read_dead(screen, kind, ctx);
    std::string what = std::string("dead of ") + gt::screen::condition_name(dead.cause);
    GT_FUZZ_CHECK(dead.condition == Condition::exited, what);
    GT_FUZZ_CHECK(dead.cause != Condition::working && dead.cause != Condition::idle &&
                      dead.cause != Condition::exited,
                  what);
    check_reading(dead, what);
    if (auto t = gt::screen::parse_reset_time(screen, ctx)) {
        GT_FUZZ_CHECK(*t <= k_now + std::chrono::hours(8 * 24), gt::util::format_time(*t));
    }
    return 0;
}
