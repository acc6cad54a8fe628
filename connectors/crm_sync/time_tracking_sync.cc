#include "connectors/crm_sync/time_tracking_sync.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <random>
#include <span>
#include <thread>
#include <utility>
#include <variant>

#include "common/thread_name.h"
#include "connectors/crm_sync/call_window.h"
#include "connectors/crm_sync/crm_sync_figures.h"
#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

// Back-off after a failed call (the lead's policy for the sync): 1 s doubling up to 5 min,
// equal jitter. A request Salesforce refuses as a whole (bad object or field names) is
// retried at the cap: only an administrator can fix it.
constexpr Millis kFirstBackoff{1000};
constexpr Millis kMaxBackoff{300000};
constexpr std::size_t kRefusalsShown = 3;  // refused records quoted in last_error

enum class PassState { kIdle, kFailing, kOverBudget };

std::string_view StateName(PassState state) {
  switch (state) {
    case PassState::kIdle:
      return "idle";
    case PassState::kFailing:
      return "failing";
    case PassState::kOverBudget:
      return "over_budget";
  }
  return "idle";
}

// One local day a pass looks at, with its figures as of the pass.
struct DayFigures {
  std::string day;
  bool ended = false;  // complete: the pass runs after the day's end
  std::vector<CrmFigure> figures;
};

// A call that failed as a whole: nothing in it was acknowledged.
struct CallFailure {
  bool transient = true;  // network, 5xx, throttling: exponential back-off; else the cap
  std::string message;
  std::optional<Millis> retry_after;
};

using CallAnswer = std::variant<std::vector<SaveResult>, CallFailure>;

bool IsRequestLimit(const std::vector<SalesforceError>& errors) {
  return std::any_of(errors.begin(), errors.end(), [](const SalesforceError& error) {
    return error.code == kRequestLimitExceeded;
  });
}

// SalesforceClient::Send's errors without an answer to the REST request: the token's, or the
// request's own "network" / "timeout".
bool IsTokenError(const Error& error) { return error.code != "network" && error.code != "timeout"; }

// Unreachable endpoints and token answers that are not OAuth refusals (a 503 page, garbage)
// pass; an OAuth error ("invalid_client", "invalid_grant") or an unusable key needs an
// administrator.
bool IsPassing(const Error& error) {
  return error.code == "network" || error.code == "timeout" || error.code == "token_refused" ||
         error.code == "bad_response";
}

Poco::Dynamic::Var TimeOrNull(const std::optional<Timestamp>& at) {
  return at ? Poco::Dynamic::Var(FormatTime(*at)) : Poco::Dynamic::Var();
}

}  // namespace

class TimeTrackingSync::Impl {
 public:
  Impl(CrmSyncConfig config, Schedule schedule, ConnectorEnv env, tracking::TimeStore& store)
      : config_(std::move(config)),
        schedule_(std::move(schedule)),
        env_(std::move(env)),
        store_(store),
        client_(config_.auth, *env_.http, *env_.clock),
        // The progress belongs to one object in one org: another org or object starts afresh.
        target_("crm_sync|" + config_.auth.login_url + "|" + config_.object),
        path_(CollectionUpsertPath(config_.object, config_.fields.external_id)),
        random_(std::random_device{}()),
        directory_(std::make_shared<const Directory>()) {
    stats_.api_budget_per_day = config_.api_budget_per_day;
  }
  ~Impl() { Stop(); }

  void SetDirectory(Directory directory) {
    auto shared = std::make_shared<const Directory>(std::move(directory));
    std::lock_guard lock(mutex_);
    directory_ = std::move(shared);
  }

  Status Load() {
    std::lock_guard pass(pass_mutex_);
    return LoadLocked();
  }

  Timestamp RunOnce();
  void Start();
  void Stop();
  CrmSyncStats stats() const;
  Poco::JSON::Object::Ptr StatusJson() const;

 private:
  // What the calls of one pass came to.
  struct Sent {
    std::optional<CallFailure> failure;
    std::optional<Timestamp> reopens;  // the budget stopped the pass; calls allowed again then
    long long acknowledged = 0;
    long long refused = 0;
    std::string refusals;  // the first refused records and their errors
  };

  Status LoadLocked();
  Status MarkStart(Timestamp now);
  Result<std::vector<DayFigures>> Figures(Timestamp now);
  Sent SendAll(const std::vector<CrmRecord>& records);
  CallAnswer Upsert(std::span<const CrmRecord> batch, const Directory& directory);
  CallAnswer Read(const Result<HttpResponse>& response, std::size_t expected) const;
  void Acknowledge(std::span<const CrmRecord> batch, const std::vector<SaveResult>& results,
                   Sent& sent);
  void AdvanceDoneThrough(const std::vector<DayFigures>& days);
  std::optional<Timestamp> BudgetReopens(Timestamp now) const;

