// Persisted form of the engine-owned part of AgentState. Stored by the ledger as opaque
// text next to the user's open interval; read back at start-up. It lives beside the core,
// which stores and restores it, so that the engine needs no JSON parser (Poco).

#include "agent/core/engine_state.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "common/json_writer.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string TimeOrEmpty(const std::optional<Timestamp>& t) {
  return t ? FormatTime(*t) : std::string();
}

std::optional<Timestamp> ReadTime(const Object& object, const std::string& key) {
  if (!object.has(key)) return std::nullopt;
  std::string text = object.getValue<std::string>(key);
  if (text.empty()) return std::nullopt;
  return ParseTime(text);
}

// The core's budget count in a stored record; nullopt when there is none or it cannot be read
// (the day is then added up from the ledger, as for a record stored without one).
std::optional<StoredBudget> ReadStoredBudget(const Object& root) {
  try {
    Object::Ptr counted = root.getObject("budget");
    if (!counted) return std::nullopt;
    std::optional<Timestamp> day_start = ReadTime(*counted, "day_start");
    std::optional<Timestamp> day_end = ReadTime(*counted, "day_end");
    Object::Ptr used = counted->getObject("used_ms");
    if (!day_start || !day_end || !used) return std::nullopt;
    StoredBudget budget{.day_start = *day_start, .day_end = *day_end, .used = {}};
    for (const auto& [label, ms] : *used) {
      budget.used.emplace_back(label, Millis(ms.convert<int64_t>()));
    }
    return budget;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// Reads the text SerializeEngineState (and AddStoredBudget) writes in one pass, without
// building a tree: a restart reads one such text per user. It takes only what that writer
// writes (integers, the escapes JsonWriter uses); anything else, and any field of an
// unexpected type, makes it give up (Read returns false) and the general parser reads the text,
// so it accepts nothing that parser would refuse and reads everything the same way.
class FastStateReader {
 public:
  explicit FastStateReader(std::string_view text) : text_(text) {}

  bool Read(AgentState& state, std::optional<StoredBudget>* budget) {
    try {
      ReadRoot(state, budget);
      Space();
      return at_ == text_.size();
    } catch (const GiveUp&) {
      return false;
    }
  }

 private:
  struct GiveUp {};

  void Space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
      ++at_;
    }
  }
  bool Next(char c) {
    Space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!Next(c)) throw GiveUp{};
  }
  bool NextWord(std::string_view word) {
    Space();
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  std::string String() {
    Expect('"');
    std::string out;
    for (;;) {
      const size_t end = text_.find_first_of("\"\\", at_);
      if (end == std::string_view::npos) throw GiveUp{};
      out.append(text_.substr(at_, end - at_));
      at_ = end + 1;
      if (text_[end] == '"') return out;
      if (at_ >= text_.size()) throw GiveUp{};
      switch (text_[at_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          // JsonWriter writes \u00XX for control characters only (below 0x20).
          if (at_ + 4 > text_.size() || text_.substr(at_, 2) != "00") throw GiveUp{};
          const int high = Hex(text_[at_ + 2]);
          const int low = Hex(text_[at_ + 3]);
          if (high > 1) throw GiveUp{};
          out += static_cast<char>(high * 16 + low);
          at_ += 4;
          break;
        }
        default:
          throw GiveUp{};
      }
    }
  }
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw GiveUp{};
  }
  int64_t Integer() {
    Space();
    const size_t start = at_;
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    const size_t digits = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
    // Up to 18 digits cannot overflow; a fraction or an exponent is not ours.
    if (at_ == digits || at_ - digits > 18) throw GiveUp{};
    if (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E')) {
      throw GiveUp{};
    }
    return std::stoll(std::string(text_.substr(start, at_ - start)));
  }
  bool Bool() {
    if (NextWord("true")) return true;
    if (NextWord("false")) return false;
    throw GiveUp{};
  }
  // The general reader's ReadTime: empty text is none, unparsable text is none.
  std::optional<Timestamp> Time() {
    std::string text = String();
    if (text.empty()) return std::nullopt;
    return ParseTime(text);
  }

  // Calls `member(key)` for each member of an object; `member` reads the value.
  template <class Member>
  void Members(Member&& member) {
    Expect('{');
    if (Next('}')) return;
    do {
      const std::string key = String();
      Expect(':');
      member(key);
    } while (Next(','));
    Expect('}');
  }
  template <class Element>
  void Elements(Element&& element) {
    Expect('[');
    if (Next(']')) return;
    do {
      element();
    } while (Next(','));
    Expect(']');
  }

  ActiveCall Call(Timestamp since) {
    ActiveCall call;
    bool id = false, direction = false, internal = false;
    std::optional<Timestamp> started;
    Members([&](const std::string& key) {
      if (key == "id") {
        call.id = String();
        id = true;
      } else if (key == "direction") {
        call.direction = String() == "outbound" ? Direction::kOutbound : Direction::kInbound;
        direction = true;
      } else if (key == "internal") {
        call.internal = Bool();
        internal = true;
      } else if (key == "started") {
        started = Time();
      } else if (key == "answered") {
        call.answered = Time();
      } else if (key == "counts_if_missed") {
        call.counts_if_missed = Bool();
      } else {
        throw GiveUp{};
      }
    });
    // Missing fields are the general reader's to refuse.
    if (!id || !direction || !internal) throw GiveUp{};
    call.started = started.value_or(since);
    return call;
  }

  StoredBudget Budget() {
    StoredBudget read;
    bool day_start = false, day_end = false, used = false;
    Members([&](const std::string& key) {
      if (key == "day_start" || key == "day_end") {
        std::optional<Timestamp> t = Time();
        if (!t) throw GiveUp{};
        (key == "day_start" ? read.day_start : read.day_end) = *t;
        (key == "day_start" ? day_start : day_end) = true;
      } else if (key == "used_ms") {
        used = true;
        Members(
            [&](const std::string& label) { read.used.emplace_back(label, Millis(Integer())); });
      } else {
        throw GiveUp{};
      }
    });
    if (!day_start || !day_end || !used) throw GiveUp{};
    return read;
  }

  void ReadRoot(AgentState& state, std::optional<StoredBudget>* budget) {
    const Timestamp since = state.since;
    std::optional<std::string> pending_source;
    state.last_event = since;  // when the text has none
    Members([&](const std::string& key) {
      if (key == "calls") {
        state.calls.clear();
        Elements([&] { state.calls.push_back(Call(since)); });
      } else if (key == "calls_own_state") {
        state.calls_own_state = Bool();
      } else if (key == "call_qualified") {
        state.call_qualified = Bool();
      } else if (key == "resume_label") {
        state.resume_label = String();
      } else if (key == "pending_label") {
        state.pending_label = String();
      } else if (key == "pending_source") {
        pending_source = String();
      } else if (key == "wrap_up_until") {
        state.wrap_up_until = Time();
      } else if (key == "owed_wrap_up_ms") {
        state.owed_wrap_up = Millis(Integer());
      } else if (key == "owed_cause") {
        state.owed_cause = String();
      } else if (key == "ended_calls") {
        state.ended_calls.clear();
        Elements([&] { state.ended_calls.push_back(String()); });
      } else if (key == "last_event") {
        state.last_event = Time().value_or(since);
      } else if (key == "missed_calls") {
        state.missed_calls =
            static_cast<int>(std::clamp<int64_t>(Integer(), 0, std::numeric_limits<int>::max()));
      } else if (key == "missed_return_at") {
        state.missed_return_at = Time();
      } else if (key == "budget") {
        StoredBudget read = Budget();
        if (budget != nullptr) *budget = std::move(read);
      } else {
        throw GiveUp{};
      }
    });
    if (state.pending_label) {
      state.pending_source =
          reasoncodes::SourceFromName(pending_source.value_or("agent")).value_or(Source::kAgent);
    }
    if (!state.owed_wrap_up) state.owed_cause.clear();
  }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

