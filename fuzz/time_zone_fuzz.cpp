// Time zones (design §16.4): a zoneinfo file (TZif, RFC 8536) or a POSIX TZ string, read to turn
// an agent's "resets 5pm (America/Los_Angeles)" into an instant. Never a crash; a zone that
// loads converts instants both ways without one. The first byte chooses: TZif or POSIX string.
#include "fuzz_support.hpp"
#include "util/file.hpp"
#include "util/timezone.hpp"

#include <cstdlib>

using gt::util::TimePoint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string dir = [] {
        std::string zoneinfo = gt::fuzz::scratch_dir() + "/zoneinfo";
        (void)gt::util::make_dirs(zoneinfo + "/Fuzz", 0700);
        ::setenv("TZDIR", zoneinfo.c_str(), 1);
        return zoneinfo;
    }();
    if (size == 0) {
        return 0;
    }
    auto text = gt::fuzz::text_of(data + 1, size - 1);
    gt::util::Result<gt::util::TimeZone> zone = gt::util::TimeZone::utc();
    if (data[0] & 1) {
        gt::fuzz::write_text(dir + "/Fuzz/Zone", text);
        zone = gt::util::TimeZone::load("Fuzz/Zone");
    } else {
        zone = gt::util::TimeZone::from_posix(text);
    }
    if (!zone) {
        return 0;
    }
    using namespace std::chrono;
    for (long long s : {-4'000'000'000LL, 0LL, 1'700'000'000LL, 4'102'444'800LL}) {
        TimePoint t{duration_cast<milliseconds>(seconds(s))};
        auto offset = zone->offset_at(t);
        GT_FUZZ_CHECK(offset > -hours(26) && offset < hours(26), zone->name());
        auto civil = zone->to_local(t);
        (void)zone->from_local(civil);
    }
    return 0;
}
