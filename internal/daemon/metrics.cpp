#include "metrics.hpp"

#include "screen/screen.hpp"
#include "util/time.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

namespace gt::daemon {

namespace {

/// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    return buf;
}

/// An RFC 3339 time of state.json in seconds since the epoch; nullopt when empty or unreadable.
std::optional<double> seconds(const std::string& time) {
    auto t = util::parse_time(time);
    if (!t) {
        return std::nullopt;
    }
    return std::chrono::duration<double>(t->time_since_epoch()).count();
}

/// Writes one metric family at a time.
class Exposition {
public:
    explicit Exposition(std::string town) : m_town("town=\"" + label_value(town) + "\"") {}

    void family(const std::string& name, const char* type, const char* help) {
        m_out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    }
    /// One sample; `labels` is extra `k="v"` text after the town label.
    void sample(const std::string& name, double value, const std::string& labels = "") {
        m_out += name + "{" + m_town + (labels.empty() ? "" : "," + labels) + "} " + number(value) +
                 "\n";
    }
    void one(const std::string& name, const char* type, const char* help, double value) {
        family(name, type, help);
        sample(name, value);
    }
    std::string text() && { return std::move(m_out); }

private:
    std::string m_town;
    std::string m_out;
};

/// state.json's counters as metric families: the counter's key, the metric, its help.
struct CounterMetric {
    const char* key;
    const char* metric;
    const char* help;
};

constexpr CounterMetric k_counters[] = {
    {"restarts", "gt_restarts_total", "Agent sessions started or restarted by the daemon."},
    {"kills", "gt_kills_total", "Agent sessions killed by the daemon."},
    {"marked_dead", "gt_marked_dead_total", "Agents marked dead on two witnesses."},
    {"crash_loops", "gt_crash_loops_total", "Times an agent entered a crash loop."},
    {"notifications", "gt_notifications_total", "Mails the daemon sent."},
    {"bad_files", "gt_bad_files_total", "Files skipped because they could not be read or parsed."},
    {"clock_jumps", "gt_clock_jumps_total", "Wall-clock jumps seen against the monotonic clock."},
    {"resumes", "gt_resumes_total", "Suspends the machine woke from."},
};

} // namespace

std::string metrics_text(const MetricsInput& in) {
    const state::DaemonState& s = *in.state;
    Exposition out(s.town);
    out.family("gt_info", "gauge", "The daemon's version; always 1.");
    out.sample("gt_info", 1, "version=\"" + label_value(s.version) + "\"");
    out.one("gt_daemon_running", "gauge", "1 while the daemon runs; 0 once it stopped cleanly.",
            s.running ? 1 : 0);
    out.one("gt_daemon_start_time_seconds", "gauge",
            "When the daemon started, in seconds since the epoch.",
            seconds(s.started_at).value_or(0));
    out.one("gt_heartbeats_total", "counter", "Heartbeats run since the daemon started.",
            static_cast<double>(s.heartbeat_count));
    out.family("gt_heartbeat_duration_seconds", "summary", "How long heartbeats took.");
    out.sample("gt_heartbeat_duration_seconds_sum", in.heartbeat_seconds_sum);
    out.sample("gt_heartbeat_duration_seconds_count", static_cast<double>(s.heartbeat_count));
    out.one("gt_last_heartbeat_duration_seconds", "gauge", "How long the last heartbeat took.",
            static_cast<double>(s.last_heartbeat_ms) / 1000.0);
    out.family("gt_last_heartbeat_timestamp_seconds", "gauge",
               "When the last heartbeat ended, in seconds since the epoch.");
    if (auto last = seconds(s.last_heartbeat)) { // none yet: no sample, rather than 1970
        out.sample("gt_last_heartbeat_timestamp_seconds", *last);
    }
    out.one("gt_heartbeat_interval_seconds", "gauge", "The configured heartbeat interval.",
            static_cast<double>(s.interval_ms) / 1000.0);
    out.one("gt_tmux_processes_total", "counter", "tmux processes the heartbeats ran.",
            static_cast<double>(in.tmux_calls));
    out.one("gt_agents_supervised", "gauge", "Agents the daemon supervises.",
            static_cast<double>(in.supervised));
    out.one("gt_agents_healthy", "gauge", "Supervised agents whose session and process are alive.",
            static_cast<double>(in.healthy));
    out.family("gt_agents", "gauge", "Supervised agents by the condition their screen shows.");
    for (int c = 0; c <= static_cast<int>(screen::Condition::unknown); ++c) {
        std::string name = screen::condition_name(static_cast<screen::Condition>(c));
        auto it = in.conditions.find(name);
        out.sample("gt_agents", it == in.conditions.end() ? 0 : static_cast<double>(it->second),
                   "condition=\"" + name + "\"");
    }
    out.one("gt_degraded", "gauge", "1 when tmux cannot be run (nothing is supervised).",
            in.degraded ? 1 : 0);
    out.one("gt_storm", "gauge", "1 while several agents died together (a storm).",
            s.storm.empty() ? 0 : 1);
    out.one("gt_start_budget_left", "gauge", "Starts left in the town's start budget.",
            static_cast<double>(s.start_budget_left));
    out.family("gt_lifecycle_requests_total", "counter", "Lifecycle requests by outcome.");
    out.sample("gt_lifecycle_requests_total", static_cast<double>(s.counters.lifecycle_done),
               "outcome=\"done\"");
    out.sample("gt_lifecycle_requests_total", static_cast<double>(s.counters.lifecycle_rejected),
               "outcome=\"rejected\"");
    for (const auto& field : state::Counters::fields()) {
        for (const auto& c : k_counters) {
            if (std::string(c.key) == field.name) {
                out.one(c.metric, "counter", c.help, static_cast<double>(s.counters.*field.member));
            }
        }
    }
    return std::move(out).text();
}

} // namespace gt::daemon