  Timestamp Succeeded(Timestamp now, const Sent& sent);
  Timestamp Failed(Timestamp now, const CallFailure& failure);
  Timestamp OverBudget(Timestamp now, Timestamp reopens);
  Millis Backoff(int failures);
  void SetPending(long long pending);
  void Log(LogLevel level, const std::string& text) const {
    env_.log(level, text);  // the service's sink names the component
  }
  void Loop();

  const CrmSyncConfig config_;
  const Schedule schedule_;
  const ConnectorEnv env_;
  tracking::TimeStore& store_;
  SalesforceClient client_;
  const std::string target_;
  const std::string path_;

  // One pass at a time (the thread's and a caller's RunOnce); guards the pass state below.
  std::mutex pass_mutex_;
  bool loaded_ = false;
  std::optional<std::string> done_through_;
  AckedFigures acked_;
  bool save_failing_ = false;         // a SaveSyncState failure was logged
  bool config_error_logged_ = false;  // a refused request was logged since the last success
  std::mt19937 random_;

  // Guards what other threads read: stats, state, the directory, the call window.
  mutable std::mutex mutex_;
  std::shared_ptr<const Directory> directory_;
  CrmSyncStats stats_;
  CallWindow window_;
  PassState state_ = PassState::kIdle;
  bool refusing_ = false;  // the last pass had refused records
  std::optional<std::string> last_error_;
  std::optional<Timestamp> next_pass_;

