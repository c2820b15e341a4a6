// Notifications in mail/<address>/ (declared in agent_state.hpp).
#include "agent_state.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"
#include "town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/stat.h>

namespace gt::state {

using nlohmann::json;

namespace {

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng() & 0xffffffffu));
    return buf;
}

/// A mail id becomes part of a file name: letters, digits, '_' and '-' only.
bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

} // namespace

json mail_json(const Mail& m) {
    return {{"id", m.id},
            {"from", m.from},
            {"to", m.to},
            {"subject", m.subject},
            {"body", m.body},
            {"kind", m.kind},
            {"timestamp", util::format_time(m.timestamp)}};
}

namespace {

util::Result<Mail> read_mail(const std::string& path) {
    auto doc = read_json(path, util::k_max_file_size, false);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    if (!doc->is_object()) {
        return util::err(path + ": expected a JSON object, got " + doc->type_name());
    }
    Mail m;
    m.from.clear();
    FieldReader in(path, *doc);
    in.string("id", m.id, true);
    in.string("from", m.from);
    in.string("to", m.to, true);
    in.string("subject", m.subject, true);
    in.string("body", m.body);
    in.string("kind", m.kind);
    in.time("timestamp", m.timestamp);
    if (in.failed()) {
        return util::err(in.error());
    }
    return m;
}

/// Refuses a mailbox reached through a symlink anywhere below the town root.
util::Status no_symlink_below(const std::string& root, const std::string& rel) {
    std::string path = root;
    std::size_t pos = 0;
    while (pos < rel.size()) {
        auto slash = rel.find('/', pos);
        path += "/" + rel.substr(pos, slash == std::string::npos ? slash : slash - pos);
        pos = slash == std::string::npos ? rel.size() : slash + 1;
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            return util::err(path + ": is a symlink", ELOOP);
        }
    }
    return {};
}

} // namespace

util::Result<Mail> send_mail(const std::string& town_root, Mail mail) {
    auto to = parse_identity(mail.to);
    if (!to) {
        return util::err("cannot send mail: " + to.error());
    }
    mail.to = to->str();
    if (mail.id.empty()) {
        mail.id = random_id();
    } else if (!valid_id(mail.id)) {
        return util::err("cannot send mail: invalid id (letters, digits, '_' and '-' only)");
    }
    if (mail.timestamp == util::TimePoint{}) {
        mail.timestamp = util::now();
    }
    if (mail.from.empty()) {
        mail.from = "daemon";
    }
    if (auto st = util::make_dirs_below(town_root, to->mailbox(), 0700); !st) {
        return util::Error{st.error()};
    }
    std::string path = TownPaths(town_root).mailbox_dir(*to) + "/" +
                       util::format_time(mail.timestamp) + "-" + mail.id + ".json";
    if (auto st = write_json(path, mail_json(mail)); !st) {
        return util::Error{st.error()};
    }
    return mail;
}

util::Result<std::vector<Mail>> list_mail(const std::string& town_root, const Identity& address,
                                          std::vector<std::string>* skipped) {
    if (auto st = no_symlink_below(town_root, address.mailbox()); !st) {
        return util::Error{st.error()};
    }
    std::string dir = TownPaths(town_root).mailbox_dir(address);
    auto entries = util::list_dir(dir);
    if (!entries) {
        if (entries.error_code() == ENOENT) {
            return std::vector<Mail>{};
        }
        return util::Error{entries.error(), entries.error_code()};
    }
    std::vector<Mail> out;
    for (const auto& e : *entries) {
        bool is_mail = e.name.ends_with(".json") && e.name.find(".tmp.") == std::string::npos;
        if (!is_mail) {
            continue; // sub-mailboxes (gastown/polecats/…: no '.' in names) and temp files
        }
        auto m = read_mail(dir + "/" + e.name);
        if (!m) {
            if (skipped) {
                skipped->push_back(m.error());
            }
            continue;
        }
        out.push_back(std::move(*m));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Mail& a, const Mail& b) { return a.timestamp < b.timestamp; });
    return out;
}

} // namespace gt::state
