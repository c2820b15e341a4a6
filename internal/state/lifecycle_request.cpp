#include "lifecycle_request.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace gt::state {

namespace {

using Type = util::DirEntry::Type;

/// A writer's temp file (`<name>.json.tmp.<pid>.<n>`): not a request yet.
bool is_temp_file(const std::string& name) {
    return name.find(".json.tmp.") != std::string::npos;
}

std::string not_a_file(const std::string& path, Type type) {
    return type == Type::dir ? "a directory, not a request file (never entered)"
                             : "not a regular file (" + util::describe_file_type(path) + ")";
}

} // namespace

const char* lifecycle_action_name(LifecycleAction a) {
    switch (a) {
    case LifecycleAction::cycle:
        return "cycle";
    case LifecycleAction::restart:
        return "restart";
    case LifecycleAction::shutdown:
        return "shutdown";
    }
    return "restart";
}

util::Result<LifecycleRequest> parse_request(const std::string& text) {
    auto doc = parse_json(text, "request");
    if (!doc) {
        return util::err("not JSON");
    }
    if (!doc->is_object()) {
        return util::err(std::string("not a JSON object (") + doc->type_name() + ")");
    }
    LifecycleRequest r;
    // A field of the wrong type counts as missing: the reason names it either way.
    FieldReader in("request", *doc, {.lenient = true});
    std::optional<std::string> action, from, timestamp, id;
    in.string("action", action);
    in.string("from", from);
    in.string("timestamp", timestamp);
    in.string("id", id);
    if (!action) {
        return util::err("action: missing or not a string");
    }
    if (*action == "cycle") {
        r.action = LifecycleAction::cycle;
    } else if (*action == "restart") {
        r.action = LifecycleAction::restart;
    } else if (*action == "shutdown") {
        r.action = LifecycleAction::shutdown;
    } else {
        return util::err("action: unknown action (expected cycle, restart or shutdown)");
    }
    if (!from) {
        return util::err("from: missing or not a string");
    }
    auto who = state::parse_identity(*from);
    if (!who) {
        return util::err("from: " + who.error());
    }
    r.from = *who;
    if (!timestamp) {
        return util::err("timestamp: missing or not a string");
    }
    auto t = util::parse_time(*timestamp);
    if (!t) {
        return util::err("timestamp: " + t.error());
    }
    r.timestamp = *t;
    if (id) {
        // At most 128 bytes, cut between UTF-8 characters: the id goes into JSON (events).
        std::size_t n = std::min<std::size_t>(id->size(), 128);
        while (n > 0 && n < id->size() && (static_cast<unsigned char>((*id)[n]) & 0xc0) == 0x80) {
            --n;
        }
        r.id = id->substr(0, n);
    }
    return r;
}

LifecycleInbox::LifecycleInbox(std::string requests_dir) : m_dir(std::move(requests_dir)) {}

void LifecycleInbox::reject(const std::string& path, const std::string& name,
                            const std::string& reason, Batch& batch) {
    // Under a name whose entry and reason are both free (`<name>`, else `<name>.1`, …): the
    // reason is written first, so a daemon killed between the two leaves the request in the
    // inbox (rejected again next time), never a rejected request without its reason, and no
    // earlier rejected request loses its own.
    auto free_name = [&](const std::string& kept) {
        const std::string target = m_dir + "/rejected/" + kept;
        return !util::path_exists(target) && !util::path_exists(target + ".reason");
    };
    std::string kept = name;
    for (int n = 1; n <= 100 && !free_name(kept); ++n) {
        kept = name + "." + std::to_string(n);
    }
    const std::string target = m_dir + "/rejected/" + kept;
    const bool was_free = free_name(kept); // else 100 names were taken: the last is replaced
    // A reason that cannot be written is still in the log and events.jsonl.
    (void)util::write_file_atomic(target + ".reason", reason + "\n");
    if (::rename(path.c_str(), target.c_str()) != 0) {
        if (was_free) {
            ::unlink((target + ".reason").c_str());
        }
        if (::unlink(path.c_str()) != 0) { // never process it twice
            ::rmdir(path.c_str());
        }
    }
    batch.rejected.emplace_back(kept, reason);
}

LifecycleInbox::Batch
LifecycleInbox::claim(util::TimePoint now, util::Millis max_age,
                      const std::function<bool(const state::Identity&)>& known) {
    Batch batch;
    for (const char* sub : {"/claimed", "/rejected"}) {
        util::make_dirs(m_dir + sub, 0700, true);
    }
    if (auto inbox = util::list_dir(m_dir)) {
        for (const auto& e : *inbox) {
            std::string path = m_dir + "/" + e.name;
            bool own_dir = e.name == "claimed" || e.name == "rejected";
            if ((e.type == Type::dir && own_dir) ||
                (e.type == Type::file && is_temp_file(e.name))) {
                continue;
            }
            if (e.type != Type::file) {
                reject(path, e.name, not_a_file(path, e.type), batch);
            } else if (!e.name.ends_with(".json")) {
                reject(path, e.name, "not a request file name (expected <id>.json)", batch);
            } else {
                // Claiming is the rename: a request is taken by exactly one daemon.
                ::rename(path.c_str(), (m_dir + "/claimed/" + e.name).c_str());
            }
        }
    }
    auto claimed = util::list_dir(m_dir + "/claimed");
    if (!claimed) {
        return batch;
    }
    for (const auto& e : *claimed) {
        std::string path = m_dir + "/claimed/" + e.name;
        if (e.type != Type::file) {
            reject(path, e.name, not_a_file(path, e.type), batch);
            continue;
        }
        auto text = util::read_file(path, k_max_request_size, false);
        if (!text) {
            reject(path, e.name,
                   text.error_code() == EFBIG
                       ? "larger than " + std::to_string(k_max_request_size / 1024) + " KiB"
                       : text.error(),
                   batch);
            continue;
        }
        auto r = parse_request(*text);
        if (!r) {
            reject(path, e.name, r.error(), batch);
            continue;
        }
        r->file = path;
        if (r->id.empty()) {
            r->id = e.name.substr(0, e.name.size() - std::min<std::size_t>(e.name.size(), 5));
        }
        if (!known(r->from)) {
            reject(path, e.name, "from: no such agent in this town: " + r->from.str(), batch);
        } else if (r->timestamp - now > k_max_request_skew) {
            // It would never expire, and would outrank every real request for its agent.
            reject(path, e.name,
                   "timestamp: " + util::format_time(r->timestamp) +
                       " is in the future (the daemon's clock says " + util::format_time(now) + ")",
                   batch);
        } else if (now - r->timestamp > max_age) {
            ::unlink(path.c_str());
            batch.expired.push_back(std::move(*r));
        } else {
            batch.valid.push_back(std::move(*r));
        }
    }
    return batch;
}

void LifecycleInbox::finish(const LifecycleRequest& r) {
    ::unlink(r.file.c_str());
}

} // namespace gt::state
