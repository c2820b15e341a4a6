// gt_bench_micro's Google Benchmark JSON as rows of the table: one per benchmark, named by its
// label, the mean real time per iteration.
#include "sections.hpp"
#include "support/harness.hpp"

namespace gt::bench {

using nlohmann::json;

namespace {

std::string unit_name(const std::string& u) {
    return u == "us" ? "µs" : u;
}

} // namespace

bool fold_micro(const std::string& path, Report& report) {
    json doc = json::parse(test::slurp(path), nullptr, false);
    if (doc.is_discarded() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
        return false;
    }
    for (const auto& b : doc["benchmarks"]) {
        if (!b.is_object() || b.value("run_type", "iteration") != "iteration") {
            continue; // aggregates of repetitions: the iterations are enough
        }
        const std::string name = b.value("name", "");
        const std::string unit = unit_name(b.value("time_unit", "ns"));
        Figure f;
        f.id = "micro." + name;
        f.name = b.value("label", "").empty() ? name : b.value("label", "") + " (`" + name + "`)";
        f.number = b.value("real_time", 0.0);
        f.unit = unit;
        f.value = fmt(f.number) + " " + unit;
        if (b.contains("items_per_second") && b["items_per_second"].is_number() &&
            b["items_per_second"].get<double>() > 0) {
            f.compared_to = fmt(1e9 / b["items_per_second"].get<double>()) + " ns per item";
        }
        if (b.contains("error_message")) {
            f.value = "error: " + b.value("error_message", "");
            f.met = false;
        }
        f.detail = b;
        report.add(f);
    }
    return true;
}

} // namespace gt::bench
