#pragma once

// A shared_ptr that one thread replaces whole while other threads read it.

#include <memory>

namespace presence {

// Same contract as std::atomic<std::shared_ptr<T>> (load and store are atomic with respect to
// each other; what the pointer points to is not guarded), built on std::atomic_load and
// std::atomic_store over a plain shared_ptr. g++ 12's std::atomic<std::shared_ptr> makes
// ThreadSanitizer report races on correct code; these free functions do not (design.md 8).
template <class T>
class AtomicShared {
 public:
  AtomicShared() = default;
  explicit AtomicShared(std::shared_ptr<T> value) : value_(std::move(value)) {}
  AtomicShared(const AtomicShared&) = delete;
  AtomicShared& operator=(const AtomicShared&) = delete;

  std::shared_ptr<T> load() const { return std::atomic_load(&value_); }
  void store(std::shared_ptr<T> value) { std::atomic_store(&value_, std::move(value)); }

 private:
  std::shared_ptr<T> value_;
};

}  // namespace presence
