// The delivery schedule's rules, on a fake timeline: order per user, coalescing, back-off with
// jitter and Retry-After, pauses of the whole connector vs one user, rate limit, keep-alive.
#include "connectors/delivery/outbox_queue.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using presence::FromEpochMillis;
using tracking::OutboxItem;

const Timestamp kT0 = FromEpochMillis(1'800'000'000'000);

Timestamp At(int64_t ms) { return kT0 + Millis(ms); }

OutboxItem Row(int64_t id, const std::string& user, const std::string& label = "Lunch") {
  OutboxItem item;
  item.id = id;
  item.connector = "test";
  item.change.agent = user;
  item.change.label = label;
  item.change.at = At(id);
  return item;
}

DeliveryPolicy Policy(bool coalesce) {
  DeliveryPolicy policy;
  policy.coalesce = coalesce;
  policy.initial_backoff = Millis(1000);
  policy.max_backoff = Millis(60000);
  return policy;
}

// Jitter fixed at the middle: a back-off of B waits exactly 0.75 B.
OutboxQueue MakeQueue(DeliveryPolicy policy) {
  return OutboxQueue(std::move(policy), [] { return 0.5; });
}

BOOST_AUTO_TEST_SUITE(outbox_queue_test)

BOOST_AUTO_TEST_CASE(rows_of_one_user_go_one_at_a_time_in_order) {
  OutboxQueue queue = MakeQueue(Policy(false));
  for (int64_t id : {1, 2, 3}) queue.Add(Row(id, "1001"));
  for (int64_t id : {1, 2, 3}) {
    auto task = queue.Next(At(0));
    BOOST_REQUIRE(task);
    BOOST_TEST(task->delivery.id == id);
    BOOST_TEST(!queue.Next(At(0)));  // the user's row is in flight: nothing else of theirs
    BOOST_TEST(queue.Finish(*task, DeliveryResult::Delivered(), At(0)) == std::vector<int64_t>{id});
  }
  BOOST_TEST(!queue.Next(At(0)));
  BOOST_TEST(queue.stats().delivered == 3u);
  BOOST_TEST(queue.stats().depth == 0u);
}

BOOST_AUTO_TEST_CASE(coalescing_delivers_only_the_newest_waiting_row) {
  OutboxQueue queue = MakeQueue(Policy(true));
  for (int64_t id : {1, 2, 3}) queue.Add(Row(id, "1001"));
  auto task = queue.Next(At(0));
  BOOST_REQUIRE(task);
  BOOST_TEST(task->delivery.id == 3);
  BOOST_TEST(task->dropped == (std::vector<int64_t>{1, 2}));
  BOOST_TEST(queue.stats().coalesced == 2u);
  BOOST_TEST(queue.stats().depth == 1u);
}

// A connector whose payloads are not only "the latest" folds each dropped row's into the next,
// oldest first, so what only a skipped row asked for still reaches the delivery.
BOOST_AUTO_TEST_CASE(coalescing_folds_the_dropped_rows_payloads_into_the_newest) {
  DeliveryPolicy policy = Policy(true);
  policy.merge_payloads = [](const std::string& older, const std::string& newer) {
    return older + "+" + newer;
  };
  OutboxQueue queue = MakeQueue(policy);
  for (int64_t id : {1, 2, 3}) {
    OutboxItem row = Row(id, "1001");
    row.payload = "p" + std::to_string(id);
    queue.Add(row);
  }
  auto task = queue.Next(At(0));
  BOOST_REQUIRE(task);
  BOOST_TEST(task->delivery.id == 3);
  BOOST_TEST(task->delivery.payload == "p1+p2+p3");
  // Without a merge the newest payload stands alone.
  OutboxQueue plain = MakeQueue(Policy(true));
  for (int64_t id : {1, 2}) {
    OutboxItem row = Row(id, "1001");
    row.payload = "p" + std::to_string(id);
    plain.Add(row);
  }
  BOOST_TEST(plain.Next(At(0))->delivery.payload == "p2");
}