  std::mutex thread_mutex_;  // guards stopping_ and thread_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// ---- a pass ------------------------------------------------------------------------------------

Timestamp TimeTrackingSync::Impl::RunOnce() {
  std::lock_guard pass(pass_mutex_);
  const Timestamp now = env_.clock->Now();
  if (!loaded_) {
    if (Status loaded = LoadLocked(); !loaded.ok()) {
      return Failed(now, {true, "cannot read the saved progress: " + loaded.error().message, {}});
    }
  }
  if (auto reopens = BudgetReopens(now)) return OverBudget(now, *reopens);
  if (!done_through_) {
    if (Status marked = MarkStart(now); !marked.ok()) {
      return Failed(now, {true, "cannot save the progress: " + marked.error().message, {}});
    }
  }
  Result<std::vector<DayFigures>> days = Figures(now);
  if (!days) return Failed(now, {true, "cannot read the ledger: " + days.error().message, {}});
  const bool final_field = !config_.fields.final.empty();
  std::vector<CrmRecord> records;
  for (const DayFigures& day : *days) {
    std::vector<CrmRecord> changed = RecordsToSend(day.figures, acked_, day.ended, final_field);
    records.insert(records.end(), changed.begin(), changed.end());
  }
  Sent sent = SendAll(records);
  AdvanceDoneThrough(*days);
  SetPending(static_cast<long long>(records.size()) - sent.acknowledged);
  if (sent.failure) return Failed(now, *sent.failure);
  if (sent.reopens) return OverBudget(now, *sent.reopens);
  return Succeeded(now, sent);
}

Status TimeTrackingSync::Impl::LoadLocked() {
  Result<tracking::SyncState> saved = store_.LoadSyncState(target_);
  if (!saved) return saved.error();
  done_through_ = saved->done_through;
  acked_.clear();
  for (const tracking::SyncedFigure& figure : saved->figures) acked_[figure.key] = figure;
  loaded_ = true;
  std::lock_guard lock(mutex_);
  stats_.done_through = done_through_;
  return Status::Ok();
}

// The first pass ever: the days before today (less backfill_days) are not this sync's to
// send. Saving that as the finished-day mark lets a later start, however late, finish every
// day from the first one on.
Status TimeTrackingSync::Impl::MarkStart(Timestamp now) {
  const tracking::ReportZone& zone = schedule_.zone;
  Timestamp first = zone.DayStart(now);
  for (int i = 0; i < config_.backfill_days; ++i) first = zone.DayStart(first - Millis(1));
  std::string mark = zone.LocalDate(first - Millis(1));
  if (Status saved = store_.SaveSyncState(target_, {}, mark); !saved.ok()) return saved;
  done_through_ = mark;
  std::lock_guard lock(mutex_);
  stats_.done_through = done_through_;
  return Status::Ok();
}

// Every day after the finished-day mark up to today: ended days complete (their totals run to
// the day's end), today up to now.
Result<std::vector<DayFigures>> TimeTrackingSync::Impl::Figures(Timestamp now) {
  const tracking::ReportZone& zone = schedule_.zone;
  std::optional<Timestamp> done = zone.DateStart(*done_through_);
  if (!done) return Error{"bad_state", "saved day " + *done_through_ + " is not a date"};
  std::vector<DayFigures> days;
  for (Timestamp start = zone.NextDayStart(*done); start <= now;) {
    Timestamp end = zone.NextDayStart(start);
    Result<std::vector<tracking::Total>> totals =
        store_.Totals(tracking::TotalsQuery{start, end, now, std::nullopt});
    if (!totals) return totals.error();
    std::string day = zone.LocalDate(start);
    days.push_back(DayFigures{day, end <= now, FiguresOfDay(*totals, day)});
    start = end;
  }
  return days;
}

// Once every figure of an ended day is acknowledged as its last word the mark moves past it,
// day by day, never over a day with records still pending.
void TimeTrackingSync::Impl::AdvanceDoneThrough(const std::vector<DayFigures>& days) {
  const bool final_field = !config_.fields.final.empty();
  std::optional<std::string> finished;
  for (const DayFigures& day : days) {
    if (!day.ended || !RecordsToSend(day.figures, acked_, true, final_field).empty()) break;
    finished = day.day;
  }
  if (!finished) return;
  if (Status saved = store_.SaveSyncState(target_, {}, finished); !saved.ok()) {
    Log(LogLevel::kWarning,
        "cannot save the finished day " + *finished + ": " + saved.error().message);
    return;  // the next pass finds the day complete and tries again
  }
  done_through_ = finished;
  std::erase_if(acked_, [&](const auto& entry) { return entry.second.day <= *finished; });
  std::lock_guard lock(mutex_);
  stats_.done_through = done_through_;
}

// ---- calls -------------------------------------------------------------------------------------

std::optional<Timestamp> TimeTrackingSync::Impl::BudgetReopens(Timestamp now) const {
  std::lock_guard lock(mutex_);
  if (window_.Count(now) < config_.api_budget_per_day) return std::nullopt;
  return window_.ReopensAt(now, config_.api_budget_per_day);
}

TimeTrackingSync::Impl::Sent TimeTrackingSync::Impl::SendAll(
    const std::vector<CrmRecord>& records) {
  Sent sent;
  std::shared_ptr<const Directory> directory;
  {
    std::lock_guard lock(mutex_);
    directory = directory_;
  }
  const std::size_t batch_size = static_cast<std::size_t>(std::max(config_.batch_size, 1));
  for (std::size_t at = 0; at < records.size(); at += batch_size) {
    if (auto reopens = BudgetReopens(env_.clock->Now())) {
      sent.reopens = reopens;
      break;
    }
    std::span<const CrmRecord> batch(records.data() + at,
                                     std::min(batch_size, records.size() - at));
    CallAnswer answer = Upsert(batch, *directory);
    if (auto* failure = std::get_if<CallFailure>(&answer)) {
      sent.failure = std::move(*failure);
      break;
    }
    Acknowledge(batch, std::get<std::vector<SaveResult>>(answer), sent);
  }
  return sent;
}

CallAnswer TimeTrackingSync::Impl::Upsert(std::span<const CrmRecord> batch,
                                          const Directory& directory) {
  std::vector<Fields> bodies;
  bodies.reserve(batch.size());
  for (const CrmRecord& record : batch) {
    bodies.push_back(CrmRecordFields(record, config_.fields, directory));
  }
  Result<std::string> body =
      CollectionUpsertBody(config_.object, config_.fields.external_id, bodies, false);
  if (!body)
    return CallFailure{false, "upsert into " + config_.object + ": " + body.error().message};
  const long long before = client_.usage().api_calls;
  Result<HttpResponse> response = client_.Send("PATCH", path_, *body);
  const long long spent = client_.usage().api_calls - before;
  {
    std::lock_guard lock(mutex_);
    window_.Add(env_.clock->Now(), spent);
    stats_.api_calls_total += spent;
  }
  return Read(response, batch.size());
}

// 3.4: a well-formed collection request answers 200 with one result per record; 3.5: anything
// else is an error array. Outages, throttling and the org's exhausted API limit pass; a
// request refused as a whole (unknown object or field, no access) needs an administrator.
CallAnswer TimeTrackingSync::Impl::Read(const Result<HttpResponse>& response,
                                        std::size_t expected) const {
  const std::string what = "upsert into " + config_.object;
  if (!response) {
    const Error& error = response.error();
    std::string prefix = IsTokenError(error) ? "no Salesforce token: " : what + ": ";
    return CallFailure{IsPassing(error), prefix + error.message};
  }
  const HttpResponse& answer = *response;
  const Timestamp now = env_.clock->Now();
  if (answer.status == 200) {
    Result<std::vector<SaveResult>> results = ParseCollectionResults(answer.body, expected);
    if (!results) return CallFailure{true, what + ": " + results.error().message};
    return std::move(*results);
  }
  std::vector<SalesforceError> errors = ParseErrorArray(answer.body);
  std::string message = what + ": HTTP " + std::to_string(answer.status);
  if (!errors.empty()) message += " " + DescribeErrors(errors);
  DeliveryResult reading = ClassifyHttp(response, now, what);
  bool transient = reading.kind == DeliveryResult::Kind::kRetry ||
                   (answer.status == 403 && IsRequestLimit(errors));
  return CallFailure{transient, std::move(message), RetryAfter(answer, now)};
}

// Acknowledged figures are saved at once, so a crash later in the pass loses none of them.
void TimeTrackingSync::Impl::Acknowledge(std::span<const CrmRecord> batch,
                                         const std::vector<SaveResult>& results, Sent& sent) {
  std::vector<tracking::SyncedFigure> saved;
  long long refused = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (results[i].success) {
      tracking::SyncedFigure figure = Acknowledgement(batch[i]);
      acked_[figure.key] = figure;
      saved.push_back(std::move(figure));
      continue;
    }
    if (sent.refused + refused < static_cast<long long>(kRefusalsShown)) {
      if (!sent.refusals.empty()) sent.refusals += "; ";
      sent.refusals += batch[i].figure.key + ": " + DescribeErrors(results[i].errors);
    }
    ++refused;
  }
  sent.acknowledged += static_cast<long long>(saved.size());
  sent.refused += refused;
  {
    std::lock_guard lock(mutex_);
    stats_.records_upserted += static_cast<long long>(saved.size());
    stats_.records_refused += refused;
  }
  if (saved.empty()) return;
  Status stored = store_.SaveSyncState(target_, saved, std::nullopt);
  if (!stored.ok() && !save_failing_) {
    Log(LogLevel::kWarning,
        "cannot save acknowledged figures (they are sent again after a restart): " +
            stored.error().message);
  }
  save_failing_ = !stored.ok();
}