std::string SerializeEngineState(const AgentState& state) {
  JsonWriter out;
  out.BeginObject();
  if (!state.calls.empty()) out.Key("calls").BeginArray();
  for (const ActiveCall& call : state.calls) {
    out.BeginObject();
    out.Key("id").String(call.id);
    out.Key("direction").String(DirectionName(call.direction));
    out.Key("internal").Bool(call.internal);
    out.Key("started").String(FormatTime(call.started));
    out.Key("answered").String(TimeOrEmpty(call.answered));
    if (call.counts_if_missed) out.Key("counts_if_missed").Bool(true);
    out.EndObject();
  }
  if (!state.calls.empty()) out.EndArray();
  if (state.calls_own_state) out.Key("calls_own_state").Bool(true);
  if (state.call_qualified) out.Key("call_qualified").Bool(true);
  if (!state.resume_label.empty()) out.Key("resume_label").String(state.resume_label);
  if (state.pending_label) {
    out.Key("pending_label").String(*state.pending_label);
    out.Key("pending_source").String(reasoncodes::SourceName(state.pending_source));
  }
  if (state.wrap_up_until) out.Key("wrap_up_until").String(FormatTime(*state.wrap_up_until));
  if (state.owed_wrap_up) {
    out.Key("owed_wrap_up_ms").Int(state.owed_wrap_up->count());
    out.Key("owed_cause").String(state.owed_cause);
  }
  if (!state.ended_calls.empty()) {
    out.Key("ended_calls").BeginArray();
    for (const std::string& id : state.ended_calls) out.String(id);
    out.EndArray();
  }
  out.Key("last_event").String(FormatTime(state.last_event));
  // Rule 11, only when in use: a stored state from before it reads as none.
  if (state.missed_calls > 0) out.Key("missed_calls").Int(state.missed_calls);
  if (state.missed_return_at) {
    out.Key("missed_return_at").String(FormatTime(*state.missed_return_at));
  }
  out.EndObject();
  return out.Take();
}

