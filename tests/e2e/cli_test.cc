// End to end: the real presence-agent binary, as a user runs it.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/fakes/acked_changes.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tracking/time_store.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using testing::RunCommand;

const std::string kAgent = PRESENCE_AGENT_BINARY;
const std::string kSamples = std::string(PRESENCE_SOURCE_DIR) + "/samples/";

Poco::Dynamic::Var ParseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text);
}

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text) {
  std::ofstream out(dir.File(name));
  out << text;
  return dir.File(name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_test)

BOOST_AUTO_TEST_CASE(check_config_accepts_every_sample) {
  ::setenv("AMI_SECRET", "sample", 1);  // freepbx.json reads its AMI secret from the environment
  for (const char* name : {"dial-command.json", "skype-for-business.json",
                           "time-tracking-only.json", "sip-presence.json", "freepbx.json"}) {
    auto result = RunCommand({kAgent, "check-config", "-c", kSamples + name});
    BOOST_TEST(result.exit_code == 0, name << ": " << result.err);
    BOOST_TEST(result.out.find("OK") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(check_config_lists_the_connectors_and_warns_of_a_mode_without_one) {
  auto sample = RunCommand({kAgent, "check-config", "-c", kSamples + "dial-command.json"});
  BOOST_TEST(sample.exit_code == 0);
  BOOST_TEST(sample.err.find("warning: connectors: settings.mode \"dial_command\" needs a "
                             "connector of type \"ami\" or \"desk_phone\"") != std::string::npos,
             sample.err);
  testing::TempDir dir;
  std::string path = WriteFile(dir, "hook.json", R"({"settings": {"mode": "none"},
    "states": [{"label": "Ready", "reason_code": "", "status": 1},
               {"label": "Logout", "reason_code": "", "status": 7}],
    "connectors": [{"type": "webhook", "name": "crm", "url": "https://crm.example.com/hook",
                    "secret": "0123456789abcdef0123456789abcdef", "rate_per_second": 5}]})");
  auto result = RunCommand({kAgent, "check-config", "-c", path});
  BOOST_TEST(result.exit_code == 0, result.err);
  BOOST_TEST(result.err.empty(), result.err);
  BOOST_TEST(result.out.find("connector crm (webhook: POSTs every change") != std::string::npos,
             result.out);
  BOOST_TEST(result.out.find("every change, 4 at a time, at most 5/s") != std::string::npos,
             result.out);
  BOOST_TEST(result.out.find("0123456789abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_config_lists_every_problem_and_fails) {
  testing::TempDir dir;
  std::string path = WriteFile(dir, "bad.json", R"({"settings": {"wrap_up_seconds": 5000},
    "states": [{"label": "Ready", "reason_code": "*60", "status": 1},
               {"label": "Odd", "reason_code": "*9", "status": 9}], "extra": 1})");
  auto result = RunCommand({kAgent, "check-config", "-c", path});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.err.find("states[1].status: 9 is not a status code (1-7)") != std::string::npos,
             result.err);
  BOOST_TEST(result.err.find("settings.wrap_up_seconds") != std::string::npos, result.err);
  BOOST_TEST(result.err.find("extra: unknown key") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_CASE(states_prints_the_picklist_as_label_and_status_name) {
  auto text = RunCommand({kAgent, "states", "-c", kSamples + "dial-command.json"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find("Ready for Calls (Online)") != std::string::npos);
  BOOST_TEST(text.out.find("Do Not Disturb (DND)") != std::string::npos);
  BOOST_TEST(text.out.find("On a call") == std::string::npos);  // set by the agent, not picked

  auto json =
      RunCommand({kAgent, "states", "-c", kSamples + "dial-command.json", "--json", "--all"});
  BOOST_TEST(json.exit_code == 0);
  Array::Ptr states = ParseJson(json.out).extract<Array::Ptr>();
  bool saw_on_call = false;
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    if (state->getValue<std::string>("label") == "On a call") {
      saw_on_call = true;
      BOOST_TEST(state->getValue<int>("status") == 6);
      BOOST_TEST(state->getValue<std::string>("display") == "On a call (On a call)");
      BOOST_TEST(!state->getValue<bool>("selectable"));
    }
  }
  BOOST_TEST(saw_on_call);
}

BOOST_AUTO_TEST_CASE(replay_json_of_the_sample_day_has_transitions_and_totals) {
  auto result = RunCommand(
      {kAgent, "replay", "-c", kSamples + "dial-command.json", kSamples + "day.jsonl", "--json"});
  BOOST_TEST(result.exit_code == 0, result.err);
  Object::Ptr root = ParseJson(result.out).extract<Object::Ptr>();
  Array::Ptr transitions = root->getArray("transitions");
  BOOST_TEST(transitions->size() == 38u);
  Object::Ptr first = transitions->getObject(0);
  BOOST_TEST(first->isNull("from"));
  BOOST_TEST(first->getValue<std::string>("to") == "Logout");
  Object::Ptr dial_out;
  for (size_t i = 0; i < transitions->size(); ++i) {
    Object::Ptr t = transitions->getObject(static_cast<unsigned>(i));
    if (t->getValue<std::string>("cause") == "dial_out:c105") dial_out = t;
  }
  BOOST_REQUIRE(dial_out);
  BOOST_TEST(dial_out->getValue<std::string>("at") == "2026-11-20T12:10:00.000Z");
  BOOST_TEST(dial_out->getValue<std::string>("from") == "Do Not Disturb");
  BOOST_TEST(dial_out->getValue<std::string>("to") == "Ready for Calls");
  BOOST_TEST(dial_out->getValue<std::string>("reason_code") == "*60");
  BOOST_TEST(dial_out->getValue<std::string>("source") == "call");
  Array::Ptr totals = root->getArray("totals");
  double anna_ready = -1;
  for (size_t i = 0; i < totals->size(); ++i) {
    Object::Ptr t = totals->getObject(static_cast<unsigned>(i));
    if (t->getValue<std::string>("agent") == "1001" &&
        t->getValue<std::string>("label") == "Ready for Calls") {
      anna_ready = t->getValue<double>("seconds");
    }
  }
  BOOST_TEST(anna_ready == 28333.0);
}

BOOST_AUTO_TEST_CASE(replay_reports_bad_lines_by_number_and_exits_3) {
  testing::TempDir dir;
  std::string events = WriteFile(dir, "events.jsonl",
                                 R"({"at": "2026-11-20T09:00:00Z", "agent": "a", "type": "login"}
{"at": "2026-11-20T09:01:00Z", "agent": "a", "type": "select", "label": "Lnch"}
{"at": "2026-11-20T09:02:00Z", "agent": "a", "type": "select", "label": "Lunch"}
)");
  auto result = RunCommand({kAgent, "replay", "-c", kSamples + "dial-command.json", events});
  BOOST_TEST(result.exit_code == 3);
  BOOST_TEST(result.err.find("events.jsonl:2: unknown_label") != std::string::npos, result.err);
  BOOST_TEST(result.out.find("Lunch (Away, *62)") != std::string::npos);
}

// The sample day replayed into a ledger in `dir`; returns its path.
std::string ReplayedDay(testing::TempDir& dir) {
  const std::string db = dir.File("ledger.db");
  auto replay = RunCommand(
      {kAgent, "replay", "-c", kSamples + "dial-command.json", kSamples + "day.jsonl", "--db", db});
  BOOST_REQUIRE_MESSAGE(replay.exit_code == 0, replay.err);
  return db;
}

BOOST_AUTO_TEST_CASE(report_reads_the_ledger_written_by_replay) {
  testing::TempDir dir;
  const std::string db = ReplayedDay(dir);
  auto csv = RunCommand({kAgent, "report", "--db", db, "--from", "2026-11-20T12:00:00Z", "--to",
                         "2026-11-20T13:00:00Z", "--format", "csv", "--user", "1001"});
  BOOST_TEST(csv.exit_code == 0, csv.err);
  BOOST_TEST(csv.err.empty(), csv.err);  // no progress line when stderr is not a terminal
  // 12:00-12:10 DND, 12:10-12:10:10 Ready, then a call, wrap-up, break and Ready again: the
  // whole hour is covered, and each state's share of it is given.
  BOOST_TEST(csv.out.find("row,user,name,team,period_start,period_end,label,reason_code,status,"
                          "status_name,seconds,covered_seconds,percent\r\n") == 0u);
  const std::string period =
      "total,1001,,,2026-11-20T12:00:00.000+00:00,2026-11-20T13:00:00.000+00:00,";
  for (const char* row :
       {"Do Not Disturb,*61,4,DND,600,3600,16.67\r\n",
        "On a call,*69,6,On a call,120,3600,3.33\r\n", "Wrap-up,*61,4,DND,15,3600,0.42\r\n",
        "Break,*63,3,Away,875,3600,24.31\r\n",
        "Ready for Calls,*60,1,Online,1990,3600,55.28\r\n"}) {
    BOOST_TEST(csv.out.find(period + row) != std::string::npos, row << "\n" << csv.out);
  }
}

BOOST_AUTO_TEST_CASE(report_groups_by_local_hour_and_the_detail_explains_every_bucket) {
  testing::TempDir dir;
  const std::string db = ReplayedDay(dir);
  const std::vector<std::string> common = {kAgent,        "report",
                                           "--db",        db,
                                           "-c",          kSamples + "dial-command.json",
                                           "--from",      "2026-11-20T13:00",
                                           "--to",        "2026-11-20T15:00",
                                           "--time-zone", "Europe/Berlin",
                                           "--group-by",  "hour",
                                           "--user",      "1001",
                                           "--format",    "json"};
  auto totals = RunCommand(common);
  BOOST_REQUIRE_MESSAGE(totals.exit_code == 0, totals.err);
  std::vector<std::string> detail_args = common;
  detail_args.push_back("--detail");
  auto detail = RunCommand(detail_args);
  BOOST_REQUIRE_MESSAGE(detail.exit_code == 0, detail.err);
  Poco::JSON::Parser parser;
  auto report = parser.parse(totals.out).extract<Poco::JSON::Object::Ptr>();
  // 13:00-15:00 Berlin is 12:00-14:00 UTC.
  BOOST_TEST(report->getValue<std::string>("from") == "2026-11-20T12:00:00.000Z");
  auto user = report->getArray("users")->getObject(0);
  auto buckets = user->getArray("buckets");
  BOOST_REQUIRE(buckets->size() == 2u);
  BOOST_TEST(buckets->getObject(0)->getValue<std::string>("start") ==
             "2026-11-20T13:00:00.000+01:00");
  // Every bucket figure is the sum of the detail lines in that bucket.
  std::map<std::pair<std::string, std::string>, double> from_lines;
  Poco::JSON::Parser detail_parser;
  auto lines =
      detail_parser.parse(detail.out).extract<Poco::JSON::Object::Ptr>()->getArray("intervals");
  BOOST_REQUIRE(lines->size() > 0u);
  for (size_t i = 0; i < lines->size(); ++i) {
    auto line = lines->getObject(static_cast<unsigned>(i));
    BOOST_TEST(!line->getValue<std::string>("cause").empty());
    from_lines[{line->getValue<std::string>("bucket_start"),
                line->getValue<std::string>("label")}] += line->getValue<double>("seconds");
  }
  double covered = 0;
  for (size_t b = 0; b < buckets->size(); ++b) {
    auto bucket = buckets->getObject(static_cast<unsigned>(b));
    auto states = bucket->getArray("states");
    covered += bucket->getValue<double>("covered_seconds");
    for (size_t i = 0; i < states->size(); ++i) {
      auto state = states->getObject(static_cast<unsigned>(i));
      std::pair<std::string, std::string> key{bucket->getValue<std::string>("start"),
                                              state->getValue<std::string>("label")};
      BOOST_TEST(std::abs(from_lines[key] - state->getValue<double>("seconds")) < 0.0005,
                 key.first << " " << key.second);
    }
  }
  BOOST_TEST(covered == user->getValue<double>("covered_seconds"));
}

BOOST_AUTO_TEST_CASE(report_refuses_a_bad_time_with_a_clear_message) {
  testing::TempDir dir;
  const std::string db = ReplayedDay(dir);
  auto result =
      RunCommand({kAgent, "report", "--db", db, "--from", "yesterday", "--to", "2026-11-20"});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.err.find("from: 'yesterday' is not a time") != std::string::npos, result.err);
  auto user = RunCommand({kAgent, "report", "--db", db, "--from", "2026-11-20", "--to",
                          "2026-11-21", "--user", "1010"});
  BOOST_TEST(user.exit_code == 1);
  BOOST_TEST(user.err.find("no user '1010'") != std::string::npos, user.err);
}

BOOST_AUTO_TEST_CASE(acknowledged_changes_survive_kill_9) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  testing::Subprocess agent({kAgent, "ingest", "-c", kSamples + "dial-command.json", "--db", db});
  const std::vector<std::string> labels = {"Lunch", "Break", "In a meeting", "Ready for Calls"};
  std::string input;
  for (int round = 0; round < 300; ++round) {
    for (int user = 0; user < 10; ++user) {
      input += R"({"agent": "u)" + std::to_string(user) + R"(", "type": "select", "label": ")" +
               labels[(round + user) % labels.size()] + "\"}\n";
    }
  }
  // Events keep arriving while the process is killed: many are queued or being committed, so
  // an answer sent before its commit would show up as a missing change below.
  std::thread feeder([&] {
    try {
      agent.Write(input);
    } catch (const std::exception&) {
      // the process was killed before it read everything
    }
  });
  testing::AckedChanges acked;
  int answers = 0;
  while (answers < 1000) {
    std::optional<std::string> line = agent.ReadLine();
    BOOST_REQUIRE(line.has_value());
    Object::Ptr answer = ParseJson(*line).extract<Object::Ptr>();
    BOOST_REQUIRE(answer->getValue<bool>("ok"));
    ++answers;
    acked.Add(*answer->getArray("changes"));
  }
  agent.Kill(SIGKILL);
  BOOST_TEST(agent.Wait() == 128 + SIGKILL);
  feeder.join();

  std::optional<testing::AckedChanges::LedgerCheck> ledger = acked.CheckLedger(db);
  BOOST_REQUIRE(ledger.has_value());
  BOOST_TEST(acked.size() >= 1000u);  // every answer carried at least one change
  BOOST_TEST(ledger->missing == 0);
  BOOST_TEST(ledger->intervals >= acked.size());
}

BOOST_AUTO_TEST_CASE(restarted_agent_continues_from_the_stored_state) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  const std::string config = kSamples + "dial-command.json";
  auto first = RunCommand({kAgent, "ingest", "-c", config, "--db", db},
                          R"({"agent": "1001", "type": "login"})"
                          "\n"
                          R"({"agent": "1001", "type": "select", "label": "Lunch"})"
                          "\n");
  BOOST_TEST(first.exit_code == 0, first.err);
  auto second = RunCommand({kAgent, "ingest", "-c", config, "--db", db},
                           R"({"agent": "1001", "type": "select", "label": "Lunch"})"
                           "\n"
                           R"({"agent": "1001", "type": "select", "label": "Break"})"
                           "\n");
  BOOST_TEST(second.exit_code == 0, second.err);
  std::istringstream lines(second.out);
  std::string same, next;
  std::getline(lines, same);
  std::getline(lines, next);
  Object::Ptr unchanged = ParseJson(same).extract<Object::Ptr>();
  BOOST_TEST(unchanged->getValue<std::string>("state") == "Lunch");
  BOOST_TEST(unchanged->getArray("changes")->size() == 0u);  // still Lunch: no new interval
  Object::Ptr changed = ParseJson(next).extract<Object::Ptr>();
  BOOST_TEST(changed->getArray("changes")->getObject(0)->getValue<std::string>("from") == "Lunch");
}

BOOST_AUTO_TEST_CASE(ingest_answers_bad_lines_with_a_json_error_and_goes_on) {
  auto result = RunCommand({kAgent, "ingest", "-c", kSamples + "dial-command.json"},
                           "{oops\n"
                           R"({"agent": "1001", "type": "select", "label": "Lnch"})"
                           "\n"
                           R"({"agent": "1001", "type": "select", "label": "Lunch"})"
                           "\n");
  BOOST_TEST(result.exit_code == 3);
  std::istringstream lines(result.out);
  std::string line;
  std::vector<Object::Ptr> answers;
  while (std::getline(lines, line)) answers.push_back(ParseJson(line).extract<Object::Ptr>());
  BOOST_REQUIRE_EQUAL(answers.size(), 3u);
  BOOST_TEST(answers[0]->getObject("error")->getValue<std::string>("code") == "malformed_json");
  BOOST_TEST(answers[1]->getObject("error")->getValue<std::string>("code") == "unknown_label");
  BOOST_TEST(answers[2]->getValue<bool>("ok"));
  BOOST_TEST(answers[2]->getValue<int>("line") == 3);
}

// A copy of the dial-command sample (users 1001-1012, no tokens) to change, with mode 0600.
std::string SampleCopy(const testing::TempDir& dir) {
  std::ifstream in(kSamples + "dial-command.json", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string path = WriteFile(dir, "presence.json", text.str());
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

BOOST_AUTO_TEST_CASE(token_add_to_refuses_an_unknown_user_and_changes_nothing) {
  testing::TempDir dir;
  const std::string config = SampleCopy(dir);
  const std::string before = ReadAll(config);
  auto result =
      RunCommand({kAgent, "token", "--role", "agent", "--user", "9999", "--add-to", config});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.out.empty(), "a token was printed for an entry not added: " << result.out);
  BOOST_TEST(result.err.find("not changed") != std::string::npos, result.err);
  BOOST_TEST(
      result.err.find("tokens[0].user: \"9999\" is not a configured user") != std::string::npos,
      result.err);
  BOOST_TEST((ReadAll(config) == before), "the file was changed");
  BOOST_TEST(!std::filesystem::exists(config + ".tmp"));
}

BOOST_AUTO_TEST_CASE(token_add_to_keeps_the_file_private) {
  testing::TempDir dir;
  const std::string config = SampleCopy(dir);
  auto result =
      RunCommand({kAgent, "token", "--role", "agent", "--user", "1001", "--add-to", config});
  BOOST_TEST(result.exit_code == 0, result.err);
  BOOST_TEST(result.out.size() == 44u);  // the token and a newline
  BOOST_TEST((std::filesystem::status(config).permissions() ==
              (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)));
  auto check = RunCommand({kAgent, "check-config", "-c", config});
  BOOST_TEST(check.exit_code == 0, check.err);
}

BOOST_AUTO_TEST_CASE(a_configuration_over_16_mib_is_refused_with_the_limit) {
  testing::TempDir dir;
  const std::string path = dir.File("huge.json");
  {
    std::ofstream out(path, std::ios::binary);
    const std::string spaces(1 << 20, ' ');
    for (int i = 0; i < 17; ++i) out << spaces;
    out << "{}";
  }
  for (std::vector<std::string> argv :
       {std::vector<std::string>{kAgent, "check-config", "-c", path},
        std::vector<std::string>{kAgent, "serve", "-c", path},
        std::vector<std::string>{kAgent, "token", "--role", "admin", "--add-to", path}}) {
    auto result = RunCommand(argv);
    BOOST_TEST_CONTEXT(argv[1]) {
      BOOST_TEST(result.exit_code == 1);
      BOOST_TEST(result.err.find(path + ": larger than 16 MiB, the limit for a configuration "
                                        "file") != std::string::npos,
                 result.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(check_config_of_an_endless_device_stops_at_the_limit) {
  auto result = RunCommand({kAgent, "check-config", "-c", "/dev/zero"});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.err.find("/dev/zero: larger than 16 MiB") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