BOOST_AUTO_TEST_CASE(rows_arriving_during_a_delivery_wait_for_it_then_coalesce) {
  OutboxQueue queue = MakeQueue(Policy(true));
  queue.Add(Row(1, "1001"));
  auto first = queue.Next(At(0));
  queue.Add(Row(2, "1001", "Meeting"));
  queue.Add(Row(3, "1001", "Ready"));
  BOOST_TEST(!queue.Next(At(0)));
  queue.Finish(*first, DeliveryResult::Delivered(), At(0));
  auto next = queue.Next(At(0));
  BOOST_REQUIRE(next);
  BOOST_TEST(next->delivery.id == 3);
  BOOST_TEST(next->delivery.change.label == "Ready");
  BOOST_TEST(next->dropped == std::vector<int64_t>{2});
}

BOOST_AUTO_TEST_CASE(users_are_served_oldest_row_first_and_side_by_side) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "b"));
  queue.Add(Row(2, "a"));
  queue.Add(Row(3, "b"));
  auto first = queue.Next(At(0));
  auto second = queue.Next(At(0));  // another user while the first is in flight
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  BOOST_TEST(first->user == "b");
  BOOST_TEST(second->user == "a");
  BOOST_TEST(queue.stats().in_flight == 2u);
}

// failures in a row -> wait: 0.75 x min(1 s x 2^(n-1), 60 s)
BOOST_DATA_TEST_CASE(whole_connector_back_off_doubles_with_jitter_up_to_the_cap,
                     data::make({1, 2, 3, 4, 6, 7, 10}) ^
                         data::make({750, 1500, 3000, 6000, 24000, 45000, 45000}),
                     failures, expected_ms) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "1001"));
  queue.Add(Row(2, "1002"));
  Timestamp now = At(0);
  for (int i = 1; i <= failures; ++i) {
    auto task = queue.Next(now);
    BOOST_REQUIRE(task);
    queue.Finish(*task, DeliveryResult::Retry("down"), now);
    BOOST_REQUIRE(queue.stats().paused_until);
    if (i < failures) now = *queue.stats().paused_until;
  }
  BOOST_TEST((*queue.stats().paused_until - now).count() == expected_ms);
  // Paused means every user waits, not only the one whose delivery failed.
  BOOST_TEST(!queue.Next(now + Millis(expected_ms - 1)));
  BOOST_TEST((queue.NextWake() == std::optional<Timestamp>(now + Millis(expected_ms))));
  BOOST_TEST(queue.Next(now + Millis(expected_ms)).has_value());
}

BOOST_AUTO_TEST_CASE(retry_after_longer_than_the_back_off_is_honoured) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "1001"));
  auto task = queue.Next(At(0));
  queue.Finish(*task, DeliveryResult::Retry("429", Millis(5000)), At(0));
  BOOST_TEST(!queue.Next(At(4999)));
  auto again = queue.Next(At(5000));
  BOOST_REQUIRE(again);
  BOOST_TEST(again->delivery.id == 1);
  BOOST_TEST(again->delivery.attempt == 2);
}

BOOST_AUTO_TEST_CASE(a_retry_of_one_user_does_not_hold_up_the_others) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "1001"));
  queue.Add(Row(2, "1002"));
  auto task = queue.Next(At(0));
  BOOST_TEST(task->user == "1001");
  queue.Finish(*task, DeliveryResult::Retry("busy line", std::nullopt, false), At(0));
  auto other = queue.Next(At(0));
  BOOST_REQUIRE(other);
  BOOST_TEST(other->user == "1002");
  queue.Finish(*other, DeliveryResult::Delivered(), At(0));
  BOOST_TEST(!queue.Next(At(749)));
  BOOST_TEST(queue.Next(At(750))->user == "1001");
}