std::string AddStoredBudget(std::string engine_state, const StoredBudget& budget) {
  // SerializeEngineState's text is one object: the budget goes in as its last member.
  if (engine_state.empty() || engine_state.back() != '}') return engine_state;
  JsonWriter out;
  out.BeginObject();
  out.Key("day_start").String(FormatTime(budget.day_start));
  out.Key("day_end").String(FormatTime(budget.day_end));
  out.Key("used_ms").BeginObject();
  for (const auto& [label, used] : budget.used) out.Key(label).Int(used.count());
  out.EndObject().EndObject();
  engine_state.pop_back();
  if (engine_state.size() > 1) engine_state += ',';
  engine_state += "\"budget\":";
  engine_state += out.Take();
  engine_state += '}';
  return engine_state;
}

Result<AgentState> RestoreAgentState(const tracking::StoredAgent& stored,
                                     std::optional<StoredBudget>* budget) {
  if (!stored.open) {
    return Error{"corrupt_state", "user '" + stored.agent + "' has no open interval"};
  }
  AgentState state;
  state.agent = stored.agent;
  state.label = stored.open->label;
  state.since = stored.open->start;
  state.source = stored.open->source;
  state.cause = stored.open->cause;
  if (stored.engine_state.empty()) return state;
  {
    AgentState fast = state;
    std::optional<StoredBudget> fast_budget;
    if (FastStateReader(stored.engine_state).Read(fast, &fast_budget)) {
      if (budget != nullptr) *budget = std::move(fast_budget);
      return fast;
    }
  }
  try {
    Poco::JSON::Parser parser;
    Object::Ptr root = parser.parse(stored.engine_state).extract<Object::Ptr>();
    Array::Ptr calls = root->getArray("calls");
    for (size_t i = 0; calls && i < calls->size(); ++i) {
      Object::Ptr item = calls->getObject(static_cast<unsigned>(i));
      ActiveCall call;
      call.id = item->getValue<std::string>("id");
      call.direction = item->getValue<std::string>("direction") == "outbound" ? Direction::kOutbound
                                                                              : Direction::kInbound;
      call.internal = item->getValue<bool>("internal");
      call.started = ReadTime(*item, "started").value_or(state.since);
      call.answered = ReadTime(*item, "answered");
      call.counts_if_missed = item->optValue<bool>("counts_if_missed", false);
      state.calls.push_back(std::move(call));
    }
    state.calls_own_state = root->optValue<bool>("calls_own_state", false);
    state.call_qualified = root->optValue<bool>("call_qualified", false);
    state.resume_label = root->optValue<std::string>("resume_label", "");
    if (root->has("pending_label")) {
      state.pending_label = root->getValue<std::string>("pending_label");
      state.pending_source =
          reasoncodes::SourceFromName(root->optValue<std::string>("pending_source", "agent"))
              .value_or(Source::kAgent);
    }
    state.wrap_up_until = ReadTime(*root, "wrap_up_until");
    if (root->has("owed_wrap_up_ms")) {
      state.owed_wrap_up = std::chrono::milliseconds(root->getValue<int64_t>("owed_wrap_up_ms"));
      state.owed_cause = root->optValue<std::string>("owed_cause", "");
    }
    if (Array::Ptr ended = root->getArray("ended_calls")) {
      for (size_t i = 0; i < ended->size(); ++i) {
        state.ended_calls.push_back(ended->getElement<std::string>(static_cast<unsigned>(i)));
      }
    }
    state.last_event = ReadTime(*root, "last_event").value_or(state.since);
    state.missed_calls = static_cast<int>(std::clamp<int64_t>(
        root->optValue<int64_t>("missed_calls", 0), 0, std::numeric_limits<int>::max()));
    state.missed_return_at = ReadTime(*root, "missed_return_at");
    if (budget != nullptr) *budget = ReadStoredBudget(*root);
  } catch (const Poco::Exception& e) {
    return Error{"corrupt_state",
                 "user '" + stored.agent + "': stored engine state unreadable: " + e.displayText()};
  }
  return state;
}

}  // namespace presence::agent