// ---- outcomes ----------------------------------------------------------------------------------

Millis TimeTrackingSync::Impl::Backoff(int failures) {
  Millis base = kFirstBackoff;
  for (int i = 1; i < failures && base < kMaxBackoff; ++i) base *= 2;
  base = std::min(base, kMaxBackoff);
  std::uniform_int_distribution<long long> jitter(0, base.count() / 2);
  return base - Millis(jitter(random_));  // equal jitter: [base/2, base]
}

void TimeTrackingSync::Impl::SetPending(long long pending) {
  std::lock_guard lock(mutex_);
  stats_.pending_records = pending;
}

Timestamp TimeTrackingSync::Impl::Succeeded(Timestamp now, const Sent& sent) {
  std::lock_guard lock(mutex_);
  ++stats_.passes_ok;
  stats_.last_success = now;
  stats_.consecutive_failures = 0;
  config_error_logged_ = false;
  if (sent.refused > 0) {
    last_error_ = "Salesforce refused " + std::to_string(sent.refused) +
                  " record(s), sent again next pass: " + sent.refusals;
    if (!refusing_) Log(LogLevel::kWarning, *last_error_);
  }
  refusing_ = sent.refused > 0;
  if (state_ != PassState::kIdle) Log(LogLevel::kInfo, "syncing again");
  state_ = PassState::kIdle;
  next_pass_ = now + std::chrono::seconds(std::max(schedule_.interval_seconds, 1));
  return *next_pass_;
}

Timestamp TimeTrackingSync::Impl::Failed(Timestamp now, const CallFailure& failure) {
  std::lock_guard lock(mutex_);
  ++stats_.passes_failed;
  int failures = ++stats_.consecutive_failures;
  stats_.last_failure = now;
  last_error_ = failure.message;
  Millis wait = failure.transient ? Backoff(failures) : kMaxBackoff;
  if (failure.retry_after) wait = std::max(wait, *failure.retry_after);
  if (!failure.transient && !config_error_logged_) {
    Log(LogLevel::kError,
        failure.message + "; check crm_sync.object (" + config_.object +
            "), crm_sync.fields and the integration user's access; retrying every " +
            std::to_string(kMaxBackoff.count() / 1000) + " s");
    config_error_logged_ = true;
  } else if (failure.transient && state_ != PassState::kFailing) {
    Log(LogLevel::kWarning, failure.message + "; retrying with back-off");
  }
  state_ = PassState::kFailing;
  next_pass_ = now + wait;
  return *next_pass_;
}

