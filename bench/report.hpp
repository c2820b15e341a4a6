#pragma once

// The figures of one benchmark run: each beside its target and what it is compared to, printed
// as one table and written as one JSON document. Nothing here judges a time by itself: a
// figure is "met" or "missed" only against the target the issue names for it.

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gt::bench {

/// Median, 90th percentile and range of some samples.
struct Stats {
    double median = 0;
    double p90 = 0;
    double min = 0;
    double max = 0;
    std::size_t n = 0;
};

/// The statistics of `samples` (all zero when there are none). p90 is the nearest rank.
Stats stats_of(std::vector<double> samples);

nlohmann::json to_json(const Stats& s);

/// One row of the table.
struct Figure {
    std::string id;    ///< stable key in the JSON, e.g. `heartbeat.n1000.gt_ms`
    std::string name;  ///< what was measured, in words
    std::string value; ///< as printed, e.g. `12.0 ms (p90 14.0, n=15)`
    double number = 0; ///< the headline number (a median for timed figures)
    std::string unit;
    std::string target;      ///< `< 200 ms`; "" when the issue names none
    std::string compared_to; ///< what the figure stands beside; "" when nothing
    std::string ratio;       ///< `3.2x (go/gt)`; "" when none
    std::optional<bool> met; ///< nullopt: no target
    bool skipped = false;    ///< could not be measured here (`note` says why)
    std::string note;        ///< why it missed, what limits it; printed under the table
    nlohmann::json detail = nlohmann::json::object(); ///< raw samples and anything else
};

/// `value` with three significant digits at most, e.g. 0.0123, 1.23, 12.3, 123.
std::string fmt(double value);
/// `12.3 ms (p90 14.0, n=15)`.
std::string fmt_stats(const Stats& s, const std::string& unit);

/// Collects figures and sections in the order they are measured.
class Report {
public:
    void add(Figure f) { m_figures.push_back(std::move(f)); }
    /// Raw data of a section (samples, per-thread counts, the run's conditions).
    void section(const std::string& name, nlohmann::json data) {
        m_sections[name] = std::move(data);
    }
    const std::vector<Figure>& figures() const { return m_figures; }

    /// The table (figure, value, target, compared to, ratio, met) and the notes under it.
    void print_table(std::ostream& out) const;
    /// {"figures": [...], "sections": {...}}.
    nlohmann::json to_json() const;

private:
    std::vector<Figure> m_figures;
    nlohmann::json m_sections = nlohmann::json::object();
};

} // namespace gt::bench