BOOST_AUTO_TEST_CASE(a_rejected_row_is_removed_and_does_not_pause_the_connector) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "1001"));
  queue.Add(Row(2, "1001"));
  auto task = queue.Next(At(0));
  BOOST_TEST(queue.Finish(*task, DeliveryResult::Rejected("unknown user"), At(0)) ==
             std::vector<int64_t>{1});
  BOOST_TEST(queue.stats().rejected == 1u);
  BOOST_TEST(queue.stats().last_error == "unknown user");
  BOOST_TEST(!queue.stats().paused_until);
  BOOST_TEST(queue.Next(At(0))->delivery.id == 2);
}

BOOST_AUTO_TEST_CASE(a_success_ends_the_pause_and_resets_the_back_off) {
  OutboxQueue queue = MakeQueue(Policy(false));
  queue.Add(Row(1, "1001"));
  Timestamp now = At(0);
  for (int i = 0; i < 3; ++i) {
    auto task = queue.Next(now);
    queue.Finish(*task, DeliveryResult::Retry("down"), now);
    now = *queue.stats().paused_until;
  }
  auto task = queue.Next(now);
  queue.Finish(*task, DeliveryResult::Delivered(), now);
  BOOST_TEST(queue.stats().consecutive_failures == 0);
  queue.Add(Row(2, "1001"));
  auto next = queue.Next(now);
  queue.Finish(*next, DeliveryResult::Retry("down"), now);
  BOOST_TEST((*queue.stats().paused_until - now).count() == 750);  // back to the first step
}

BOOST_AUTO_TEST_CASE(the_rate_limit_spaces_deliveries) {
  DeliveryPolicy policy = Policy(false);
  policy.rate_per_second = 4;
  policy.burst = 2;
  OutboxQueue queue = MakeQueue(policy);
  for (int64_t id = 1; id <= 4; ++id) queue.Add(Row(id, "u" + std::to_string(id)));
  BOOST_TEST(queue.Next(At(0)).has_value());
  BOOST_TEST(queue.Next(At(0)).has_value());  // the burst
  BOOST_TEST(!queue.Next(At(0)));
  BOOST_TEST((queue.NextWake() == std::optional<Timestamp>(At(250))));
  BOOST_TEST(!queue.Next(At(249)));
  BOOST_TEST(queue.Next(At(250)).has_value());
}

BOOST_AUTO_TEST_CASE(keep_alive_re_delivers_the_latest_state_when_nothing_newer_waits) {
  DeliveryPolicy policy = Policy(true);
  policy.refresh_every = Millis(240000);
  OutboxQueue queue = MakeQueue(policy);
  Change lunch = Row(0, "1001").change;
  queue.Remember(lunch);  // after a start the remote state is unknown: re-assert it at once
  auto first = queue.Next(At(0));
  BOOST_REQUIRE(first);
  BOOST_TEST(first->delivery.refresh);
  BOOST_TEST(first->delivery.id == 0);
  BOOST_TEST(queue.Finish(*first, DeliveryResult::Delivered(), At(0)).empty());
  BOOST_TEST(!queue.Next(At(239999)));
  BOOST_TEST((queue.NextWake() == std::optional<Timestamp>(At(240000))));
  // A new change replaces the planned refresh and goes first.
  queue.Add(Row(5, "1001", "Ready"));
  auto change = queue.Next(At(1000));
  BOOST_REQUIRE(change);
  BOOST_TEST(!change->delivery.refresh);
  queue.Finish(*change, DeliveryResult::Delivered(), At(1000));
  BOOST_TEST(!queue.Next(At(240999)));
  auto refresh = queue.Next(At(241000));
  BOOST_REQUIRE(refresh);
  BOOST_TEST(refresh->delivery.refresh);
  BOOST_TEST(refresh->delivery.change.label == "Ready");
  queue.Finish(*refresh, DeliveryResult::Delivered(), At(241000));
  BOOST_TEST(queue.stats().refreshed == 2u);
  BOOST_TEST(queue.stats().delivered == 1u);
}

BOOST_AUTO_TEST_CASE(without_keep_alive_nothing_is_re_delivered) {
  OutboxQueue queue = MakeQueue(Policy(true));
  queue.Remember(Row(0, "1001").change);
  BOOST_TEST(!queue.Next(At(0)));
  BOOST_TEST(!queue.NextWake());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
