#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gt::bench {

using nlohmann::json;

Stats stats_of(std::vector<double> samples) {
    Stats s;
    if (samples.empty()) {
        return s;
    }
    std::sort(samples.begin(), samples.end());
    s.n = samples.size();
    s.min = samples.front();
    s.max = samples.back();
    std::size_t mid = s.n / 2;
    s.median = s.n % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
    // Nearest rank: the smallest sample with at least 90 % of the samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(s.n)));
    s.p90 = samples[std::max<std::size_t>(rank, 1) - 1];
    return s;
}

json to_json(const Stats& s) {
    return {{"median", s.median}, {"p90", s.p90}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

std::string fmt(double value) {
    char buf[64];
    double a = std::fabs(value);
    if (a == 0 || a >= 100) {
        std::snprintf(buf, sizeof buf, "%.0f", value);
    } else if (a >= 10) {
        std::snprintf(buf, sizeof buf, "%.1f", value);
    } else if (a >= 1) {
        std::snprintf(buf, sizeof buf, "%.2f", value);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g", value);
    }
    return buf;
}

std::string fmt_stats(const Stats& s, const std::string& unit) {
    if (s.n == 1) {
        return fmt(s.median) + " " + unit + " (n=1)";
    }
    return fmt(s.median) + " " + unit + " (p90 " + fmt(s.p90) + ", n=" + std::to_string(s.n) + ")";
}

namespace {

std::string met_word(const std::optional<bool>& met) {
    return !met ? "—" : *met ? "met" : "**missed**";
}

std::string cell(const std::string& s) {
    return s.empty() ? "—" : s;
}

} // namespace

void Report::print_table(std::ostream& out) const {
    out << "| figure | value | target | compared to | ratio | met |\n"
        << "|---|---|---|---|---|---|\n";
    for (const auto& f : m_figures) {
        out << "| " << f.name << " | " << f.value << " | " << cell(f.target) << " | "
            << cell(f.compared_to) << " | " << cell(f.ratio) << " | "
            << (f.skipped ? "**not measured**" : met_word(f.met)) << " |\n";
    }
    bool header = false;
    for (const auto& f : m_figures) {
        if (f.note.empty()) {
            continue;
        }
        if (!header) {
            out << "\nNotes:\n";
            header = true;
        }
        out << "- " << f.name << ": " << f.note << "\n";
    }
}

json Report::to_json() const {
    json figures = json::array();
    for (const auto& f : m_figures) {
        json j = {{"id", f.id},
                  {"figure", f.name},
                  {"value", f.number},
                  {"unit", f.unit},
                  {"shown", f.value},
                  {"target", f.target},
                  {"compared_to", f.compared_to},
                  {"ratio", f.ratio},
                  {"met", f.met ? json(*f.met) : json(nullptr)},
                  {"skipped", f.skipped},
                  {"note", f.note},
                  {"detail", f.detail}};
        figures.push_back(std::move(j));
    }
    return {{"figures", figures}, {"sections", m_sections}};
}

} // namespace gt::bench