Timestamp TimeTrackingSync::Impl::OverBudget(Timestamp now, Timestamp reopens) {
  std::lock_guard lock(mutex_);
  if (state_ != PassState::kOverBudget) {
    Log(LogLevel::kWarning, "API budget used up: " + std::to_string(window_.Count(now)) +
                                " REST calls in the last 24 hours (api_budget_per_day " +
                                std::to_string(config_.api_budget_per_day) + "); next call at " +
                                FormatTime(reopens));
  }
  state_ = PassState::kOverBudget;
  next_pass_ = reopens;
  return reopens;
}

// ---- thread and status -------------------------------------------------------------------------

void TimeTrackingSync::Impl::Start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    NameThisThread("crm-time-sync");
    Loop();
  });
}

void TimeTrackingSync::Impl::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
}

void TimeTrackingSync::Impl::Loop() {
  std::unique_lock lock(thread_mutex_);
  while (!stopping_) {
    lock.unlock();
    Timestamp next;
    try {
      next = RunOnce();
    } catch (const std::exception& error) {  // the thread's edge: log, keep the schedule
      env_.log.Swallowed("a sync pass", error.what());
      next = env_.clock->Now() + std::chrono::seconds(std::max(schedule_.interval_seconds, 1));
    }
    // The pass is due at a wall time; the wait for it runs on the monotonic clock, for as
    // long as the wall clock says is left.
    const auto left = std::max(Millis(0), next - env_.clock->Now());
    const MonotonicClock& steady = SteadyOf(env_);
    lock.lock();
    steady.WaitUntil(wake_, lock, steady.Now() + left, [this] { return stopping_; });
  }
}

CrmSyncStats TimeTrackingSync::Impl::stats() const {
  const Timestamp now = env_.clock->Now();
  std::lock_guard lock(mutex_);
  CrmSyncStats stats = stats_;
  stats.api_calls_24h = window_.Count(now);
  return stats;
}

Poco::JSON::Object::Ptr TimeTrackingSync::Impl::StatusJson() const {
  CrmSyncStats now = stats();
  Poco::JSON::Object::Ptr status = new Poco::JSON::Object;
  status->set("object", config_.object);
  status->set("interval_seconds", schedule_.interval_seconds);
  status->set("time_zone", schedule_.zone.name());
  {
    std::lock_guard lock(mutex_);
    status->set("state", std::string(StateName(state_)));
    status->set("last_error",
                last_error_ ? Poco::Dynamic::Var(*last_error_) : Poco::Dynamic::Var());
    status->set("next_pass", TimeOrNull(next_pass_));
  }
  status->set("api_calls_total", now.api_calls_total);
  status->set("api_calls_24h", now.api_calls_24h);
  status->set("api_budget_per_day", now.api_budget_per_day);
  status->set("records_upserted", now.records_upserted);
  status->set("records_refused", now.records_refused);
  status->set("passes_ok", now.passes_ok);
  status->set("passes_failed", now.passes_failed);
  status->set("pending_records", now.pending_records);
  status->set("consecutive_failures", now.consecutive_failures);
  status->set("last_success", TimeOrNull(now.last_success));
  status->set("last_failure", TimeOrNull(now.last_failure));
  status->set("done_through",
              now.done_through ? Poco::Dynamic::Var(*now.done_through) : Poco::Dynamic::Var());
  // The status is still built as a Poco object; the client's plain details join it through
  // their JSON text.
  status->set("salesforce", Poco::JSON::Parser().parse(DetailsJson(client_.Details())));
  return status;
}

// ---- TimeTrackingSync --------------------------------------------------------------------------

TimeTrackingSync::TimeTrackingSync(CrmSyncConfig config, Schedule schedule, ConnectorEnv env,
                                   tracking::TimeStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(schedule), std::move(env), store)) {
}

TimeTrackingSync::~TimeTrackingSync() = default;

void TimeTrackingSync::SetDirectory(Directory directory) {
  impl_->SetDirectory(std::move(directory));
}

Status TimeTrackingSync::Load() { return impl_->Load(); }

Timestamp TimeTrackingSync::RunOnce() { return impl_->RunOnce(); }

void TimeTrackingSync::Start() { impl_->Start(); }

void TimeTrackingSync::Stop() { impl_->Stop(); }

CrmSyncStats TimeTrackingSync::stats() const { return impl_->stats(); }

Poco::JSON::Object::Ptr TimeTrackingSync::StatusJson() const { return impl_->StatusJson(); }

}  // namespace presence::connectors
